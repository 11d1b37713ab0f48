package tui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/tourniquet-ir/tourniquet/tui/audit"
	"github.com/tourniquet-ir/tourniquet/tui/overview"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// palette is the command palette (ctrl+p or :): every action by name.
type palette struct {
	input  textinput.Model
	cursor int
}

type command struct {
	name string
	run  func(m Model) (tea.Model, tea.Cmd)
}

func commands() []command {
	gotoPane := func(i int) func(m Model) (tea.Model, tea.Cmd) {
		return func(m Model) (tea.Model, tea.Cmd) { m.pane = i; return m, nil }
	}
	return []command{
		{"Scan " + "this target", func(m Model) (tea.Model, tea.Cmd) { return m.Update(overview.ScanMsg{}) }},
		{"Scan the cluster (console --kube)", func(m Model) (tea.Model, tea.Cmd) { return m.Update(overview.ScanClusterMsg{}) }},
		{"Go to Overview", gotoPane(paneOverview)},
		{"Go to Evidence", gotoPane(paneEvidence)},
		{"Go to Credentials (rotate from there with r)", gotoPane(paneCredentials)},
		{"Go to Playbooks", gotoPane(paneRuns)},
		{"Go to Gateway", gotoPane(paneGateway)},
		{"Go to Audit", gotoPane(paneAudit)},
		{"Verify the audit chain", func(m Model) (tea.Model, tea.Cmd) { m.pane = paneAudit; return m.Update(audit.VerifyMsg{}) }},
		{"Export the post-mortem", func(m Model) (tea.Model, tea.Cmd) { m.pane = paneAudit; return m.Update(audit.ExportMsg{}) }},
		{"Show help", func(m Model) (tea.Model, tea.Cmd) { m.showHelp = true; return m, nil }},
		{"Quit", func(m Model) (tea.Model, tea.Cmd) { return m.quit() }},
	}
}

func newPalette() *palette {
	ti := textinput.New()
	ti.Prompt = ": "
	ti.Placeholder = "type to filter commands"
	ti.SetWidth(40)
	return &palette{input: ti}
}

func (p *palette) matches() []command {
	q := strings.ToLower(p.input.Value())
	var out []command
	for _, c := range commands() {
		if strings.Contains(strings.ToLower(c.name), q) {
			out = append(out, c)
		}
	}
	return out
}

func (m Model) paletteKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	p := m.palette
	switch k.String() {
	case "esc", "ctrl+c":
		m.palette = nil
		return m, nil
	case "up", "ctrl+k":
		p.cursor = max(0, p.cursor-1)
		return m, nil
	case "down", "ctrl+j":
		p.cursor = min(len(p.matches())-1, p.cursor+1)
		return m, nil
	case "enter":
		ms := p.matches()
		m.palette = nil
		if p.cursor < len(ms) {
			return ms[p.cursor].run(m)
		}
		return m, nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(k)
	p.cursor = 0
	return m, cmd
}

func (p *palette) view(th theme.Theme, width int) string {
	w := min(width-10, 70)
	lines := []string{p.input.View(), ""}
	for i, c := range p.matches() {
		if i == p.cursor {
			lines = append(lines, th.Cursor.Render("▶ "+c.name))
		} else {
			lines = append(lines, "  "+c.name)
		}
	}
	return th.Dialog.Width(w).Render(strings.Join(lines, "\n"))
}
