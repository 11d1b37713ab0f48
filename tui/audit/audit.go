// Package audit is the console's audit pane: the hash-chained events, the
// chain's verification state, and the export.
package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui/table"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// VerifyMsg asks the root to verify the chain; ExportMsg to export.
type (
	VerifyMsg struct{}
	ExportMsg struct{}
)

// KeyMap is the pane's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Verify, Export, Open, Back key.Binding
}

// DefaultKeyMap returns the pane's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Verify:   key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify chain")),
		Export:   key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export post-mortem")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "event data")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Verify, k.Export, k.Open} }
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Verify, k.Export, k.Open, k.Back}}
}

// Model is the pane.
type Model struct {
	th            theme.Theme
	keys          KeyMap
	tbl           table.Model
	byID          map[string]store.AuditEvent
	verify        *store.VerifyResult
	note          string
	detail        bool
	width, height int
}

// New makes the pane.
func New(th theme.Theme) Model {
	cols := []table.Column{{Title: "SEQ", Width: 7}, {Title: "TIME (UTC)", Width: 19}, {Title: "ACTOR", Width: 14},
		{Title: "KIND", Width: 24}, {Title: "SUBJECT", Flex: true}}
	return Model{th: th, keys: DefaultKeyMap(), tbl: table.New(cols, th.Header, th.Cursor, th.Selected), byID: map[string]store.AuditEvent{}}
}

// SetSize sets the pane size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, h-3)
}

// SetEvents replaces the events shown (newest first).
func (m *Model) SetEvents(evs []store.AuditEvent) {
	rows := make([]table.Row, 0, len(evs))
	m.byID = make(map[string]store.AuditEvent, len(evs))
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		id := fmt.Sprint(ev.Seq)
		m.byID[id] = ev
		rows = append(rows, table.Row{ID: id, Cells: []string{id, ev.At.UTC().Format(time.DateTime), ev.Actor, ev.Kind, ev.Subject}})
	}
	m.tbl.SetRows(rows)
}

// SetVerify shows the chain's state.
func (m *Model) SetVerify(v store.VerifyResult) { m.verify = &v }

// SetNote shows a one-line message (the export's result).
func (m *Model) SetNote(s string) { m.note = s }

// Keys returns the pane's key map.
func (m Model) Keys() KeyMap { return m.keys }

// Update handles keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	if m.detail {
		if key.Matches(k, m.keys.Back, m.keys.Open) {
			m.detail = false
		}
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
	case key.Matches(k, m.keys.Open):
		m.detail = m.tbl.CursorID() != ""
	case key.Matches(k, m.keys.Verify):
		return m, func() tea.Msg { return VerifyMsg{} }
	case key.Matches(k, m.keys.Export):
		return m, func() tea.Msg { return ExportMsg{} }
	}
	return m, nil
}

// View renders exactly the pane's height.
func (m Model) View() string {
	th := m.th
	state := th.Dim.Render("chain not verified yet: press v")
	if v := m.verify; v != nil {
		if v.OK {
			state = th.Good.Render(fmt.Sprintf("chain intact: %d events", v.Events)) + th.Dim.Render("  head "+v.Head)
		} else {
			state = th.Bad.Render(fmt.Sprintf("CHAIN BROKEN at event %d: %s", v.FirstBad.Seq, v.FirstBad.Reason))
		}
	}
	if m.detail {
		ev := m.byID[m.tbl.CursorID()]
		var pretty any
		_ = json.Unmarshal(ev.Data, &pretty)
		data, _ := json.MarshalIndent(pretty, "", "  ")
		lines := []string{th.Bold.Render(fmt.Sprintf("Event %d · %s · %s", ev.Seq, ev.Kind, sanitize.Display(ev.Subject))),
			"actor " + sanitize.Display(ev.Actor) + " · " + ev.At.UTC().Format(time.RFC3339Nano), "prev " + ev.PrevHash, "hash " + ev.Hash, ""}
		lines = append(lines, strings.Split(sanitize.Display(string(data)), "\\n")...)
		lines = append(lines, "", th.Dim.Render("esc: back"))
		out := make([]string, m.height)
		for i := 0; i < m.height && i < len(lines); i++ {
			out[i] = ansi.Truncate(lines[i], m.width, "…")
		}
		return strings.Join(out, "\n")
	}
	foot := "v: verify   e: export   enter: event data"
	above := ""
	if m.note != "" {
		foot = sanitize.Display(m.note)
		// A note too wide for one line (an export's path) takes the blank
		// line above as well: the end of a path is what matters.
		if ansi.StringWidth(foot) > m.width && m.width > 0 {
			first, rest := splitNote(foot, m.width)
			above, foot = th.Dim.Render(first), rest
			if w := ansi.StringWidth(foot); w > m.width {
				foot = ansi.TruncateLeft(foot, w-m.width+1, "…")
			}
		}
	}
	return ansi.Truncate(state, m.width, "…") + "\n" + m.tbl.View() + "\n" + above + "\n" + th.Dim.Render(ansi.Truncate(foot, m.width, ""))
}

// splitNote cuts s into a first line of at most width cells and the rest,
// after the last space (or, failing that, '/') of that first line, so that
// a path breaks between its directories.
func splitNote(s string, width int) (string, string) {
	head := ansi.Truncate(s, width, "")
	cut := strings.LastIndex(head, " ")
	if cut < len(head)/3 {
		cut = strings.LastIndex(head, "/")
	}
	if cut <= 0 {
		return head, s[len(head):]
	}
	return s[:cut], strings.TrimLeft(s[cut:], " ")
}
