// Package runs is the console's playbook pane: runs with their steps, the
// live run's events, and the keys to resume and approve.
package runs

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui/table"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// ResumeMsg asks the root to resume a run.
type ResumeMsg struct{ RunID string }

// ApproveMsg asks the root to show the approval dialog for a waiting step.
type ApproveMsg struct{ RunID, Step string }

// KeyMap is the pane's keys.
type KeyMap struct {
	Up, Down, Resume, Approve key.Binding
}

// DefaultKeyMap returns the pane's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Resume:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "resume run")),
		Approve: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve waiting step")),
	}
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Approve, k.Resume} }
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Approve, k.Resume}}
}

// Model is the pane.
type Model struct {
	th            theme.Theme
	keys          KeyMap
	tbl           table.Model
	runs          map[string]store.Run
	live          string // the run this console is driving
	events        []playbooks.Event
	spin          spinner.Model
	width, height int
}

// New makes the pane.
func New(th theme.Theme) Model {
	cols := []table.Column{{Title: "RUN", Width: 13}, {Title: "PLAYBOOK", Width: 26}, {Title: "CREDENTIAL", Width: 16},
		{Title: "STATE", Width: 18}, {Title: "UPDATED", Flex: true}}
	sp := spinner.New(spinner.WithSpinner(spinner.MiniDot))
	return Model{th: th, keys: DefaultKeyMap(), tbl: table.New(cols, th.Header, th.Cursor, th.Selected), runs: map[string]store.Run{}, spin: sp}
}

// SetSize sets the pane size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, max(3, min(len(m.runs)+1, h/3)))
}

// SetRuns replaces the runs (with their steps).
func (m *Model) SetRuns(rs []store.Run) {
	m.runs = make(map[string]store.Run, len(rs))
	rows := make([]table.Row, 0, len(rs))
	for _, r := range rs {
		m.runs[r.ID] = r
		state := r.State
		if r.State == store.RunAwaitingApproval {
			for _, s := range r.Steps {
				if s.State == store.StepAwaitingApproval {
					state = "WAITING: " + s.Name
				}
			}
		}
		rows = append(rows, table.Row{ID: r.ID, Cells: []string{r.ID, r.Playbook, r.CredentialID, state, r.UpdatedAt.UTC().Format("2006-01-02 15:04:05")}})
	}
	m.tbl.SetRows(rows)
	m.SetSize(m.width, m.height)
}

// SetLive marks the run this console is driving (its events are shown).
func (m *Model) SetLive(runID string) tea.Cmd {
	if runID != m.live {
		m.events = nil
	}
	m.live = runID
	if runID != "" {
		m.Select(runID)
		return m.spin.Tick
	}
	return nil
}

// Live is the run being driven, or "".
func (m Model) Live() string { return m.live }

// AddEvent records a live run's event.
func (m *Model) AddEvent(ev playbooks.Event) {
	m.events = append(m.events, ev)
	if len(m.events) > 200 {
		m.events = m.events[len(m.events)-200:]
	}
}

// Select puts the cursor on a run.
func (m *Model) Select(id string) {
	for i := 0; i < m.tbl.Len(); i++ {
		if m.tbl.CursorID() == id {
			return
		}
		m.tbl.Move(1)
	}
	m.tbl.Home()
	for i := 0; i < m.tbl.Len() && m.tbl.CursorID() != id; i++ {
		m.tbl.Move(1)
	}
}

// Keys returns the pane's key map.
func (m Model) Keys() KeyMap { return m.keys }

// Update handles keys and spinner ticks.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case spinner.TickMsg:
		if m.live == "" {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, m.keys.Up):
			m.tbl.Move(-1)
		case key.Matches(msg, m.keys.Down):
			m.tbl.Move(1)
		case key.Matches(msg, m.keys.Resume):
			if id := m.tbl.CursorID(); id != "" && m.live == "" {
				return m, func() tea.Msg { return ResumeMsg{RunID: id} }
			}
		case key.Matches(msg, m.keys.Approve):
			r, ok := m.runs[m.tbl.CursorID()]
			if !ok || m.live != "" {
				return m, nil
			}
			for _, s := range r.Steps {
				if s.State == store.StepAwaitingApproval {
					return m, func() tea.Msg { return ApproveMsg{RunID: r.ID, Step: s.Name} }
				}
			}
		}
	}
	return m, nil
}

// View renders exactly the pane's height.
func (m Model) View() string {
	th := m.th
	if len(m.runs) == 0 {
		lines := []string{th.Dim.Render("No playbook runs yet."), "",
			"Start one from the Credentials pane: press " + th.Key.Render("3") + ", pick a credential, press " + th.Key.Render("r") + "."}
		return fit(lines, m.width, m.height)
	}
	var lines []string
	lines = append(lines, strings.Split(m.tbl.View(), "\n")...)
	r, ok := m.runs[m.tbl.CursorID()]
	if ok {
		lines = append(lines, "", th.BoxTitle.Render(fmt.Sprintf("Run %s · %s · %s", r.ID, r.Playbook, strings.ToUpper(r.State))))
		if r.Error != "" {
			lines = append(lines, th.Warn.Render("  "+sanitize.Display(r.Error)))
		}
		done := 0
		for _, s := range r.Steps {
			icon, st := th.StepState(s.State)
			if s.State == store.StepDone || s.State == store.StepSkipped {
				done++
			}
			if r.ID == m.live && s.State == store.StepIntent {
				icon = m.spin.View()
			}
			extra := ""
			switch {
			case s.State == store.StepAwaitingApproval:
				extra = th.Accent.Render("  waiting for approval: press a")
			case s.ApprovedBy != "":
				extra = th.Dim.Render("  approved by " + sanitize.Display(s.ApprovedBy))
			case s.Error != "":
				extra = th.Bad.Render("  " + sanitize.Display(s.Error))
			}
			mark := " "
			if s.Destructive {
				mark = th.Warn.Render("!")
			}
			lines = append(lines, fmt.Sprintf("  %s %s %2d. %-16s %s%s", st.Render(icon), mark, s.Index+1, s.Name, sanitize.Display(s.Title), extra))
		}
		lines = append(lines, th.Dim.Render(fmt.Sprintf("  %d of %d steps finished   ! = destructive (asks first)   R: resume   a: approve", done, len(r.Steps))))
	}
	if m.live != "" && len(m.events) > 0 {
		lines = append(lines, "", th.BoxTitle.Render("Live events"))
		room := m.height - len(lines)
		evs := m.events
		if room > 0 && len(evs) > room {
			evs = evs[len(evs)-room:]
		}
		for _, ev := range evs {
			lines = append(lines, "  "+ev.Time.UTC().Format("15:04:05")+" "+sanitize.Display(ev.Type)+" "+sanitize.Display(ev.Step)+" "+sanitize.Display(ev.Message))
		}
	}
	return fit(lines, m.width, m.height)
}

func fit(lines []string, w, h int) string {
	out := make([]string, h)
	for i := 0; i < h && i < len(lines); i++ {
		out[i] = ansi.Truncate(lines[i], w, "…")
	}
	return strings.Join(out, "\n")
}
