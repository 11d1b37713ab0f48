// Package gatewaypane is the console's Gateway pane: the embedded LLM
// gateway's routes, the fingerprint of the provider key each one uses, the
// last canary verification, and the live request and error counts, from
// the report a running gateway writes every two seconds.
package gatewaypane

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/gateway"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/tui/table"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// KeyMap is the pane's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown key.Binding
}

// DefaultKeyMap returns the pane's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
	}
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Up, k.Down} }
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}}
}

// Model is the pane.
type Model struct {
	th            theme.Theme
	keys          KeyMap
	tbl           table.Model
	rep           *gateway.Report
	err           string
	width, height int
}

// New makes the pane.
func New(th theme.Theme) Model {
	cols := []table.Column{{Title: "MODEL", Width: 20}, {Title: "PROVIDER", Width: 9}, {Title: "KEY REF", Width: 18},
		{Title: "ACTIVE KEY", Width: 40}, {Title: "LAST VERIFICATION", Flex: true}, {Title: "REQ/MIN", Width: 8}, {Title: "ERRORS", Width: 10}}
	return Model{th: th, keys: DefaultKeyMap(), tbl: table.New(cols, th.Header, th.Cursor, th.Selected)}
}

// SetSize sets the pane size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, max(1, h-3))
}

// SetReport shows a report (nil with err when it could not be read).
func (m *Model) SetReport(r *gateway.Report, err error) {
	if err != nil {
		m.err = err.Error()
		return
	}
	m.rep, m.err = r, ""
	rows := make([]table.Row, 0, len(r.Routes))
	for _, row := range r.Rows() {
		k, verify, rate, errs := row.Key, "-", "-", "-"
		switch {
		case row.Live && k == "":
			k = "none verified"
		case !row.Live && k == "":
			k = "MISSING in keystore"
		case !row.Live:
			k += " (keystore)"
		}
		if row.Verified != nil {
			verify = row.Verified.UTC().Format(time.TimeOnly) + " UTC ok"
			if !row.VerifyOK {
				verify = row.Verified.UTC().Format(time.TimeOnly) + " UTC FAILED, old key kept: " + row.VerifyEr
			}
		}
		if row.Live {
			rate, errs = fmt.Sprintf("%.1f", row.PerMin), fmt.Sprintf("%d/%d", row.Errors, row.Requests)
		}
		tr := table.Row{ID: row.Model, Cells: []string{row.Model, row.Provider, row.KeyRef, k, verify, rate, errs}}
		if row.Verified != nil && !row.VerifyOK || strings.HasPrefix(k, "MISSING") {
			tr.Styles = map[int]lipgloss.Style{3: m.th.Bad, 4: m.th.Bad}
		}
		rows = append(rows, tr)
	}
	m.tbl.SetRows(rows)
}

// Keys returns the pane's key map.
func (m Model) Keys() KeyMap { return m.keys }

// Update handles keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Up):
		m.tbl.Move(-1)
	case key.Matches(k, m.keys.Down):
		m.tbl.Move(1)
	case key.Matches(k, m.keys.PageUp):
		m.tbl.Page(-1)
	case key.Matches(k, m.keys.PageDown):
		m.tbl.Page(1)
	}
	return m, nil
}

// View renders exactly the pane's height.
func (m Model) View() string {
	th := m.th
	var head string
	switch {
	case m.err != "":
		head = th.Bad.Render("cannot read the gateway's state: " + sanitize.Display(m.err))
	case m.rep == nil:
		head = th.Dim.Render("reading the gateway's state…")
	case m.rep.Running:
		head = th.Good.Render("● ") + sanitize.Display(m.rep.Headline())
	default:
		head = th.Dim.Render("○ ") + sanitize.Display(m.rep.Headline())
	}
	sub := ""
	if m.rep != nil {
		sub = th.Dim.Render(fmt.Sprintf("%d provider keys in the encrypted keystore; apps hold scoped virtual keys; a route moves to a new key only after a canary request with it succeeds", len(m.rep.Keystore)))
		if m.rep.Note != "" {
			sub = th.Warn.Render("keystore: " + sanitize.Display(m.rep.Note))
		}
	}
	body := m.tbl.View()
	if m.rep != nil && len(m.rep.Routes) == 0 {
		lines := []string{"No routes yet. Import the LiteLLM config that was compromised, or add routes:",
			"  tourniquet gateway import-litellm /etc/litellm/config.yaml",
			"  tourniquet gateway keys create --routes gpt-4o --budget 2000000",
			"  tourniquet gateway serve"}
		body = strings.Join(lines, "\n") + strings.Repeat("\n", max(0, m.height-3-len(lines)))
	}
	foot := "r on an LLM credential (pane 3) whose key the gateway holds: rotate and re-route"
	return ansi.Truncate(head, m.width, "…") + "\n" + ansi.Truncate(sub, m.width, "…") + "\n" + body + "\n" + th.Dim.Render(ansi.Truncate(foot, m.width, ""))
}
