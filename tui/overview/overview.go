// Package overview is the console's first pane: the situation at a glance
// and the next safe action.
package overview

import (
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

// ScanMsg asks the root to scan the configured target.
type ScanMsg struct{}

// ScanClusterMsg asks the root to scan the configured cluster.
type ScanClusterMsg struct{}

// KeyMap is the pane's keys.
type KeyMap struct {
	Scan, ScanCluster key.Binding
}

// DefaultKeyMap returns the pane's keys. Scanning a cluster is enabled by
// SetCluster.
func DefaultKeyMap() KeyMap {
	k := KeyMap{
		Scan:        key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "scan")),
		ScanCluster: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "scan the cluster")),
	}
	k.ScanCluster.SetEnabled(false)
	return k
}

// ShortHelp and FullHelp feed the help view.
func (k KeyMap) ShortHelp() []key.Binding  { return []key.Binding{k.Scan, k.ScanCluster} }
func (k KeyMap) FullHelp() [][]key.Binding { return [][]key.Binding{{k.Scan, k.ScanCluster}} }

// maxNodes is how many nodes of one cluster the pane lists, worst first.
const maxNodes = 5

// Model is the pane.
type Model struct {
	th       theme.Theme
	keys     KeyMap
	sum      store.Summary
	loaded   bool
	target   string
	packs    []string
	scanning bool
	stats    collectors.Stats
	found    int
	scanErr  string
	// cluster is the cluster the console can scan ("" for none);
	// clusterScan says what its running scan reads.
	cluster       string
	clusterScan   string
	width, height int
}

// New makes the pane.
func New(th theme.Theme, target string, packs []string) Model {
	return Model{th: th, keys: DefaultKeyMap(), target: target, packs: packs}
}

// SetSize sets the pane size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// SetSummary replaces the data.
func (m *Model) SetSummary(s store.Summary) { m.sum, m.loaded = s, true }

// SetScan shows a scan's progress (scanning false when it ended).
func (m *Model) SetScan(scanning bool, st collectors.Stats, findings int, errText string) {
	m.scanning, m.stats, m.found, m.scanErr = scanning, st, findings, errText
}

// SetCluster names the cluster c scans ("" disables the key).
func (m *Model) SetCluster(name string) {
	m.cluster = name
	m.keys.ScanCluster.SetEnabled(name != "")
}

// SetClusterScan shows a cluster scan's progress: what it reads now, ""
// when it ended.
func (m *Model) SetClusterScan(what, errText string) {
	m.clusterScan, m.scanErr = what, errText
}

// Keys returns the pane's key map.
func (m Model) Keys() KeyMap { return m.keys }

// Update handles the pane's keys.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	k, ok := msg.(tea.KeyPressMsg)
	switch {
	case !ok || m.scanning || m.clusterScan != "":
	case key.Matches(k, m.keys.Scan):
		return m, func() tea.Msg { return ScanMsg{} }
	case key.Matches(k, m.keys.ScanCluster):
		return m, func() tea.Msg { return ScanClusterMsg{} }
	}
	return m, nil
}

// View renders exactly the pane's height.
func (m Model) View() string {
	th := m.th
	var lines []string
	add := func(s ...string) { lines = append(lines, s...) }
	if !m.loaded {
		add("Loading…")
		return fit(lines, m.width, m.height)
	}
	if m.scanning {
		add(th.Bold.Render("Scanning "+sanitize.Display(m.target)+"…")+th.Dim.Render("  (files are read, nothing is executed)"),
			fmt.Sprintf("  %d files, %d directories, %d Python environments, %d findings so far, %.1fs",
				m.stats.Files, m.stats.Dirs, m.stats.Environments, m.found, float64(m.stats.DurationMS)/1000), "")
	} else if m.clusterScan != "" {
		add(th.Bold.Render("Scanning cluster "+sanitize.Display(m.cluster)+"…")+th.Dim.Render("  (lists and gets only: nothing in the cluster changes)"),
			"  reading "+sanitize.Display(m.clusterScan), "")
	} else if m.scanErr != "" {
		add(th.Bad.Render("Scan failed: ")+sanitize.Display(m.scanErr), "")
	}
	if len(m.sum.Hosts) == 0 && !m.scanning && m.clusterScan == "" {
		add(th.Bold.Render("Nothing scanned yet in incident "+sanitize.Display(m.sum.Incident)+"."), "",
			"Press "+th.Key.Render("s")+" to scan "+sanitize.Display(m.target)+" with the packs "+strings.Join(m.packs, ", ")+".",
			th.Dim.Render("The scan reads files only: Python environments, .pth files, caches, persistence,"),
			th.Dim.Render("histories and credentials. Nothing it finds is run. Results go to the database."))
		if m.cluster != "" {
			add("", "Press "+th.Key.Render("c")+" to scan the cluster "+sanitize.Display(m.cluster)+": attacker pods, bad workloads, RBAC blast radius.")
		}
		return fit(lines, m.width, m.height)
	}
	// Targets and verdicts.
	add(th.BoxTitle.Render("Targets"))
	for _, h := range m.sum.Hosts {
		label, st := th.Verdict(h.Verdict)
		since := ""
		if h.WindowStart != nil {
			since = "since " + h.WindowStart.UTC().Format("01-02 15:04")
			if h.WindowOpen {
				since += " → OPEN"
			} else if h.WindowEnd != nil {
				since += " → " + h.WindowEnd.UTC().Format("01-02 15:04")
			}
		}
		name := h.Name
		if h.Kind != "host" {
			name = h.Kind + " " + name
		}
		// Name column: what is left beside verdict, counts and an open
		// window; a closed window's end is cut first on small terminals.
		nameW := max(10, min(26, m.width-65))
		add(fmt.Sprintf("  %s %s %s %s",
			st.Render(padRight(label, 16)), padRight(ansi.Truncate(sanitize.Display(name), nameW, "…"), nameW),
			padRight(fmt.Sprintf("%d crit, %d high", h.Critical, h.High), 17), th.Dim.Render(since)))
		add(m.nodeLines(h.Nodes, nameW)...)
	}
	add("")
	sev := m.sum.Severity
	add(th.BoxTitle.Render("Findings") + fmt.Sprintf("   %s critical   %s high   %d medium   %d low",
		th.Bad.Render(fmt.Sprint(sev["critical"])), th.Warn.Render(fmt.Sprint(sev["high"])), sev["medium"], sev["low"]+sev["info"]))
	exp := m.sum.Exposure
	rot := m.sum.Rotation
	pending := rot["pending"]
	add(th.BoxTitle.Render("Credentials")+fmt.Sprintf("  %s exposed: %d pending, %d rotating, %s rotated, %d manual",
		th.Bad.Render(fmt.Sprint(exp["exposed"])), pending, rot["in_progress"], th.Good.Render(fmt.Sprint(rot["rotated"])), rot["manual_required"]),
		fmt.Sprintf("             %d unknown, %d not exposed", exp["unknown"], exp["not_exposed"]))
	if len(m.sum.Waiting) > 0 {
		add(th.Accent.Render(fmt.Sprintf("Runs waiting for you: %d", len(m.sum.Waiting))))
		for _, w := range m.sum.Waiting {
			add(fmt.Sprintf("  %s %s on %s: approve step %s", w.RunID, w.Playbook, w.CredentialID, th.Bold.Render(w.Step)))
		}
	} else {
		add(th.Dim.Render(fmt.Sprintf("Runs waiting for you: none (%d running or paused)", m.sum.RunsActive)))
	}
	add(th.Dim.Render("Gateway: not available yet"), th.Dim.Render(fmt.Sprintf("Audit chain: %d events", m.sum.AuditEvents)), "")
	// The next safe action.
	switch {
	case len(m.sum.Waiting) > 0:
		add(th.Bold.Render("Next: ") + "press " + th.Key.Render("4") + " and approve the waiting step (it shows exactly what changes).")
	case pending > 0:
		add(th.Bold.Render("Next: ") + "press " + th.Key.Render("3") + ", pick an exposed credential and press " + th.Key.Render("r") + " to rotate it.")
	case sev["critical"]+sev["high"] > 0:
		add(th.Bold.Render("Next: ") + "press " + th.Key.Render("2") + " to read the evidence.")
	default:
		add(th.Bold.Render("Next: ") + "nothing urgent. Press " + th.Key.Render("s") + " to scan again.")
	}
	return fit(lines, m.width, m.height)
}

// nodeLines lists a cluster's nodes under it, worst verdict first, each
// with the first reason for its verdict.
func (m Model) nodeLines(nodes []store.ClusterNode, nameW int) []string {
	if len(nodes) == 0 {
		return nil
	}
	rank := map[string]int{store.VerdictCompromised: 0, store.VerdictWasCompromised: 1, store.VerdictUnknown: 2, store.VerdictClean: 3}
	sorted := append([]store.ClusterNode(nil), nodes...)
	sort.SliceStable(sorted, func(i, j int) bool { return rank[sorted[i].Verdict] < rank[sorted[j].Verdict] })
	var out []string
	for i, n := range sorted {
		if i == maxNodes {
			counts := map[string]int{}
			for _, r := range sorted[i:] {
				counts[r.Verdict]++
			}
			out = append(out, m.th.Dim.Render(fmt.Sprintf("%19s… %d more nodes: %d unknown, %d clean", "", len(sorted)-i, counts[store.VerdictUnknown], counts[store.VerdictClean])))
			break
		}
		label, st := m.th.Verdict(n.Verdict)
		why := ""
		if len(n.Basis) > 0 {
			why = n.Basis[0]
		}
		out = append(out, fmt.Sprintf("  %s %s %s", st.Render(padRight(label, 16)),
			padRight(ansi.Truncate("↳ "+sanitize.Display(n.Name), nameW, "…"), nameW), m.th.Dim.Render(sanitize.Display(why))))
	}
	return out
}

// fit clips or pads lines to exactly h lines of at most w cells.
func fit(lines []string, w, h int) string {
	out := make([]string, h)
	for i := 0; i < h && i < len(lines); i++ {
		out[i] = ansi.Truncate(lines[i], w, "…")
	}
	return strings.Join(out, "\n")
}

func padRight(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
