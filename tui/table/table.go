// Package table is a virtualized table for the console: it holds any number
// of rows but renders only the visible window, filters incrementally and
// sorts by precomputed keys, so that scrolling and typing a filter stay
// within a frame on 100k rows.
package table

import (
	"sort"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

// Column is one column; Flex columns share the width left over.
type Column struct {
	Title string
	Width int
	Flex  bool
}

// Row is one row: ID is stable (selection survives refreshes), Cells are
// the displayed texts, SortKeys (optional) sort a column differently from
// its text (times, severities).
type Row struct {
	ID       string
	Cells    []string
	SortKeys []string
	// Styles optionally styles a cell (by column index).
	Styles map[int]lipgloss.Style
}

// Model is the table state.
type Model struct {
	cols          []Column
	rows          []Row
	hay           []string // lower-cased searchable text per row
	view          []int    // row indices shown, filtered and sorted
	filter        string
	sortCol       int
	sortDesc      bool
	cursor        int
	offset        int
	width, height int
	selected      map[string]bool
	cursorStyle   lipgloss.Style
	headerStyle   lipgloss.Style
	selStyle      lipgloss.Style
	// Extra renders an extra column after the cells (the timeline strip).
	Extra      func(row Row, width int) string
	ExtraWidth int
	ExtraTitle string
}

// New makes a table.
func New(cols []Column, header, cursor, selected lipgloss.Style) Model {
	return Model{cols: cols, sortCol: -1, selected: map[string]bool{}, headerStyle: header, cursorStyle: cursor, selStyle: selected}
}

// SetRows replaces the rows, keeping the filter, sort, selection and, when
// it still exists, the row under the cursor.
func (m *Model) SetRows(rows []Row) {
	cur := m.CursorID()
	m.rows = rows
	m.hay = make([]string, len(rows))
	for i, r := range rows {
		m.hay[i] = strings.ToLower(strings.Join(r.Cells, "\x00"))
	}
	m.rebuild("")
	if cur != "" {
		for i, idx := range m.view {
			if m.rows[idx].ID == cur {
				m.cursor = i
				break
			}
		}
	}
	m.clamp()
}

// SetSize sets the size in cells; the header takes one line.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clamp()
}

// SetFilter shows only rows containing q (case-insensitive). A filter that
// extends the previous one narrows the current view instead of rescanning.
func (m *Model) SetFilter(q string) {
	q = strings.ToLower(q)
	prev := m.filter
	m.filter = q
	if prev != "" && strings.HasPrefix(q, prev) {
		out := m.view[:0:0]
		for _, i := range m.view {
			if strings.Contains(m.hay[i], q) {
				out = append(out, i)
			}
		}
		m.view = out
		m.cursor, m.offset = 0, 0
		return
	}
	m.rebuild("")
	m.cursor, m.offset = 0, 0
}

// Filter is the current filter text.
func (m Model) Filter() string { return m.filter }

// SortBy sorts by a column; sorting by the same column again reverses it.
func (m *Model) SortBy(col int) {
	if col == m.sortCol {
		m.sortDesc = !m.sortDesc
	} else {
		m.sortCol, m.sortDesc = col, false
	}
	m.rebuild("")
}

// CycleSort moves the sort to the next column.
func (m *Model) CycleSort() {
	next := m.sortCol + 1
	if next >= len(m.cols) {
		next = 0
	}
	m.sortCol, m.sortDesc = next, false
	m.rebuild("")
}

func (m *Model) rebuild(_ string) {
	m.view = m.view[:0]
	for i := range m.rows {
		if m.filter == "" || strings.Contains(m.hay[i], m.filter) {
			m.view = append(m.view, i)
		}
	}
	if m.sortCol >= 0 {
		key := func(i int) string {
			r := m.rows[i]
			if m.sortCol < len(r.SortKeys) && r.SortKeys[m.sortCol] != "" {
				return r.SortKeys[m.sortCol]
			}
			if m.sortCol < len(r.Cells) {
				return strings.ToLower(r.Cells[m.sortCol])
			}
			return ""
		}
		sort.SliceStable(m.view, func(a, b int) bool {
			ka, kb := key(m.view[a]), key(m.view[b])
			if m.sortDesc {
				return ka > kb
			}
			return ka < kb
		})
	}
	m.clamp()
}

func (m *Model) clamp() {
	if m.cursor >= len(m.view) {
		m.cursor = len(m.view) - 1
	}
	if m.cursor < 0 {
		m.cursor = 0
	}
	body := m.bodyHeight()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if body > 0 && m.cursor >= m.offset+body {
		m.offset = m.cursor - body + 1
	}
	if m.offset < 0 {
		m.offset = 0
	}
}

func (m Model) bodyHeight() int { return m.height - 1 }

// Move moves the cursor by n rows (negative is up).
func (m *Model) Move(n int) {
	m.cursor += n
	m.clamp()
}

// Page moves by a screenful.
func (m *Model) Page(dir int) { m.Move(dir * max(1, m.bodyHeight()-1)) }

// Home and End jump to the first and last row.
func (m *Model) Home() { m.cursor = 0; m.clamp() }
func (m *Model) End()  { m.cursor = len(m.view) - 1; m.clamp() }

// Len is the number of rows shown (after the filter); Total all rows.
func (m Model) Len() int   { return len(m.view) }
func (m Model) Total() int { return len(m.rows) }

// Cursor returns the row under the cursor.
func (m Model) Cursor() (Row, bool) {
	if m.cursor < 0 || m.cursor >= len(m.view) {
		return Row{}, false
	}
	return m.rows[m.view[m.cursor]], true
}

// CursorID is the ID of the row under the cursor, or "".
func (m Model) CursorID() string {
	r, ok := m.Cursor()
	if !ok {
		return ""
	}
	return r.ID
}

// ToggleSelect selects or unselects the row under the cursor.
func (m *Model) ToggleSelect() {
	if id := m.CursorID(); id != "" {
		if m.selected[id] {
			delete(m.selected, id)
		} else {
			m.selected[id] = true
		}
	}
}

// Selected returns the selected IDs, or the cursor's when none is selected.
func (m Model) Selected() []string {
	var out []string
	for _, idx := range m.view {
		if id := m.rows[idx].ID; m.selected[id] {
			out = append(out, id)
		}
	}
	if len(out) == 0 && m.CursorID() != "" {
		out = append(out, m.CursorID())
	}
	return out
}

// widths distributes the table width among the columns.
func (m Model) widths() []int {
	w := make([]int, len(m.cols))
	fixed, flex := 0, 0
	for i, c := range m.cols {
		w[i] = c.Width
		fixed += c.Width + 1
		if c.Flex {
			flex++
		}
	}
	avail := m.width - 2 - fixed
	if m.Extra != nil {
		avail -= m.ExtraWidth + 1
	}
	if flex > 0 && avail > 0 {
		for i, c := range m.cols {
			if c.Flex {
				w[i] += avail / flex
			}
		}
	}
	return w
}

// View renders the header and the visible rows, exactly height lines.
func (m Model) View() string {
	if m.height <= 0 || m.width <= 0 {
		return ""
	}
	ws := m.widths()
	var b strings.Builder
	var head []string
	for i, c := range m.cols {
		t := c.Title
		if i == m.sortCol {
			if m.sortDesc {
				t += "↓"
			} else {
				t += "↑"
			}
		}
		head = append(head, pad(t, ws[i]))
	}
	line := "  " + strings.Join(head, " ")
	if m.Extra != nil {
		line += " " + pad(m.ExtraTitle, m.ExtraWidth)
	}
	b.WriteString(m.headerStyle.Render(ansi.Truncate(line, m.width, "")))
	body := m.bodyHeight()
	for i := 0; i < body; i++ {
		b.WriteByte('\n')
		vi := m.offset + i
		if vi >= len(m.view) {
			continue
		}
		r := m.rows[m.view[vi]]
		mark := "  "
		if m.selected[r.ID] {
			mark = m.selStyle.Render("● ")
		}
		var cells []string
		for c := range m.cols {
			text := ""
			if c < len(r.Cells) {
				text = sanitize.Display(r.Cells[c])
			}
			cell := pad(text, ws[c])
			if st, ok := r.Styles[c]; ok && vi != m.cursor {
				cell = st.Render(cell)
			}
			cells = append(cells, cell)
		}
		row := strings.Join(cells, " ")
		if m.Extra != nil {
			row += " " + m.Extra(r, m.ExtraWidth)
		}
		if vi == m.cursor {
			row = m.cursorStyle.Render(ansi.Strip(row))
			mark = "▶ "
			if m.selected[r.ID] {
				mark = "▶●"
			}
		}
		b.WriteString(ansi.Truncate(mark+row, m.width, "…"))
	}
	return b.String()
}

// pad fits s into exactly w cells: truncated with an ellipsis, or padded.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}
