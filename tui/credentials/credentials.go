// Package credentials is the console's credential pane: kind, hint,
// location, exposure and rotation, with a timeline strip that draws each
// credential's last write against its host's compromise window.
package credentials

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui/table"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// RotateMsg asks the root to start the matching playbook on credentials.
type RotateMsg struct{ IDs []string }

// KeyMap is the pane's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Select, Rotate, Filter, Sort, Open, Back key.Binding
}

// DefaultKeyMap returns the pane's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Select:   key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "select")),
		Rotate:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rotate")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:     key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "why")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
	}
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Rotate, k.Select, k.Filter, k.Open} }
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown}, {k.Select, k.Rotate, k.Filter, k.Sort, k.Open, k.Back}}
}

// Window is a host's compromise window, for the timeline.
type Window struct {
	Start, End *time.Time
	Open       bool
}

// Model is the pane.
type Model struct {
	th            theme.Theme
	keys          KeyMap
	tbl           table.Model
	byID          map[string]store.Credential
	windows       map[string]Window // by host name
	now           func() time.Time
	axisFrom      time.Time
	filter        textinput.Model
	filtering     bool
	detail        bool
	width, height int
}

var expRank = map[string]string{"exposed": "0", "unknown": "1", "not_exposed": "2"}

// New makes the pane.
func New(th theme.Theme, now func() time.Time) Model {
	cols := []table.Column{
		{Title: "EXPOSURE", Width: 11}, {Title: "ROTATION", Width: 8}, {Title: "KIND", Width: 17},
		{Title: "HINT", Width: 16}, {Title: "HOST:LOCATION", Flex: true},
	}
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "filter credentials"
	ti.SetWidth(30)
	m := Model{th: th, keys: DefaultKeyMap(), tbl: table.New(cols, th.Header, th.Cursor, th.Selected), now: now, filter: ti,
		byID: map[string]store.Credential{}, windows: map[string]Window{}}
	m.tbl.SortBy(0) // exposed first
	return m
}

// SetSize sets the pane size; the timeline gets a column when there is room.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.ExtraWidth = 0
	m.tbl.Extra = nil
	if w >= 100 {
		m.tbl.ExtraWidth = min(40, w/5)
		m.tbl.Extra = m.strip
		m.tbl.ExtraTitle = m.axisTitle()
	}
	m.tbl.SetSize(w, h-3)
}

// SetData replaces credentials and host windows.
func (m *Model) SetData(creds []store.Credential, windows map[string]Window) {
	m.windows = windows
	m.byID = make(map[string]store.Credential, len(creds))
	rows := make([]table.Row, 0, len(creds))
	for _, c := range creds {
		m.byID[c.ID] = c
		el, es := m.th.Exposure(c.Exposure)
		rl, rs := m.th.Rotation(c.Rotation)
		loc := c.Path
		if c.Detail != "" {
			loc += " (" + c.Detail + ")"
		}
		rows = append(rows, table.Row{
			ID:       c.ID,
			Cells:    []string{el, rl, c.Kind, c.Hint, c.Host + ":" + loc},
			SortKeys: []string{expRank[c.Exposure]},
			Styles:   map[int]lipgloss.Style{0: es, 1: rs},
		})
	}
	// The axis starts a little before the earliest window, so the window is
	// seen with its "before".
	m.axisFrom = time.Time{}
	for _, w := range windows {
		if w.Start != nil && (m.axisFrom.IsZero() || w.Start.Before(m.axisFrom)) {
			m.axisFrom = *w.Start
		}
	}
	if m.axisFrom.IsZero() {
		m.axisFrom = m.now().AddDate(0, -3, 0)
	}
	span := m.now().Sub(m.axisFrom)
	m.axisFrom = m.axisFrom.Add(-span / 6)
	m.tbl.SetRows(rows)
	m.SetSize(m.width, m.height)
}

func (m Model) axisTitle() string {
	return "TIMELINE " + m.axisFrom.UTC().Format("01-02") + "→now"
}

// strip draws one credential's life: ─ before, █ inside the host's window
// (▓ while it is open), ▲ where the current value was written, ◀ when that
// was before the axis starts.
func (m Model) strip(r table.Row, width int) string {
	c := m.byID[r.ID]
	w := m.windows[c.Host]
	from, to := m.axisFrom, m.now()
	total := to.Sub(from)
	if total <= 0 || width < 4 {
		return strings.Repeat(" ", width)
	}
	pos := func(t time.Time) int {
		p := int(float64(width-1) * float64(t.Sub(from)) / float64(total))
		return max(0, min(width-1, p))
	}
	cells := make([]rune, width)
	for i := range cells {
		cells[i] = '─'
	}
	if w.Start != nil {
		end := width - 1
		if !w.Open && w.End != nil {
			end = pos(*w.End)
		}
		fill := '█'
		if w.Open {
			fill = '▓'
		}
		for i := pos(*w.Start); i <= end; i++ {
			cells[i] = fill
		}
	}
	if c.ModifiedAt != nil {
		if c.ModifiedAt.Before(from) {
			cells[0] = '◀'
		} else {
			cells[pos(*c.ModifiedAt)] = '▲'
		}
	}
	s := string(cells)
	switch c.Exposure {
	case "exposed":
		return m.th.Bad.Render(s)
	case "not_exposed":
		return m.th.Good.Render(s)
	}
	return m.th.Accent.Render(s)
}

// Keys returns the pane's key map.
func (m Model) Keys() KeyMap { return m.keys }

// Capturing reports whether the pane takes text input.
func (m Model) Capturing() bool { return m.filtering }

// Update handles keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	if m.filtering {
		switch k.String() {
		case "enter", "esc":
			m.filtering = false
			m.filter.Blur()
			if k.String() == "esc" {
				m.filter.SetValue("")
				m.tbl.SetFilter("")
			}
			return m, nil
		}
		var cmd tea.Cmd
		m.filter, cmd = m.filter.Update(msg)
		m.tbl.SetFilter(m.filter.Value())
		return m, cmd
	}
	if m.detail {
		if key.Matches(k, m.keys.Back, m.keys.Open) {
			m.detail = false
			return m, nil
		}
		if key.Matches(k, m.keys.Rotate) {
			m.detail = false
			return m, m.rotate()
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
	case key.Matches(k, m.keys.Select):
		m.tbl.ToggleSelect()
		m.tbl.Move(1)
	case key.Matches(k, m.keys.Sort):
		m.tbl.CycleSort()
	case key.Matches(k, m.keys.Open):
		if m.tbl.CursorID() != "" {
			m.detail = true
		}
	case key.Matches(k, m.keys.Back):
		m.filter.SetValue("")
		m.tbl.SetFilter("")
	case key.Matches(k, m.keys.Filter):
		m.filtering = true
		return m, m.filter.Focus()
	case key.Matches(k, m.keys.Rotate):
		return m, m.rotate()
	}
	return m, nil
}

func (m Model) rotate() tea.Cmd {
	ids := m.tbl.Selected()
	if len(ids) == 0 {
		return nil
	}
	return func() tea.Msg { return RotateMsg{IDs: ids} }
}

// View renders exactly the pane's height.
func (m Model) View() string {
	if m.detail {
		return m.detailView()
	}
	exposed, rotated := 0, 0
	for _, c := range m.byID {
		if c.Exposure == store.Exposed {
			exposed++
			if c.Rotation == store.RotationRotated {
				rotated++
			}
		}
	}
	status := fmt.Sprintf("%d of %d credentials · %d exposed, %d of them rotated", m.tbl.Len(), m.tbl.Total(), exposed, rotated)
	if m.tbl.Total() == 0 {
		status = "No credentials recorded yet: scan a target (s on the overview)."
	}
	top := m.th.Dim.Render(status)
	if m.filtering || m.filter.Value() != "" {
		top = m.filter.View() + "  " + top
	}
	legend := "r: rotate   space: select   enter: why   /: filter"
	if m.tbl.Extra != nil {
		legend += "   timeline: █ window ▓ still open ▲ last written"
	}
	return ansi.Truncate(top, m.width, "…") + "\n" + m.tbl.View() + "\n\n" + m.th.Dim.Render(ansi.Truncate(legend, m.width, ""))
}

func (m Model) detailView() string {
	c, ok := m.byID[m.tbl.CursorID()]
	if !ok {
		return ""
	}
	th := m.th
	d := sanitize.Display
	el, es := th.Exposure(c.Exposure)
	rl, rs := th.Rotation(c.Rotation)
	mod := "unknown"
	if c.ModifiedAt != nil {
		mod = c.ModifiedAt.UTC().Format(time.RFC3339)
	}
	lines := []string{
		th.Bold.Render(d(c.Kind)+" "+d(c.Hint)) + "   " + es.Render(el) + "   rotation: " + rs.Render(rl),
		"",
		"ID:           " + c.ID,
		"Host:         " + d(c.Host),
		"Location:     " + d(c.Path),
		"Where in it:  " + d(c.Detail),
		"Fingerprint:  " + c.Fingerprint,
		"Last written: " + mod,
		"Why:          " + d(c.Reason),
	}
	if c.Owner != "" {
		lines = append(lines, "Owner:        "+d(c.Owner))
	}
	if c.Note != "" {
		lines = append(lines, "Note:         "+d(c.Note))
	}
	if w, ok := m.windows[c.Host]; ok && w.Start != nil {
		end := "still open"
		if !w.Open && w.End != nil {
			end = w.End.UTC().Format(time.RFC3339)
		}
		lines = append(lines, "Host window:  "+w.Start.UTC().Format(time.RFC3339)+" → "+end)
	}
	lines = append(lines, "", th.Dim.Render("r: rotate this credential   esc: back"))
	out := make([]string, m.height)
	for i := 0; i < m.height && i < len(lines); i++ {
		out[i] = ansi.Truncate(lines[i], m.width, "…")
	}
	return strings.Join(out, "\n")
}
