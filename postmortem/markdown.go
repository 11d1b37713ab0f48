package postmortem

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// WriteMarkdown renders the report as a post-mortem draft in GitHub
// Flavored Markdown. Every value read from the record goes through mdText
// or mdCode; the prose around it is ours.
func WriteMarkdown(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	m := &mdWriter{w: bw, rep: rep}
	m.header()
	m.summary()
	m.impact()
	m.timeline()
	m.rootCause()
	m.detection()
	m.response()
	m.observations()
	m.actionItems()
	m.integrity()
	return bw.Flush()
}

type mdWriter struct {
	w   *bufio.Writer
	rep *Report
}

func (m *mdWriter) p(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

func (m *mdWriter) line(s string) {
	m.w.WriteString(s)
	m.w.WriteByte('\n')
}

func (m *mdWriter) prompt(section string) {
	for _, pr := range m.rep.Prompts {
		if pr.Section == section {
			m.p("\n> **✍ To complete:** %s\n", pr.Prompt)
		}
	}
}

// row writes one table row; cells are already escaped.
func (m *mdWriter) row(cells ...string) {
	m.w.WriteString("|")
	for _, c := range cells {
		if c == "" {
			c = "—"
		}
		m.w.WriteString(" " + c + " |")
	}
	m.w.WriteByte('\n')
}

func (m *mdWriter) head(cols ...string) {
	m.row(cols...)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = "---"
	}
	m.row(sep...)
}

const tableTime = "2006-01-02 15:04:05"

func ts(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(tableTime)
}

func day(t *time.Time) string {
	if t == nil {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

func (m *mdWriter) header() {
	r := m.rep
	m.p("# Post-mortem: %s\n\n", mdText(r.Incident))
	var titles []string
	for _, p := range r.Packs {
		if p.Title != "" {
			titles = append(titles, mdText(p.Title))
		}
	}
	if len(titles) > 0 {
		m.p("**Compromise:** %s  \n", strings.Join(titles, "; "))
	}
	m.p("**Status:** %s  \n", statusLine(r))
	m.p("**Draft generated:** %s by %s from the incident database. Every fact below comes from recorded scans, playbook runs and the hash-chained audit log; paragraphs marked ✍ are for people to write.\n",
		day(&r.GeneratedAt), mdText(r.Generator))
	c := r.Integrity.Chain
	if !c.Verified {
		m.p("\n> **Warning: the audit chain does not verify** (%s). Treat the record as suspect until this is explained.\n", mdText(c.FirstBad))
	}
	m.p("\n> Audit chain head: event %d, `%s` (%d events, %s). Check this draft's JSON export with `tourniquet audit verify --export FILE.json`.\n",
		c.HeadSeq, c.HeadHash, c.Events, verifiedWord(c.Verified))
}

func verifiedWord(ok bool) string {
	if ok {
		return "verified intact"
	}
	return "BROKEN"
}

func statusLine(r *Report) string {
	s := r.Summary
	switch {
	case s.Targets == 0:
		return "nothing has been scanned in this incident yet"
	case s.Contained:
		return "contained: no window is open and every exposed credential is rotated"
	case s.OpenWindows > 0:
		return fmt.Sprintf("active: %d target(s) still hold a compromised artefact; %d of %d exposed credentials rotated",
			s.OpenWindows, s.ExposedByRotation[store.RotationRotated], s.ByExposure[store.Exposed])
	}
	return fmt.Sprintf("cleaning up: no window is open; %d of %d exposed credentials rotated",
		s.ExposedByRotation[store.RotationRotated], s.ByExposure[store.Exposed])
}

func countsBy(m map[string]int, order []string) string {
	var parts []string
	for _, k := range order {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], words(k)))
		}
	}
	for _, k := range sortedKeys(m) {
		known := false
		for _, o := range order {
			known = known || o == k
		}
		if !known && m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], mdText(words(k))))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

var (
	kindOrder     = []string{"host", "cluster", "ci", "cloud"}
	exposureList  = []string{store.Exposed, store.Unknown, store.NotExposed}
	rotationList  = []string{store.RotationRotated, store.RotationInProgress, store.RotationManualRequired, store.RotationPending}
	runStateList  = []string{store.RunDone, store.RunRunning, store.RunAwaitingApproval, store.RunPaused, store.RunFailed, store.RunCancelled, store.RunPlanned}
	verdictsOrder = []string{store.VerdictCompromised, store.VerdictWasCompromised, store.VerdictUnknown, store.VerdictClean}
)

func (m *mdWriter) summary() {
	r, s := m.rep, m.rep.Summary
	m.line("\n## Summary\n")
	window := "no dated evidence of compromise"
	if s.WindowStart != nil {
		end := "still open"
		if s.WindowEnd != nil {
			end = "closed " + day(s.WindowEnd)
		}
		window = fmt.Sprintf("opened %s; %s", day(s.WindowStart), end)
	}
	m.p("**Verdict: %s.** %d of %d targets were affected (%s). The earliest window %s. %d credentials sat on the scanned targets; %d were exposed and %d could not be dated.\n\n",
		words(s.Verdict), s.AffectedTargets, s.Targets, countsBy(s.TargetsByKind, kindOrder), window, s.Credentials,
		s.ByExposure[store.Exposed], s.ByExposure[store.Unknown])
	m.head("Measure", "Value")
	m.row("Verdict", words(s.Verdict))
	m.row("Targets", countsBy(s.TargetsByKind, kindOrder)+fmt.Sprintf("; %d affected, %d with an open window", s.AffectedTargets, s.OpenWindows))
	m.row("Findings", fmt.Sprintf("%d (%s); %d still present at the last scan", s.Findings, countsBy(s.FindingsBySeverity, severities), s.FindingsOpen))
	m.row("Credentials", fmt.Sprintf("%d (%s)", s.Credentials, countsBy(s.ByExposure, exposureList)))
	m.row("Exposed credentials rotated", fmt.Sprintf("%d of %d (%s)", s.ExposedByRotation[store.RotationRotated], s.ByExposure[store.Exposed], countsBy(s.ExposedByRotation, rotationList)))
	m.row("Playbook runs", fmt.Sprintf("%d (%s)", s.Runs, countsBy(s.RunsByState, runStateList)))
	m.row("First evidence", ts(s.FirstEvidence))
	m.row("First finding recorded", ts(s.Detected))
	m.row("Last exposed credential rotated", ts(s.LastRotation))
	if g := r.Gateway; g.Requests > 0 || len(g.Switches) > 0 {
		m.row("LLM gateway", fmt.Sprintf("%s (%d failed), %s, %s", plural(int64(g.Requests), "request", "requests"), g.FailedRequests, plural(int64(len(g.Switches)), "route switch", "route switches"), plural(int64(len(g.CanaryFailures)), "failed canary", "failed canaries")))
	}
	m.prompt("summary")
}

func (m *mdWriter) impact() {
	r := m.rep
	m.line("\n## Impact\n")
	m.line("### Affected targets\n")
	if len(r.Targets) == 0 {
		m.line("No target has been scanned.")
	} else {
		m.head("Target", "Kind", "Verdict", "Window start", "Window end", "Why", "Findings", "Credentials (exposed)")
		for _, t := range r.Targets {
			end := ts(t.WindowEnd)
			if t.WindowOpen {
				end = "**open**"
			}
			why := ""
			if len(t.WindowBasis) > 0 {
				why = mdText(t.WindowBasis[0])
				if len(t.WindowBasis) > 1 {
					why += fmt.Sprintf(" (+%d)", len(t.WindowBasis)-1)
				}
			}
			m.row(mdCode(t.Name), mdText(t.Kind), mdText(words(t.Verdict)), ts(t.WindowStart), end, why,
				countsBy(t.FindingsBySeverity, severities), fmt.Sprintf("%d (%d)", t.Credentials, t.Exposed))
		}
	}
	m.line("\n### Exposed credentials by kind\n")
	type agg struct{ exposed, rotated, unknown int }
	byKind := map[string]*agg{}
	for _, c := range r.Credentials {
		a := byKind[c.Kind]
		if a == nil {
			a = &agg{}
			byKind[c.Kind] = a
		}
		switch c.Exposure {
		case store.Exposed:
			a.exposed++
			if c.Rotation == store.RotationRotated {
				a.rotated++
			}
		case store.Unknown:
			a.unknown++
		}
	}
	if len(byKind) == 0 {
		m.line("No credential was found on the scanned targets.")
	} else {
		m.head("Kind", "Exposed", "Rotated", "Exposure unknown")
		for _, k := range sortedKeys(byKind) {
			a := byKind[k]
			m.row(mdCode(k), fmt.Sprint(a.exposed), fmt.Sprint(a.rotated), fmt.Sprint(a.unknown))
		}
	}
	m.prompt("impact")
}

func (m *mdWriter) timeline() {
	r := m.rep
	m.line("\n## Timeline\n")
	key, all := 0, len(r.Timeline)
	for _, e := range r.Timeline {
		if e.Key {
			key++
		}
	}
	m.p("All times UTC. *Evidence* entries are dated by what the scans found on the targets (file times, shell history); *audit* entries are events of the hash-chained log (their sequence number in brackets). %d key entries of %d; the JSON and Timesketch exports hold them all.\n\n", key, all)
	if key == 0 {
		m.line("Nothing is recorded yet.")
		return
	}
	m.head("Time (UTC)", "Target", "What happened", "Source")
	for _, e := range r.Timeline {
		if !e.Key {
			continue
		}
		src := "evidence"
		if e.Source == "audit" {
			src = fmt.Sprintf("audit #%d", e.AuditSeq)
		}
		at := e.At
		m.row(ts(&at), mdCode(e.Target), mdText(e.Message), src)
	}
}

func (m *mdWriter) rootCause() {
	r := m.rep
	m.line("\n## Root cause and trigger\n")
	if len(r.Packs) == 0 {
		m.line("No IOC pack is recorded for the scanned targets.")
	}
	for _, p := range r.Packs {
		if !p.Known {
			m.p("- Pack %s: not a pack this build carries; see its file for the compromise it describes.\n", mdText(p.ID))
			continue
		}
		m.p("**%s** (pack %s)\n\n", mdText(p.Title), mdText(p.ID))
		if p.Description != "" {
			m.p("%s\n\n", mdText(p.Description))
		}
		if len(p.BadVersions) > 0 {
			m.head("Ecosystem", "Package", "Bad version", "How it runs")
			for _, v := range p.BadVersions {
				m.row(mdText(v.Ecosystem), mdCode(v.Name), mdCode(v.Version), mdText(v.Trigger))
			}
			m.line("")
		}
		if p.WindowStart != nil {
			end := "no end: exposure lasts until the artefacts are removed and the secrets rotated"
			if p.WindowEnd != nil {
				end = "ends " + day(p.WindowEnd)
			}
			m.p("The pack's window starts %s and %s.\n\n", day(p.WindowStart), end)
		}
		if len(p.References) > 0 {
			m.line("Sources:\n")
			for _, ref := range p.References {
				if u := safeURL(ref.URL); u != "" {
					m.p("- %s: <%s>\n", mdText(ref.Title), u)
				} else {
					m.p("- %s\n", mdText(ref.Title))
				}
			}
			m.line("")
		}
	}
	m.line("The earliest dated evidence on each target (the trigger, as far as the record tells):\n")
	n := 0
	for _, t := range r.Targets {
		if t.Earliest != nil {
			n++
		}
	}
	if n == 0 {
		m.line("No dated evidence was found.")
	} else {
		m.head("Target", "When", "Rule", "Evidence")
		for _, t := range r.Targets {
			if e := t.Earliest; e != nil {
				m.row(mdCode(t.Name), ts(e.ObservedAt), mdCode(e.Rule), mdText(e.Detail))
			}
		}
	}
	m.prompt("root_cause")
}

// safeURL returns u when it is a plain http(s) URL that cannot break out of
// an autolink (no spaces, brackets or quotes), else "".
func safeURL(u string) string {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("<>\"'`\\|{}^", c) >= 0 {
			return ""
		}
	}
	return u
}

// maxFindingRows is how many findings the Markdown lists one by one; the
// JSON has every one.
const maxFindingRows = 200

func (m *mdWriter) detection() {
	r, s := m.rep, m.rep.Summary
	m.line("\n## Detection\n")
	if s.Detected == nil {
		m.line("No finding has been recorded.")
	} else {
		m.p("The first finding was recorded %s", day(s.Detected))
		if s.WindowStart != nil && s.Detected.After(*s.WindowStart) {
			m.p(", %s after the earliest window opened (%s)", humanDuration(s.Detected.Sub(*s.WindowStart)), day(s.WindowStart))
		}
		m.line(".\n")
	}
	if len(r.Findings.ByPack) > 0 {
		m.line("Findings by pack and severity:\n")
		m.head(append([]string{"Pack"}, append(severities, "Total")...)...)
		for _, pack := range sortedKeys(r.Findings.ByPack) {
			cells := []string{mdCode(pack)}
			total := 0
			for _, sev := range severities {
				n := r.Findings.ByPack[pack][sev]
				total += n
				cells = append(cells, fmt.Sprint(n))
			}
			m.row(append(cells, fmt.Sprint(total))...)
		}
		m.line("")
		items := r.Findings.Items
		if len(items) > maxFindingRows {
			m.p("The %d most severe findings of %d (the JSON export lists all):\n\n", maxFindingRows, len(items))
			items = items[:maxFindingRows]
		} else {
			m.line("Every finding:\n")
		}
		m.head("Severity", "Target", "Rule", "Path or object", "Observed", "Detail", "State")
		for _, f := range items {
			state := "present"
			if f.Gone {
				state = "gone"
			}
			m.row(mdText(f.Severity), mdCode(f.Target), mdCode(f.Rule), mdCode(f.Path), ts(f.ObservedAt), mdText(f.Detail), state)
		}
	}
	m.prompt("detection")
}

func (m *mdWriter) response() {
	r := m.rep
	m.line("\n## Response\n")
	m.line("### Credential ledger\n")
	m.line("Every credential found on an affected target that was, or may have been, exposed: where it was, why it counts as exposed, what its provider says about its use, and how it was rotated. Values are never recorded; the hint and the fingerprint (`sha256:` and 16 hex digits of the value's SHA-256) identify it.\n")
	var exposed, other []Credential
	for _, c := range r.Credentials {
		if c.Exposure == store.NotExposed {
			other = append(other, c)
		} else {
			exposed = append(exposed, c)
		}
	}
	if len(exposed) == 0 {
		m.line("No exposed credential.")
	} else {
		m.head("Credential", "Where", "Owner", "Exposure", "Evidence of misuse", "Rotation", "Times (UTC)", "Approved by")
		for _, c := range exposed {
			cred := fmt.Sprintf("%s %s<br>%s<br>%s", mdCode(c.Kind), mdCode(c.Hint), mdCode(c.Fingerprint), mdCode(c.ID))
			where := mdCode(c.Target) + ":<br>" + mdCode(c.Path)
			exp := "**" + mdText(words(c.Exposure)) + "**"
			if c.Reason != "" {
				exp += ": " + mdText(c.Reason)
			}
			rot := "**" + mdText(words(c.Rotation)) + "**"
			if c.RotationRun != "" {
				rot += " by run " + mdCode(c.RotationRun)
				if len(c.Runs) > 1 {
					rot += fmt.Sprintf(" (%d runs)", len(c.Runs))
				}
			}
			times := "written " + orDash(ts(c.ModifiedAt)) + "<br>found " + ts(&c.FirstSeen) + "<br>rotated " + orDash(ts(c.RotatedAt))
			m.row(cred, where, mdText(c.Owner), exp, misuseText(c.Misuse), rot, times, mdText(strings.Join(c.ApprovedBy, ", ")))
		}
	}
	if len(other) > 0 {
		m.p("\n%d credentials were written after their target's window closed (their current value was never exposed; the provider may still hold an older, exposed one):\n\n", len(other))
		m.head("Credential", "Where", "Written", "Reason", "Rotation")
		for _, c := range other {
			m.row(mdCode(c.Kind)+" "+mdCode(c.Hint), mdCode(c.Target)+":<br>"+mdCode(c.Path), ts(c.ModifiedAt), mdText(c.Reason), mdText(words(c.Rotation)))
		}
	}

	m.line("\n### Playbook runs\n")
	if len(r.Runs) == 0 {
		m.line("No playbook has been run.")
	} else {
		m.head("Run", "Playbook", "Credential", "State", "Started", "Finished", "Steps done", "Approvals")
		for _, run := range r.Runs {
			done := 0
			var approvals []string
			for _, st := range run.Steps {
				if st.State == store.StepDone || st.State == store.StepSkipped {
					done++
				}
				if st.ApprovedBy != "" {
					approvals = append(approvals, mdCode(st.Name)+" by "+mdText(st.ApprovedBy))
				}
			}
			state := "**" + mdText(words(run.State)) + "**"
			if run.Error != "" {
				state += ": " + mdText(run.Error)
			}
			m.row(mdCode(run.ID), mdCode(run.Playbook), mdCode(run.CredentialHint), state, ts(&run.CreatedAt), ts(run.FinishedAt),
				fmt.Sprintf("%d of %d", done, len(run.Steps)), strings.Join(approvals, "<br>"))
		}
	}
	if g := r.Gateway; g.Requests > 0 || len(g.Switches) > 0 || len(g.CanaryFailures) > 0 {
		m.line("\n### LLM gateway\n")
		m.p("The gateway served %d requests (%d failed) between %s and %s, recorded in %d audit batches.\n\n", g.Requests, g.FailedRequests,
			orDash(ts(g.FirstRequest)), orDash(ts(g.LastRequest)), g.RequestBatches)
		if len(g.Switches)+len(g.CanaryFailures) > 0 {
			m.head("Time (UTC)", "Route", "Change", "Audit")
			for _, c := range g.Switches {
				at := c.At
				m.row(ts(&at), mdCode(c.Route), "switched to "+mdCode(c.NewHint)+" after a successful canary", fmt.Sprintf("#%d", c.Seq))
			}
			for _, c := range g.CanaryFailures {
				at := c.At
				m.row(ts(&at), mdCode(c.Route), "canary with "+mdCode(c.NewHint)+" failed: "+mdText(c.Error)+"; the route kept its key", fmt.Sprintf("#%d", c.Seq))
			}
		}
	}
	m.prompt("response")
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func misuseText(u Misuse) string {
	var s string
	switch u.Status {
	case "found":
		s = fmt.Sprintf("**use recorded** (%d provider findings)", len(u.Findings))
	case "checked":
		s = "checked"
	default:
		return "not checked"
	}
	if u.Summary != "" {
		s += ": " + mdText(u.Summary)
	}
	return s
}

func (m *mdWriter) observations() {
	r := m.rep
	m.line("\n## What went well\n")
	m.line("From the record:\n")
	bullets(m, r.Observations.Well, "Nothing the record can show.")
	m.prompt("went_well")
	m.line("\n## What went badly\n")
	m.line("From the record:\n")
	bullets(m, r.Observations.Badly, "Nothing the record can show.")
	m.prompt("went_badly")
}

func bullets(m *mdWriter, items []string, none string) {
	if len(items) == 0 {
		m.line("- " + none)
		return
	}
	for _, it := range items {
		m.line("- " + mdText(it))
	}
}

func (m *mdWriter) actionItems() {
	r := m.rep
	m.line("\n## Action items\n")
	m.line("### Open items (from the record)\n")
	if len(r.OpenItems) == 0 {
		m.line("None: every exposed credential is rotated, no run waits and no window is open.")
	} else {
		m.head("Done", "Open item", "Command")
		for _, it := range r.OpenItems {
			m.row("☐", mdText(it.Text), mdCode(it.Command))
		}
	}
	m.line("\n### Follow-up actions\n")
	m.head("Action", "Owner", "Due", "Ticket")
	m.row("✍", "", "", "")
	m.prompt("action_items")
}

func (m *mdWriter) integrity() {
	r := m.rep
	in := r.Integrity
	m.line("\n## Evidence integrity\n")
	m.p("This draft was built from the incident database and its audit chain as they stood at %s. The JSON export of the same content can be checked against the live chain with `tourniquet audit verify --export FILE.json`.\n\n", day(&r.GeneratedAt))
	m.head("Item", "Value")
	m.row("Audit chain", fmt.Sprintf("%d events, %s", in.Chain.Events, verifiedWord(in.Chain.Verified)))
	m.row("Chain head", fmt.Sprintf("event %d, `%s`", in.Chain.HeadSeq, in.Chain.HeadHash))
	m.row("Incident events", fmt.Sprintf("%d, digest `%s`", in.IncidentEvents, in.EventsDigest))
	var kinds []string
	for _, k := range sortedKeys(in.EventsByKind) {
		kinds = append(kinds, fmt.Sprintf("%s %d", mdCode(k), in.EventsByKind[k]))
	}
	m.row("Events by kind", strings.Join(kinds, ", "))
	m.row("Report content", "`"+in.ContentSHA256+"`")
}
