// Package evidence is the console's findings pane: a sortable, filterable
// table and a detail view with the rule's source and confidence.
package evidence

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui/table"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// KeyMap is the pane's keys.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom, Filter, Sort, Open, Back key.Binding
}

// DefaultKeyMap returns the pane's keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:     key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort by next column")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back / clear filter")),
	}
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Filter, k.Sort, k.Open} }
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}, {k.Filter, k.Sort, k.Open, k.Back}}
}

// Model is the pane.
type Model struct {
	th            theme.Theme
	keys          KeyMap
	tbl           table.Model
	byID          map[string]store.Finding
	rule          func(pack, rule string) (*packs.Meta, bool)
	filter        textinput.Model
	filtering     bool
	detail        bool
	width, height int
}

var sevRank = map[string]string{"critical": "0", "high": "1", "medium": "2", "low": "3", "info": "4"}

// New makes the pane; rule looks up a finding's pack rule.
func New(th theme.Theme, rule func(pack, rule string) (*packs.Meta, bool)) Model {
	cols := []table.Column{
		{Title: "SEV", Width: 4}, {Title: "HOST", Width: 10}, {Title: "RULE", Width: 24},
		{Title: "LOCATION", Flex: true}, {Title: "OBSERVED", Width: 16},
	}
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "filter findings (any column)"
	ti.SetWidth(30)
	return Model{th: th, keys: DefaultKeyMap(), tbl: table.New(cols, th.Header, th.Cursor, th.Selected), rule: rule, filter: ti, byID: map[string]store.Finding{}}
}

// SetSize sets the pane size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.tbl.SetSize(w, h-2)
}

// SetFindings replaces the data.
func (m *Model) SetFindings(fs []store.Finding) {
	rows := make([]table.Row, 0, len(fs))
	m.byID = make(map[string]store.Finding, len(fs))
	for _, f := range fs {
		m.byID[f.ID] = f
		label, st := m.th.Severity(f.Severity)
		obs := ""
		if f.ObservedAt != nil {
			obs = f.ObservedAt.UTC().Format("2006-01-02 15:04")
		}
		loc := f.Path
		if ref, ok := collectors.ParseObjectRef(f.Path); ok {
			loc = ref.Short() // the HOST column names the cluster
		}
		if f.Gone {
			loc += " (gone)"
		}
		rows = append(rows, table.Row{
			ID:       f.ID,
			Cells:    []string{label, f.Host, f.Rule, loc, obs},
			SortKeys: []string{sevRank[f.Severity]},
			Styles:   map[int]lipgloss.Style{0: st},
		})
	}
	m.tbl.SetRows(rows)
}

// Keys returns the pane's key map.
func (m Model) Keys() KeyMap { return m.keys }

// Capturing reports whether the pane is taking text input (the root then
// does not treat keys as global shortcuts).
func (m Model) Capturing() bool { return m.filtering }

// Update handles keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return m, nil
	}
	if m.filtering {
		switch k.String() {
		case "enter":
			m.filtering = false
			m.filter.Blur()
			return m, nil
		case "esc":
			m.filtering = false
			m.filter.Blur()
			m.filter.SetValue("")
			m.tbl.SetFilter("")
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
	case key.Matches(k, m.keys.Top):
		m.tbl.Home()
	case key.Matches(k, m.keys.Bottom):
		m.tbl.End()
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
	}
	return m, nil
}

// View renders exactly the pane's height.
func (m Model) View() string {
	if m.detail {
		return m.detailView()
	}
	status := fmt.Sprintf("%d of %d findings", m.tbl.Len(), m.tbl.Total())
	if m.tbl.Total() == 0 {
		status = "No findings recorded yet: scan a target (s on the overview)."
	}
	top := m.th.Dim.Render(status)
	if m.filtering || m.filter.Value() != "" {
		top = m.filter.View() + "  " + m.th.Dim.Render(status)
	}
	return ansi.Truncate(top, m.width, "…") + "\n" + m.tbl.View() + "\n" + m.th.Dim.Render(ansi.Truncate("enter: details   /: filter   o: sort", m.width, ""))
}

func (m Model) detailView() string {
	f, ok := m.byID[m.tbl.CursorID()]
	if !ok {
		return ""
	}
	th := m.th
	d := sanitize.Display
	label, st := th.Severity(f.Severity)
	lines := []string{
		st.Render(label) + "  " + th.Bold.Render(d(f.Pack+"/"+f.Rule)),
		"",
		"Host:       " + d(f.Host),
		"Location:   " + d(f.Path),
	}
	if ref, ok := collectors.ParseObjectRef(f.Path); ok {
		lines = append(lines, "Object:     "+d(ref.Describe()))
		if k := ref.Kubectl(); k != "" {
			lines = append(lines, "Inspect:    "+d(k)+th.Dim.Render("  (read-only)"))
		}
	}
	lines = append(lines, "Detail:     "+d(f.Detail))
	if f.SHA256 != "" {
		lines = append(lines, "SHA-256:    "+f.SHA256)
	}
	if f.ObservedAt != nil {
		lines = append(lines, "Observed:   "+f.ObservedAt.UTC().Format(time.RFC3339))
	}
	lines = append(lines, "First seen: "+f.FirstSeen.UTC().Format(time.RFC3339)+"   last seen: "+f.LastSeen.UTC().Format(time.RFC3339))
	if f.Gone {
		lines = append(lines, th.Good.Render("Gone: not seen by the latest scan of this target"))
	}
	if meta, ok := m.rule(f.Pack, f.Rule); ok {
		lines = append(lines, "", th.BoxTitle.Render("Rule"), "Title:      "+d(meta.Title),
			"Confidence: "+string(meta.Confidence), "Source:     "+d(meta.Source))
		if meta.Note != "" {
			lines = append(lines, "Note:       "+d(meta.Note))
		}
	} else if f.Confidence != "" {
		lines = append(lines, "", "Confidence: "+f.Confidence+" (built-in heuristic)")
	}
	if f.Excerpt != "" {
		lines = append(lines, "", th.BoxTitle.Render("Excerpt (escaped)"), d(f.Excerpt))
	}
	lines = append(lines, "", th.Dim.Render("esc: back"))
	return wrapFit(lines, m.width, m.height)
}

// wrapFit wraps long lines and clips to exactly h lines.
func wrapFit(lines []string, w, h int) string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(ansi.Wrap(l, w, ""), "\n")...)
	}
	for len(out) < h {
		out = append(out, "")
	}
	return strings.Join(out[:h], "\n")
}
