package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/gateway"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui/audit"
	"github.com/tourniquet-ir/tourniquet/tui/credentials"
	"github.com/tourniquet-ir/tourniquet/tui/evidence"
	"github.com/tourniquet-ir/tourniquet/tui/gatewaypane"
	"github.com/tourniquet-ir/tourniquet/tui/overview"
	"github.com/tourniquet-ir/tourniquet/tui/runs"
	"github.com/tourniquet-ir/tourniquet/tui/theme"
)

var paneNames = []string{"Overview", "Evidence", "Credentials", "Playbooks", "Gateway", "Audit"}

const (
	paneOverview = iota
	paneEvidence
	paneCredentials
	paneRuns
	paneGateway
	paneAudit
)

// MinWidth and MinHeight are the smallest terminal the console lays out in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// Options configure the console.
type Options struct {
	Backend Backend
	Packs   []string
	// Now is the clock (pinned in tests).
	Now func() time.Time
	// Context bounds every command the console runs.
	Context context.Context
}

// Model is the console's root model: it routes; the panes render.
type Model struct {
	b      Backend
	ctx    context.Context
	now    func() time.Time
	th     theme.Theme
	keys   KeyMap
	help   help.Model
	pane   int
	width  int
	height int

	overview overview.Model
	evidence evidence.Model
	creds    credentials.Model
	runs     runs.Model
	audit    audit.Model
	gw       gatewaypane.Model
	// gwTicking: the Gateway pane's refresh is scheduled.
	gwTicking bool

	status   string
	showHelp bool
	palette  *palette
	dialog   *dialog

	scanning bool
	scanCh   chan tea.Msg
	// exporting: an export is being written (e waits for it).
	exporting bool

	runCancel context.CancelFunc
	runCh     chan tea.Msg
	// awaiting is the approval a run asked for; its dialog opens once the
	// run has returned, so that an answer cannot race the run's end.
	awaiting *dialog
	queue    []string // credentials still to rotate, after the current one
	quitting bool
	// Resumable lists runs left paused by this session, for the exit message.
	Resumable []string
}

// New builds the console.
func New(o Options) Model {
	th := theme.New()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
	h := help.New()
	ov := overview.New(th, o.Backend.ScanTarget(), o.Packs)
	ov.SetCluster(o.Backend.ClusterTarget())
	return Model{
		b: o.Backend, ctx: o.Context, now: o.Now, th: th, keys: DefaultKeyMap(), help: h,
		overview: ov,
		evidence: evidence.New(th, o.Backend.Rule),
		creds:    credentials.New(th, o.Now),
		runs:     runs.New(th),
		audit:    audit.New(th),
		gw:       gatewaypane.New(th),
	}
}

// Messages of the console's own commands.
type (
	summaryMsg struct {
		sum store.Summary
		err error
	}
	dataMsg struct {
		findings []store.Finding
		creds    []store.Credential
		windows  map[string]credentials.Window
		runs     []store.Run
		events   []store.AuditEvent
		err      error
	}
	scanProgressMsg struct {
		stats    collectors.Stats
		findings int
	}
	scanDoneMsg struct {
		res *collectors.Result
		err error
	}
	clusterProgressMsg struct{ what string }
	clusterDoneMsg     struct {
		res *collectors.Result
		err error
	}
	planMsg struct {
		pb    *playbooks.Playbook
		cred  store.Credential
		lines []playbooks.PlanLine
		err   error
		// params are the run's extra parameters; reroute names the gateway
		// keystore reference and routes the rotation re-routes.
		params  map[string]any
		ref     string
		reroute []string
	}
	gatewayMsg struct {
		rep *gateway.Report
		err error
	}
	gatewayTickMsg struct{}
	runEventMsg    struct{ ev playbooks.Event }
	runDoneMsg     struct {
		runID, state string
		err          error
	}
	verifyMsg struct {
		v   store.VerifyResult
		err error
	}
	describeMsg struct {
		runID, step, text string
		err               error
	}
	exportMsg struct {
		path string
		err  error
	}
)

// Init loads the summary first (the first frame), then everything else.
func (m Model) Init() tea.Cmd {
	return tea.Batch(m.loadSummary(), m.loadData())
}

func (m Model) loadSummary() tea.Cmd {
	b, ctx := m.b, m.ctx
	return func() tea.Msg {
		s, err := b.Summary(ctx)
		return summaryMsg{s, err}
	}
}

func (m Model) loadGateway() tea.Cmd {
	b, ctx := m.b, m.ctx
	return func() tea.Msg {
		r, err := b.Gateway(ctx)
		return gatewayMsg{r, err}
	}
}

// gatewayRefresh is how often the Gateway pane re-reads the report the
// running gateway writes (every 2 s).
const gatewayRefresh = 2 * time.Second

// showPane switches panes; the Gateway pane refreshes while it is shown.
func (m Model) showPane(i int) (tea.Model, tea.Cmd) {
	m.pane = i
	if i == paneGateway && !m.gwTicking {
		m.gwTicking = true
		return m, tea.Batch(m.loadGateway(), tea.Tick(gatewayRefresh, func(time.Time) tea.Msg { return gatewayTickMsg{} }))
	}
	return m, nil
}

func (m Model) loadData() tea.Cmd {
	b, ctx := m.b, m.ctx
	return func() tea.Msg {
		var d dataMsg
		var err error
		if d.findings, err = b.Findings(ctx); err != nil {
			return dataMsg{err: err}
		}
		if d.creds, err = b.Credentials(ctx); err != nil {
			return dataMsg{err: err}
		}
		sum, err := b.Summary(ctx)
		if err != nil {
			return dataMsg{err: err}
		}
		d.windows = map[string]credentials.Window{}
		for _, h := range sum.Hosts {
			d.windows[h.Name] = credentials.Window{Start: h.WindowStart, End: h.WindowEnd, Open: h.WindowOpen}
		}
		rs, err := b.Runs(ctx)
		if err != nil {
			return dataMsg{err: err}
		}
		for _, r := range rs {
			full, err := b.Run(ctx, r.ID)
			if err != nil {
				return dataMsg{err: err}
			}
			d.runs = append(d.runs, full)
		}
		after := max(int64(0), sum.AuditEvents-2000)
		if d.events, err = b.Audit(ctx, after, 0); err != nil {
			return dataMsg{err: err}
		}
		return d
	}
}

func (m *Model) layout() {
	bodyH := m.height - 3
	for _, set := range []func(int, int){m.overview.SetSize, m.evidence.SetSize, m.creds.SetSize, m.runs.SetSize, m.audit.SetSize, m.gw.SetSize} {
		set(m.width, bodyH)
	}
	m.help.SetWidth(m.width)
}

// capturing reports whether the active pane takes text: digits and letters
// then go to it, not to global shortcuts.
func (m Model) capturing() bool {
	switch m.pane {
	case paneEvidence:
		return m.evidence.Capturing()
	case paneCredentials:
		return m.creds.Capturing()
	}
	return false
}

// Update routes messages.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case summaryMsg:
		if msg.err != nil {
			m.status = "could not read the database: " + msg.err.Error()
			return m, nil
		}
		m.overview.SetSummary(msg.sum)
		return m, nil
	case dataMsg:
		if msg.err != nil {
			m.status = "could not read the database: " + msg.err.Error()
			return m, nil
		}
		m.evidence.SetFindings(msg.findings)
		m.creds.SetData(msg.creds, msg.windows)
		m.runs.SetRuns(msg.runs)
		m.audit.SetEvents(msg.events)
		m.layout()
		return m, nil
	case scanProgressMsg:
		m.overview.SetScan(true, msg.stats, msg.findings, "")
		return m, waitFor(m.scanCh)
	case scanDoneMsg:
		m.scanning = false
		if msg.err != nil {
			m.overview.SetScan(false, collectors.Stats{}, 0, msg.err.Error())
			m.status = "scan failed: " + msg.err.Error()
		} else {
			m.overview.SetScan(false, msg.res.Stats, len(msg.res.Findings), "")
			m.status = fmt.Sprintf("scan of %s: %s, %d findings, %d credentials", msg.res.Host.Name, strings.ToUpper(msg.res.Verdict), len(msg.res.Findings), len(msg.res.Credentials))
		}
		return m, tea.Batch(m.loadSummary(), m.loadData())
	case clusterProgressMsg:
		m.overview.SetClusterScan(msg.what, "")
		return m, waitFor(m.scanCh)
	case clusterDoneMsg:
		m.scanning = false
		if msg.err != nil {
			m.overview.SetClusterScan("", msg.err.Error())
			m.status = "cluster scan failed: " + msg.err.Error()
		} else {
			m.overview.SetClusterScan("", "")
			m.status = fmt.Sprintf("scan of cluster %s: %s, %d findings, %d credentials, %d nodes", msg.res.Host.Name, strings.ToUpper(msg.res.Verdict),
				len(msg.res.Findings), len(msg.res.Credentials), len(msg.res.Nodes))
			if len(msg.res.Errors) > 0 {
				m.status += fmt.Sprintf(" (partial: %d parts not read; scan --kube lists them)", len(msg.res.Errors))
			}
		}
		return m, tea.Batch(m.loadSummary(), m.loadData())
	case gatewayMsg:
		m.gw.SetReport(msg.rep, msg.err)
		return m, nil
	case gatewayTickMsg:
		if m.pane != paneGateway {
			m.gwTicking = false
			return m, nil
		}
		return m, tea.Batch(m.loadGateway(), tea.Tick(gatewayRefresh, func(time.Time) tea.Msg { return gatewayTickMsg{} }))
	case planMsg:
		if msg.err != nil {
			m.status = "cannot plan: " + msg.err.Error()
			m.queue = nil
			return m, nil
		}
		m.dialog = planDialog(msg)
		return m, nil
	case runEventMsg:
		m.runs.AddEvent(msg.ev)
		if msg.ev.Type == "run.created" {
			cmd := m.runs.SetLive(msg.ev.Run)
			return m, tea.Batch(waitFor(m.runCh), cmd, m.loadData())
		}
		if msg.ev.Type == "step.finished" || msg.ev.Type == "step.started" {
			return m, tea.Batch(waitFor(m.runCh), m.loadData())
		}
		if msg.ev.Type == "step.awaiting_approval" {
			m.awaiting = approvalDialog(msg.ev.Run, msg.ev.Step, msg.ev.Message)
		}
		return m, waitFor(m.runCh)
	case runDoneMsg:
		m.runCancel = nil
		m.runs.SetLive("")
		if msg.state == store.RunAwaitingApproval && m.awaiting != nil && !m.quitting {
			m.dialog = m.awaiting
		}
		m.awaiting = nil
		switch {
		case msg.state == store.RunDone:
			m.status = "run " + msg.runID + " done: the credential is rotated"
		case msg.state == store.RunAwaitingApproval:
			m.status = "run " + msg.runID + " waits for your approval (a: approve on the Playbooks pane)"
		case msg.err != nil:
			m.status = "run " + msg.runID + " " + msg.state + ": " + msg.err.Error()
		default:
			m.status = "run " + msg.runID + " " + msg.state
		}
		if msg.state == store.RunPaused || msg.state == store.RunAwaitingApproval {
			m.Resumable = appendUnique(m.Resumable, msg.runID)
		}
		cmds := []tea.Cmd{m.loadSummary(), m.loadData()}
		if m.quitting {
			return m, tea.Quit
		}
		if msg.state == store.RunDone && len(m.queue) > 0 {
			next := m.queue[0]
			m.queue = m.queue[1:]
			cmds = append(cmds, m.planFor(next))
		}
		return m, tea.Batch(cmds...)
	case verifyMsg:
		if msg.err != nil {
			m.status = "verify failed: " + msg.err.Error()
		} else {
			m.audit.SetVerify(msg.v)
		}
		return m, nil
	case describeMsg:
		text := msg.text
		if msg.err != nil {
			text = "(could not describe the step: " + msg.err.Error() + ")"
		}
		m.dialog = approvalDialog(msg.runID, msg.step, text)
		return m, nil
	case overview.ScanMsg:
		return m.startScan()
	case overview.ScanClusterMsg:
		return m.startClusterScan()
	case credentials.RotateMsg:
		if m.runCancel != nil {
			m.status = "a run is in progress: wait for it to finish or pause"
			return m, nil
		}
		m.queue = msg.IDs[1:]
		return m, m.planFor(msg.IDs[0])
	case runs.ResumeMsg:
		return m.startRun(func(ctx context.Context, o RunOptions) (string, string, error) {
			st, err := m.b.Resume(ctx, msg.RunID, o)
			return msg.RunID, st, err
		}, nil)
	case runs.ApproveMsg:
		b, ctx := m.b, m.ctx
		return m, func() tea.Msg {
			t, err := b.DescribeStep(ctx, msg.RunID, msg.Step)
			return describeMsg{msg.RunID, msg.Step, t, err}
		}
	case audit.VerifyMsg:
		b, ctx := m.b, m.ctx
		return m, func() tea.Msg { v, err := b.VerifyAudit(ctx); return verifyMsg{v, err} }
	case audit.ExportMsg:
		if m.exporting {
			return m, nil
		}
		m.exporting = true
		m.audit.SetNote("exporting the post-mortem (Markdown)…")
		b, ctx := m.b, m.ctx
		return m, func() tea.Msg { p, err := b.Export(ctx, "md"); return exportMsg{p, err} }
	case exportMsg:
		m.exporting = false
		if msg.err != nil {
			m.audit.SetNote("export failed: " + msg.err.Error())
			return m, nil
		}
		m.audit.SetNote("post-mortem written to " + msg.path)
		// The export is an event of the chain: show it.
		return m, tea.Batch(m.loadSummary(), m.loadData())
	case spinner.TickMsg:
		var cmd tea.Cmd
		m.runs, cmd = m.runs.Update(msg)
		return m, cmd
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	return m, nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func waitFor(ch chan tea.Msg) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return nil
		}
		return msg
	}
}

func (m Model) startScan() (tea.Model, tea.Cmd) {
	if m.scanning {
		return m, nil
	}
	m.scanning = true
	m.pane = paneOverview
	m.overview.SetScan(true, collectors.Stats{}, 0, "")
	ch := make(chan tea.Msg, 16)
	m.scanCh = ch
	b, ctx := m.b, m.ctx
	go func() {
		res, err := b.Scan(ctx, func(s collectors.Stats, n int) {
			select {
			case ch <- scanProgressMsg{s, n}:
			default: // the UI is busy: skip a frame of progress
			}
		})
		ch <- scanDoneMsg{res, err}
	}()
	return m, waitFor(ch)
}

// startClusterScan scans the configured cluster in the background, as
// startScan does the host; one scan runs at a time.
func (m Model) startClusterScan() (tea.Model, tea.Cmd) {
	if m.scanning {
		return m, nil
	}
	if m.b.ClusterTarget() == "" {
		m.status = "no cluster configured: start the console with --kube (and --context)"
		return m, nil
	}
	m.scanning = true
	m.pane = paneOverview
	m.overview.SetClusterScan("the cluster", "")
	ch := make(chan tea.Msg, 16)
	m.scanCh = ch
	b, ctx := m.b, m.ctx
	go func() {
		res, err := b.ScanCluster(ctx, func(what string) {
			select {
			case ch <- clusterProgressMsg{what}:
			default:
			}
		})
		ch <- clusterDoneMsg{res, err}
	}()
	return m, waitFor(ch)
}

// planFor looks up the playbook for a credential and computes its plan.
func (m Model) planFor(credID string) tea.Cmd {
	b, ctx := m.b, m.ctx
	return func() tea.Msg {
		creds, err := b.Credentials(ctx)
		if err != nil {
			return planMsg{err: err}
		}
		var cred store.Credential
		for _, c := range creds {
			if c.ID == credID {
				cred = c
			}
		}
		if cred.ID == "" {
			return planMsg{err: fmt.Errorf("credential %s not found", credID)}
		}
		pbs, err := b.PlaybooksFor(cred.Kind)
		if err != nil {
			return planMsg{err: err}
		}
		if len(pbs) == 0 {
			return planMsg{err: fmt.Errorf("no playbook rotates %s credentials yet: rotate %s by hand at its provider", cred.Kind, cred.Hint)}
		}
		p := planMsg{pb: pbs[0], cred: cred}
		// An exposed key the gateway serves with: rotate and re-route, so
		// the new key lands in the keystore and the routes move to it once
		// a canary with it succeeds. The LLM playbooks take gateway_ref.
		if rep, err := b.Gateway(ctx); err == nil && cred.Fingerprint != "" && strings.HasPrefix(pbs[0].ID, "llm-") {
			if ref, routes := rep.RoutesFor(cred.Fingerprint); ref != "" {
				p.params, p.ref, p.reroute = map[string]any{"gateway_ref": ref}, ref, routes
			}
		}
		p.lines, p.err = b.Plan(ctx, p.pb, cred.ID, p.params)
		return p
	}
}

// startRun runs fn (a start or a resume) in the background, streaming its
// events into the console.
func (m Model) startRun(fn func(ctx context.Context, o RunOptions) (string, string, error), confirm map[string]bool) (tea.Model, tea.Cmd) {
	if m.runCancel != nil {
		m.status = "a run is already in progress"
		return m, nil
	}
	ch := make(chan tea.Msg, 64)
	m.runCh = ch
	ctx, cancel := context.WithCancel(m.ctx)
	m.runCancel = cancel
	m.pane = paneRuns
	o := RunOptions{Confirm: confirm, OnEvent: func(ev playbooks.Event) { ch <- runEventMsg{ev} }}
	return m, tea.Batch(func() tea.Msg {
		go func() {
			id, st, err := fn(ctx, o)
			ch <- runDoneMsg{id, st, err}
		}()
		return nil
	}, waitFor(ch))
}

func (m Model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.dialog != nil {
		return m.dialogKey(k)
	}
	if m.palette != nil {
		return m.paletteKey(k)
	}
	if k.String() == "ctrl+c" || (!m.capturing() && key.Matches(k, m.keys.Quit)) {
		return m.quit()
	}
	if !m.capturing() {
		for i, b := range m.keys.Panes {
			if key.Matches(k, b) {
				return m.showPane(i)
			}
		}
		switch {
		case key.Matches(k, m.keys.Next):
			return m.showPane((m.pane + 1) % len(paneNames))
		case key.Matches(k, m.keys.Prev):
			return m.showPane((m.pane + len(paneNames) - 1) % len(paneNames))
		case key.Matches(k, m.keys.Help):
			m.showHelp = !m.showHelp
			return m, nil
		case key.Matches(k, m.keys.Palette):
			m.palette = newPalette()
			return m, m.palette.input.Focus()
		}
		if m.showHelp && k.String() == "esc" {
			m.showHelp = false
			return m, nil
		}
	}
	var cmd tea.Cmd
	switch m.pane {
	case paneOverview:
		m.overview, cmd = m.overview.Update(k)
	case paneEvidence:
		m.evidence, cmd = m.evidence.Update(k)
	case paneCredentials:
		m.creds, cmd = m.creds.Update(k)
	case paneRuns:
		m.runs, cmd = m.runs.Update(k)
	case paneAudit:
		m.audit, cmd = m.audit.Update(k)
	case paneGateway:
		m.gw, cmd = m.gw.Update(k)
	}
	return m, cmd
}

// quit stops; a run in progress is cancelled first so that it pauses
// cleanly (resumable) instead of dying mid-step.
func (m Model) quit() (tea.Model, tea.Cmd) {
	if m.runCancel != nil && !m.quitting {
		m.quitting = true
		m.status = "pausing the run so it can be resumed…"
		m.runCancel()
		return m, nil
	}
	return m, tea.Quit
}

// View renders the whole screen.
func (m Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "Tourniquet · " + m.b.Incident()
	return v
}

func (m Model) render() string {
	if m.width < MinWidth || m.height < MinHeight {
		return fmt.Sprintf("Tourniquet needs a terminal of at least %dx%d (this one is %dx%d).\nResize it, or press q to quit.", MinWidth, MinHeight, m.width, m.height)
	}
	th := m.th
	title := th.Title.Render("Tourniquet") + th.Dim.Render(" · incident ") + sanitize.Display(m.b.Incident()) + th.Dim.Render(" · "+sanitize.Display(m.b.DBPath()))
	var tabs []string
	for i, name := range paneNames {
		label := fmt.Sprintf("%d %s", i+1, name)
		if i == m.pane {
			tabs = append(tabs, th.TabActive.Render(label))
		} else {
			tabs = append(tabs, th.Tab.Render(label))
		}
	}
	body := m.paneView()
	if m.showHelp {
		body = m.helpView()
	}
	if m.dialog != nil {
		body = overlay(body, m.dialog.view(th, m.width), m.width, m.height-3)
	}
	if m.palette != nil {
		body = overlay(body, m.palette.view(th, m.width), m.width, m.height-3)
	}
	foot := m.status
	if foot == "" {
		foot = m.help.ShortHelpView(append(m.paneShortHelp(), m.keys.ShortHelp()...))
	} else {
		foot = th.Accent.Render(sanitize.Display(foot))
	}
	return strings.Join([]string{
		ansi.Truncate(title, m.width, "…"),
		ansi.Truncate(strings.Join(tabs, "  "), m.width, "…"),
		body,
		ansi.Truncate(foot, m.width, "…"),
	}, "\n")
}

func (m Model) paneView() string {
	switch m.pane {
	case paneOverview:
		return m.overview.View()
	case paneEvidence:
		return m.evidence.View()
	case paneCredentials:
		return m.creds.View()
	case paneRuns:
		return m.runs.View()
	case paneAudit:
		return m.audit.View()
	}
	return m.gw.View()
}

func (m Model) paneShortHelp() []key.Binding {
	switch m.pane {
	case paneOverview:
		return m.overview.Keys().ShortHelp()
	case paneEvidence:
		return m.evidence.Keys().ShortHelp()
	case paneCredentials:
		return m.creds.Keys().ShortHelp()
	case paneRuns:
		return m.runs.Keys().ShortHelp()
	case paneAudit:
		return m.audit.Keys().ShortHelp()
	case paneGateway:
		return m.gw.Keys().ShortHelp()
	}
	return nil
}

func (m Model) helpView() string {
	var groups [][]key.Binding
	switch m.pane {
	case paneOverview:
		groups = m.overview.Keys().FullHelp()
	case paneEvidence:
		groups = m.evidence.Keys().FullHelp()
	case paneCredentials:
		groups = m.creds.Keys().FullHelp()
	case paneRuns:
		groups = m.runs.Keys().FullHelp()
	case paneAudit:
		groups = m.audit.Keys().FullHelp()
	case paneGateway:
		groups = m.gw.Keys().FullHelp()
	}
	groups = append(groups, m.keys.FullHelp()...)
	lines := []string{m.th.Bold.Render("Keys (" + paneNames[m.pane] + ")"), ""}
	lines = append(lines, strings.Split(m.help.FullHelpView(groups), "\n")...)
	lines = append(lines, "", m.th.Dim.Render("Untrusted names are shown escaped (\\x1b, \\u202e): nothing read from a scan can move the cursor or change colours."),
		m.th.Dim.Render("esc or ?: close"))
	return fitLines(lines, m.width, m.height-3)
}

func fitLines(lines []string, w, h int) string {
	out := make([]string, h)
	for i := 0; i < h && i < len(lines); i++ {
		out[i] = ansi.Truncate(lines[i], w, "…")
	}
	return strings.Join(out, "\n")
}

// overlay centres box over body (both exactly h lines of width w).
func overlay(body, box string, w, h int) string {
	lines := strings.Split(body, "\n")
	for len(lines) < h {
		lines = append(lines, "")
	}
	bl := strings.Split(box, "\n")
	top := max(0, (h-len(bl))/2)
	bw := lipgloss.Width(box)
	left := max(0, (w-bw)/2)
	for i, l := range bl {
		if top+i >= len(lines) {
			break
		}
		lines[top+i] = strings.Repeat(" ", left) + l
	}
	return strings.Join(lines[:h], "\n")
}

// dialog is a modal: a plan to confirm, a step to approve, a secret to type.
type dialog struct {
	kind    string // plan, approve, secret
	title   string
	body    []string
	pb      *playbooks.Playbook
	cred    store.Credential
	runID   string
	step    string
	input   textinput.Model
	confirm map[string]bool
	params  map[string]any
}

func planDialog(p planMsg) *dialog {
	d := &dialog{kind: "plan", pb: p.pb, cred: p.cred, params: p.params, title: fmt.Sprintf("Rotate %s %s with %s?", p.cred.Kind, p.cred.Hint, p.pb.ID)}
	if p.ref != "" {
		d.title = fmt.Sprintf("Rotate and re-route %s %s with %s?", p.cred.Kind, p.cred.Hint, p.pb.ID)
		d.body = append(d.body, fmt.Sprintf("The gateway serves routes %s with this key (keystore entry %s). The new key goes into the keystore;", strings.Join(p.reroute, ", "), p.ref),
			"each route switches to it only after a canary request with it succeeds, with no request dropped.", "")
	}
	d.body = append(d.body, "Plan (nothing has changed yet):")
	for _, l := range p.lines {
		mark := "  "
		if l.Destructive {
			mark = "! "
		}
		d.body = append(d.body, fmt.Sprintf("%s%2d. %s: %s", mark, l.Index+1, l.Step, l.Change))
	}
	d.body = append(d.body, "", "! steps ask for your approval when they are reached.", "", "enter: start    esc: cancel")
	return d
}

func approvalDialog(runID, step, text string) *dialog {
	text, _, _ = strings.Cut(text, "; approve with `")
	return &dialog{kind: "approve", runID: runID, step: step, title: "Approve step " + step + " of run " + runID + "?",
		body: []string{"This will:", "  " + text, "", "y: approve and continue    n or esc: not now (the run stays paused, resumable)"}}
}

func secretDialog(p *dialog, prompt string) *dialog {
	ti := textinput.New()
	ti.EchoMode = textinput.EchoPassword
	ti.Prompt = "> "
	ti.Placeholder = "paste it here; it is never shown or stored"
	d := &dialog{kind: "secret", pb: p.pb, cred: p.cred, params: p.params, title: "A secret is needed", input: ti,
		body: []string{prompt, "", "enter: continue    esc: cancel"}}
	return d
}

func (d *dialog) view(th theme.Theme, width int) string {
	w := min(width-6, 110)
	var lines []string
	lines = append(lines, th.Bold.Render(sanitize.Display(d.title)), "")
	for _, l := range d.body {
		lines = append(lines, strings.Split(ansi.Wrap(sanitize.Display(l), w-6, ""), "\n")...)
	}
	if d.kind == "secret" {
		lines = append(lines, d.input.View())
	}
	return th.Dialog.Width(w).Render(strings.Join(lines, "\n"))
}

func (m Model) dialogKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	d := m.dialog
	switch d.kind {
	case "plan":
		switch k.String() {
		case "enter", "y":
			if st, ok := d.pb.NeedsSecret(); ok {
				m.dialog = secretDialog(d, st.SecretPrompt)
				return m, m.dialog.input.Focus()
			}
			m.dialog = nil
			return m.startWith(d, nil)
		case "esc", "n", "q":
			m.dialog = nil
			m.queue = nil
			m.status = "rotation cancelled: nothing was changed"
		}
	case "secret":
		switch k.String() {
		case "enter":
			v := d.input.Value()
			m.dialog = nil
			var sec *redact.Secret
			if v != "" {
				s := redact.NewSecretString(v)
				sec = &s
			}
			return m.startWith(d, sec)
		case "esc":
			m.dialog = nil
			m.queue = nil
			m.status = "rotation cancelled: nothing was changed"
			return m, nil
		}
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(k)
		return m, cmd
	case "approve":
		switch k.String() {
		case "y", "enter":
			m.dialog = nil
			runID, step := d.runID, d.step
			return m.startRun(func(ctx context.Context, o RunOptions) (string, string, error) {
				st, err := m.b.Resume(ctx, runID, o)
				return runID, st, err
			}, map[string]bool{step: true})
		case "n", "esc":
			m.dialog = nil
			m.status = "step " + d.step + " not approved: run " + d.runID + " stays paused (a on the Playbooks pane when ready)"
		}
	}
	return m, nil
}

func (m Model) startWith(d *dialog, sec *redact.Secret) (tea.Model, tea.Cmd) {
	pb, credID, params := d.pb, d.cred.ID, d.params
	return m.startRun(func(ctx context.Context, o RunOptions) (string, string, error) {
		o.Secret, o.Params = sec, params
		return m.b.Start(ctx, pb, credID, o)
	}, nil)
}
