package postmortem

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// WriteHTML renders the report as one self-contained page: styles inline,
// the timeline an inline SVG, no script, no external asset (the page's
// Content-Security-Policy forbids loading any), readable printed. Values are
// escaped by html/template for their context, after sanitize.Terminal made
// control and bidi characters visible.
func WriteHTML(w io.Writer, rep *Report) error {
	bw := bufio.NewWriter(w)
	v := htmlView{R: rep, SVG: layoutTimeline(rep)}
	for _, c := range rep.Credentials {
		if c.Exposure == store.NotExposed {
			v.Other = append(v.Other, c)
		} else {
			v.Exposed = append(v.Exposed, c)
		}
	}
	for _, e := range rep.Timeline {
		if e.Key {
			v.Key = append(v.Key, e)
		}
	}
	v.Findings = rep.Findings.Items
	if len(v.Findings) > maxFindingRows {
		v.Findings, v.MoreFindings = v.Findings[:maxFindingRows], len(rep.Findings.Items)-maxFindingRows
	}
	v.Prompts = map[string]string{}
	for _, p := range rep.Prompts {
		v.Prompts[p.Section] = p.Prompt
	}
	if err := htmlTmpl.Execute(bw, v); err != nil {
		return fmt.Errorf("post-mortem html: %w", err)
	}
	return bw.Flush()
}

type htmlView struct {
	R            *Report
	SVG          svgTimeline
	Exposed      []Credential
	Other        []Credential
	Key          []TimelineEntry
	Findings     []Finding
	MoreFindings int
	Prompts      map[string]string
}

// svgTimeline is the timeline drawn: one row per target (its window) and
// one per credential (its life, from when its current value was written
// until its rotation or the export), over the target's window band.
type svgTimeline struct {
	Width, Height string
	Empty         bool
	Ticks         []svgTick
	Bands         []svgRect
	Rows          []svgRow
	NowX          string
	ChartBottom   string
	MoreRows      int
}

type svgTick struct{ X, Label string }

type svgRect struct{ X, Y, W, H string }

type svgRow struct {
	Y, TextY, LabelX string
	Label, Title     string
	Target           bool
	Class            string
	Bar              *svgRect
	Mark             *svgRect // rotation
	Clipped          bool     // began before the drawn range
	ClipX            string
}

const (
	svgLabelW  = 300.0
	svgChartW  = 880.0
	svgRowH    = 18.0
	svgTop     = 30.0
	svgMaxRows = 400
)

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

func layoutTimeline(rep *Report) svgTimeline {
	hi := rep.GeneratedAt.UTC()
	var lo time.Time
	for _, t := range rep.Targets {
		if t.WindowStart != nil && (lo.IsZero() || t.WindowStart.Before(lo)) {
			lo = *t.WindowStart
		}
	}
	if lo.IsZero() {
		for _, c := range rep.Credentials {
			if lo.IsZero() || c.FirstSeen.Before(lo) {
				lo = c.FirstSeen
			}
		}
	}
	if lo.IsZero() || !lo.Before(hi) {
		lo = hi.Add(-7 * 24 * time.Hour)
	}
	// A day of room before the first window, so its start is visible.
	lo = lo.Add(-24 * time.Hour).Truncate(24 * time.Hour)
	span := hi.Sub(lo).Seconds()
	x := func(t time.Time) float64 {
		if t.Before(lo) {
			t = lo
		}
		if t.After(hi) {
			t = hi
		}
		return svgLabelW + t.Sub(lo).Seconds()/span*svgChartW
	}
	sv := svgTimeline{Width: f1(svgLabelW + svgChartW + 20), NowX: f1(x(hi))}

	y := svgTop
	rows := 0
	for _, t := range rep.Targets {
		var creds []Credential
		for _, c := range rep.Credentials {
			if c.Target == t.Name && c.TargetKind == t.Kind {
				creds = append(creds, c)
			}
		}
		if t.WindowStart == nil && len(creds) == 0 {
			continue
		}
		if rows >= svgMaxRows {
			sv.MoreRows += 1 + len(creds)
			continue
		}
		top := y
		row := svgRow{Y: f1(y), TextY: f1(y + 13), LabelX: "4", Target: true, Label: clip(display(t.Kind+" "+t.Name), 44),
			Title: display(fmt.Sprintf("%s %s: %s", t.Kind, t.Name, words(t.Verdict)))}
		if t.WindowStart != nil {
			end := hi
			if t.WindowEnd != nil && !t.WindowOpen {
				end = *t.WindowEnd
			}
			row.Class = "win"
			if t.WindowOpen {
				row.Class = "win open"
			}
			x0, x1 := x(*t.WindowStart), x(end)
			row.Bar = &svgRect{X: f1(x0), Y: f1(y + 3), W: f1(max(x1-x0, 2)), H: f1(svgRowH - 6)}
			row.Title = display(fmt.Sprintf("%s %s: window %s – %s", t.Kind, t.Name, ts(t.WindowStart), windowEnd(t.WindowEnd, t.WindowOpen)))
		}
		sv.Rows = append(sv.Rows, row)
		rows++
		y += svgRowH
		for _, c := range creds {
			if rows >= svgMaxRows {
				sv.MoreRows++
				continue
			}
			r := svgRow{Y: f1(y), TextY: f1(y + 13), LabelX: "16", Label: clip(display(c.Kind+" "+c.Hint), 42), Class: "life " + strings.ReplaceAll(c.Exposure, "_", "-")}
			start := c.ModifiedAt
			if start == nil {
				fs := c.FirstSeen
				start = &fs
				r.Class += " undated"
			}
			end := hi
			if c.RotatedAt != nil {
				end = *c.RotatedAt
			}
			x0, x1 := x(*start), x(end)
			r.Bar = &svgRect{X: f1(x0), Y: f1(y + 5), W: f1(max(x1-x0, 2)), H: f1(svgRowH - 10)}
			if start.Before(lo) {
				r.Clipped, r.ClipX = true, f1(svgLabelW-2)
			}
			if c.RotatedAt != nil {
				r.Mark = &svgRect{X: f1(x1 - 1.5), Y: f1(y + 2), W: "3", H: f1(svgRowH - 4)}
			}
			rot := "not rotated"
			if c.RotatedAt != nil {
				rot = "rotated " + ts(c.RotatedAt)
			}
			r.Title = display(fmt.Sprintf("%s %s (%s) at %s:%s, written %s, %s, %s", c.Kind, c.Hint, c.ID, c.Target, c.Path,
				orDash(ts(c.ModifiedAt)), words(c.Exposure), rot))
			sv.Rows = append(sv.Rows, r)
			rows++
			y += svgRowH
		}
		if t.WindowStart != nil {
			end := hi
			if t.WindowEnd != nil && !t.WindowOpen {
				end = *t.WindowEnd
			}
			x0, x1 := x(*t.WindowStart), x(end)
			sv.Bands = append(sv.Bands, svgRect{X: f1(x0), Y: f1(top), W: f1(max(x1-x0, 2)), H: f1(y - top)})
		}
	}
	sv.Empty = len(sv.Rows) == 0
	sv.ChartBottom = f1(y)
	sv.Height = f1(y + 10)
	step, format := tickStep(hi.Sub(lo))
	for t := lo; !t.After(hi); t = t.Add(step) {
		sv.Ticks = append(sv.Ticks, svgTick{X: f1(x(t)), Label: t.Format(format)})
	}
	return sv
}

func windowEnd(end *time.Time, open bool) string {
	if open || end == nil {
		return "open"
	}
	return ts(end)
}

func tickStep(span time.Duration) (time.Duration, string) {
	day := 24 * time.Hour
	switch {
	case span <= 3*day:
		return 6 * time.Hour, "01-02 15h"
	case span <= 21*day:
		return day, "01-02"
	case span <= 120*day:
		return 7 * day, "01-02"
	}
	return 30 * day, "2006-01"
}

var htmlFuncs = template.FuncMap{
	"disp":   display,
	"ts":     ts,
	"tsv":    func(t time.Time) string { return ts(&t) },
	"day":    day,
	"words":  func(s string) string { return words(display(s)) },
	"join":   func(s []string) string { return display(strings.Join(s, ", ")) },
	"url":    safeURL,
	"counts": func(m map[string]int, order string) string { return countsHTML(m, order) },
	"sevs":   func() []string { return severities },
	"plural": func(n any, one, many string) string {
		switch v := n.(type) {
		case int:
			return plural(int64(v), one, many)
		case int64:
			return plural(v, one, many)
		}
		return fmt.Sprint(n) + " " + many
	},
	"get": func(m map[string]int, k string) int {
		return m[k]
	},
	"getp": func(m map[string]map[string]int, p, k string) int { return m[p][k] },
	"total": func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	},
	"keys":     func(m map[string]map[string]int) []string { return sortedKeys(m) },
	"kindkeys": func(m map[string]int) []string { return sortedKeys(m) },
	"status":   statusLine,
	"verified": verifiedWord,
	"misuse": func(u Misuse) string {
		s := "not checked"
		switch u.Status {
		case "found":
			s = fmt.Sprintf("use recorded (%d provider findings)", len(u.Findings))
		case "checked":
			s = "checked"
		}
		if u.Summary != "" {
			s += ": " + display(u.Summary)
		}
		return s
	},
	"stepsdone": func(r Run) string {
		done := 0
		for _, st := range r.Steps {
			if st.State == store.StepDone || st.State == store.StepSkipped {
				done++
			}
		}
		return fmt.Sprintf("%d of %d", done, len(r.Steps))
	},
	"cls": func(s string) string { return strings.ReplaceAll(s, "_", "-") },
}

func countsHTML(m map[string]int, order string) string {
	var o []string
	switch order {
	case "sev":
		o = severities
	case "kind":
		o = kindOrder
	case "exposure":
		o = exposureList
	case "rotation":
		o = rotationList
	case "run":
		o = runStateList
	}
	return display(countsBy(m, o))
}

var htmlTmpl = template.Must(template.New("postmortem").Funcs(htmlFuncs).Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{.R.Generator}}">
<title>Post-mortem: {{disp .R.Incident}}</title>
<style>
:root { --bad: #b03a2e; --warn: #b9770e; --ok: #1e8449; --muted: #5d6d7e; --line: #d5d8dc; --band: rgba(176, 58, 46, 0.10); }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1c2833; margin: 0 auto; padding: 24px 32px 64px; max-width: 1280px; }
h1 { font-size: 26px; margin: 0 0 6px; } h2 { font-size: 20px; margin: 32px 0 8px; border-bottom: 2px solid var(--line); padding-bottom: 4px; } h3 { font-size: 16px; margin: 20px 0 6px; }
.meta { color: var(--muted); margin: 2px 0; } .meta b { color: #1c2833; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f2f3f4; } thead { display: table-header-group; } tr { break-inside: avoid; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.exposed, .sev-critical, .state-failed, .rot-pending, .warn-text { color: var(--bad); font-weight: 600; }
.unknown, .sev-high, .state-awaiting-approval, .state-paused, .rot-in-progress, .rot-manual-required { color: var(--warn); font-weight: 600; }
.rotated, .state-done, .rot-rotated { color: var(--ok); font-weight: 600; }
aside.prompt { border-left: 4px solid var(--warn); background: #fef5e7; padding: 8px 12px; margin: 10px 0; }
aside.prompt::before { content: "\270D  To complete: "; font-weight: 700; }
.alert { border: 2px solid var(--bad); background: #fdedec; padding: 8px 12px; margin: 10px 0; font-weight: 600; }
nav { margin: 12px 0; font-size: 13px; } nav a { margin-right: 10px; }
figure { margin: 8px 0; } figcaption { color: var(--muted); font-size: 12px; }
svg.timeline { width: 100%; height: auto; display: block; border: 1px solid var(--line); background: #fff; }
svg.timeline text { font: 11px system-ui, sans-serif; fill: #1c2833; }
svg.timeline text.target { font-weight: 700; } svg.timeline text.tick { fill: var(--muted); font-size: 10px; }
svg.timeline line.grid { stroke: #eaecee; } svg.timeline line.now { stroke: #1c2833; stroke-dasharray: 4 3; }
svg.timeline rect.band { fill: var(--band); }
svg.timeline rect.win { fill: var(--bad); opacity: 0.85; } svg.timeline rect.win.open { fill: url(#open); opacity: 1; }
svg.timeline rect.life.exposed { fill: var(--bad); } svg.timeline rect.life.unknown { fill: var(--warn); } svg.timeline rect.life.not-exposed { fill: #aab7b8; }
svg.timeline rect.life.undated { opacity: 0.55; } svg.timeline rect.rotated { fill: var(--ok); }
.legend span { display: inline-block; margin-right: 14px; } .legend i { display: inline-block; width: 18px; height: 8px; margin-right: 4px; vertical-align: middle; }
ul.checks { list-style: none; padding-left: 0; } ul.checks li::before { content: "\2610  "; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; } nav { display: none; }
  h2 { break-after: avoid; } table { font-size: 10px; } section { break-inside: auto; }
  a { color: inherit; text-decoration: none; }
}
</style>
</head>
<body>
<header>
<h1>Post-mortem: {{disp .R.Incident}}</h1>
{{- range .R.Packs}}{{if .Title}}<p class="meta"><b>Compromise:</b> {{disp .Title}}</p>{{end}}{{end}}
<p class="meta"><b>Status:</b> {{status .R}}</p>
<p class="meta"><b>Draft generated</b> {{day .R.GeneratedAt}} by {{disp .R.Generator}} from the incident database: every fact comes from recorded scans, playbook runs and the hash-chained audit log; boxes marked ✍ are for people to write.</p>
<p class="meta"><b>Audit chain head:</b> event {{.R.Integrity.Chain.HeadSeq}}, <code>{{.R.Integrity.Chain.HeadHash}}</code> ({{.R.Integrity.Chain.Events}} events, {{verified .R.Integrity.Chain.Verified}})</p>
{{- if not .R.Integrity.Chain.Verified}}
<p class="alert">Warning: the audit chain does not verify ({{disp .R.Integrity.Chain.FirstBad}}). Treat the record as suspect until this is explained.</p>
{{- end}}
</header>
<nav><a href="#summary">Summary</a><a href="#impact">Impact</a><a href="#timeline">Timeline</a><a href="#root-cause">Root cause</a><a href="#detection">Detection</a><a href="#response">Response</a><a href="#well">Went well</a><a href="#badly">Went badly</a><a href="#actions">Action items</a><a href="#integrity">Integrity</a></nav>

<section id="summary">
<h2>Summary</h2>
<table class="kv">
<tbody>
<tr><th>Verdict</th><td>{{words .R.Summary.Verdict}}</td></tr>
<tr><th>Targets</th><td>{{counts .R.Summary.TargetsByKind "kind"}}; {{.R.Summary.AffectedTargets}} affected, {{.R.Summary.OpenWindows}} with an open window</td></tr>
<tr><th>Earliest window</th><td>{{if .R.Summary.WindowStart}}{{day .R.Summary.WindowStart}} – {{if .R.Summary.WindowEnd}}{{day .R.Summary.WindowEnd}}{{else}}<span class="exposed">open</span>{{end}}{{else}}no dated evidence{{end}}</td></tr>
<tr><th>Findings</th><td>{{.R.Summary.Findings}} ({{counts .R.Summary.FindingsBySeverity "sev"}}); {{.R.Summary.FindingsOpen}} still present at the last scan</td></tr>
<tr><th>Credentials</th><td>{{.R.Summary.Credentials}} ({{counts .R.Summary.ByExposure "exposure"}})</td></tr>
<tr><th>Exposed credentials rotated</th><td>{{get .R.Summary.ExposedByRotation "rotated"}} of {{get .R.Summary.ByExposure "exposed"}} ({{counts .R.Summary.ExposedByRotation "rotation"}})</td></tr>
<tr><th>Playbook runs</th><td>{{.R.Summary.Runs}} ({{counts .R.Summary.RunsByState "run"}})</td></tr>
<tr><th>First evidence</th><td>{{ts .R.Summary.FirstEvidence}}</td></tr>
<tr><th>First finding recorded</th><td>{{ts .R.Summary.Detected}}</td></tr>
<tr><th>Last exposed credential rotated</th><td>{{ts .R.Summary.LastRotation}}</td></tr>
{{- if or .R.Gateway.Requests .R.Gateway.Switches}}
<tr><th>LLM gateway</th><td>{{plural .R.Gateway.Requests "request" "requests"}} ({{.R.Gateway.FailedRequests}} failed), {{plural (len .R.Gateway.Switches) "route switch" "route switches"}}, {{plural (len .R.Gateway.CanaryFailures) "failed canary" "failed canaries"}}</td></tr>
{{- end}}
</tbody>
</table>
<aside class="prompt">{{index .Prompts "summary"}}</aside>
</section>

<section id="impact">
<h2>Impact</h2>
<h3>Affected targets</h3>
<table class="targets">
<thead><tr><th>Target</th><th>Kind</th><th>Verdict</th><th>Window start</th><th>Window end</th><th>Why</th><th>Findings</th><th>Credentials (exposed)</th></tr></thead>
<tbody>
{{- range .R.Targets}}
<tr><td class="mono">{{disp .Name}}</td><td>{{disp .Kind}}</td><td class="{{if eq .Verdict "compromised"}}exposed{{end}}">{{words .Verdict}}</td><td>{{ts .WindowStart}}</td><td>{{if .WindowOpen}}<span class="exposed">open</span>{{else}}{{ts .WindowEnd}}{{end}}</td><td>{{join .WindowBasis}}</td><td>{{counts .FindingsBySeverity "sev"}}</td><td class="num">{{.Credentials}} ({{.Exposed}})</td></tr>
{{- end}}
</tbody>
</table>
<aside class="prompt">{{index .Prompts "impact"}}</aside>
</section>

<section id="timeline">
<h2>Timeline</h2>
<figure>
{{- if .SVG.Empty}}
<p>Nothing dated is recorded yet.</p>
{{- else}}
<svg class="timeline" id="timeline-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {{.SVG.Width}} {{.SVG.Height}}" role="img" aria-label="Credential lives against the compromised windows">
<defs><pattern id="open" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#b03a2e" opacity="0.35"></rect><rect width="3" height="6" fill="#b03a2e"></rect></pattern></defs>
{{- range .SVG.Ticks}}
<line class="grid" x1="{{.X}}" x2="{{.X}}" y1="22" y2="{{$.SVG.ChartBottom}}"></line><text class="tick" x="{{.X}}" y="16" text-anchor="middle">{{.Label}}</text>
{{- end}}
{{- range .SVG.Bands}}
<rect class="band" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"></rect>
{{- end}}
<line class="now" x1="{{.SVG.NowX}}" x2="{{.SVG.NowX}}" y1="22" y2="{{.SVG.ChartBottom}}"></line>
{{- range .SVG.Rows}}
<g class="row{{if .Target}} target-row{{else}} cred-row{{end}}"><title>{{.Title}}</title><text class="{{if .Target}}target{{end}}" x="{{.LabelX}}" y="{{.TextY}}">{{.Label}}</text>
{{- if .Bar}}<rect class="{{.Class}}" x="{{.Bar.X}}" y="{{.Bar.Y}}" width="{{.Bar.W}}" height="{{.Bar.H}}"></rect>{{end}}
{{- if .Clipped}}<text class="tick" x="{{.ClipX}}" y="{{.TextY}}" text-anchor="end">◀</text>{{end}}
{{- if .Mark}}<rect class="rotated" x="{{.Mark.X}}" y="{{.Mark.Y}}" width="{{.Mark.W}}" height="{{.Mark.H}}"></rect>{{end}}</g>
{{- end}}
</svg>
<figcaption class="legend"><span><i style="background:#b03a2e"></i>window (target row) / exposed credential</span><span><i style="background:#b9770e"></i>exposure unknown</span><span><i style="background:#aab7b8"></i>written after the window</span><span><i style="background:#1e8449"></i>rotated</span><span><i style="background:rgba(176,58,46,0.25)"></i>window band</span> Bars run from when the credential's current value was written (◀: before the chart) until its rotation or this export (dashed line).{{if .SVG.MoreRows}} {{.SVG.MoreRows}} more rows are in the JSON export.{{end}}</figcaption>
{{- end}}
</figure>
<h3>Key events</h3>
<p class="meta">All times UTC. Evidence entries are dated by what scans found on the targets; audit entries are events of the hash-chained log (sequence number shown). The JSON and Timesketch exports hold all {{len .R.Timeline}} entries.</p>
<table class="events">
<thead><tr><th>Time (UTC)</th><th>Target</th><th>What happened</th><th>Source</th></tr></thead>
<tbody>
{{- range .Key}}
<tr><td class="mono">{{tsv .At}}</td><td class="mono">{{disp .Target}}</td><td>{{disp .Message}}</td><td>{{if eq .Source "audit"}}audit #{{.AuditSeq}}{{else}}evidence{{end}}</td></tr>
{{- end}}
</tbody>
</table>
</section>

<section id="root-cause">
<h2>Root cause and trigger</h2>
{{- range .R.Packs}}
{{- if .Known}}
<h3>{{disp .Title}} <small class="meta">(pack {{disp .ID}})</small></h3>
<p>{{disp .Description}}</p>
{{- if .BadVersions}}
<table class="versions"><thead><tr><th>Ecosystem</th><th>Package</th><th>Bad version</th><th>How it runs</th></tr></thead><tbody>
{{- range .BadVersions}}<tr><td>{{disp .Ecosystem}}</td><td class="mono">{{disp .Name}}</td><td class="mono">{{disp .Version}}</td><td>{{disp .Trigger}}</td></tr>{{end}}
</tbody></table>
{{- end}}
{{- if .References}}<p>Sources:</p><ul>{{range .References}}<li>{{if url .URL}}<a href="{{url .URL}}" rel="noreferrer noopener">{{disp .Title}}</a>{{else}}{{disp .Title}}{{end}}</li>{{end}}</ul>{{end}}
{{- else}}
<p>Pack <code>{{disp .ID}}</code>: not a pack this build carries.</p>
{{- end}}
{{- end}}
<h3>Earliest evidence per target</h3>
<table class="earliest"><thead><tr><th>Target</th><th>When</th><th>Rule</th><th>Evidence</th></tr></thead><tbody>
{{- range .R.Targets}}{{if .Earliest}}
<tr><td class="mono">{{disp .Name}}</td><td class="mono">{{ts .Earliest.ObservedAt}}</td><td class="mono">{{disp .Earliest.Rule}}</td><td>{{disp .Earliest.Detail}}</td></tr>
{{- end}}{{end}}
</tbody></table>
<aside class="prompt">{{index .Prompts "root_cause"}}</aside>
</section>

<section id="detection">
<h2>Detection</h2>
<p>{{if .R.Summary.Detected}}The first finding was recorded {{day .R.Summary.Detected}}.{{else}}No finding has been recorded.{{end}}</p>
<table class="bypack"><thead><tr><th>Pack</th>{{range sevs}}<th>{{.}}</th>{{end}}<th>Total</th></tr></thead><tbody>
{{- range $p := keys .R.Findings.ByPack}}
<tr><td class="mono">{{disp $p}}</td>{{range $s := sevs}}<td class="num">{{getp $.R.Findings.ByPack $p $s}}</td>{{end}}<td class="num">{{total (index $.R.Findings.ByPack $p)}}</td></tr>
{{- end}}
</tbody></table>
<table class="findings"><thead><tr><th>Severity</th><th>Target</th><th>Rule</th><th>Path or object</th><th>Observed</th><th>Detail</th><th>State</th></tr></thead><tbody>
{{- range .Findings}}
<tr><td class="sev-{{cls .Severity}}">{{disp .Severity}}</td><td class="mono">{{disp .Target}}</td><td class="mono">{{disp .Rule}}</td><td class="mono">{{disp .Path}}</td><td class="mono">{{ts .ObservedAt}}</td><td>{{disp .Detail}}</td><td>{{if .Gone}}gone{{else}}present{{end}}</td></tr>
{{- end}}
</tbody></table>
{{- if .MoreFindings}}<p class="meta">{{.MoreFindings}} less severe findings are in the JSON export.</p>{{end}}
<aside class="prompt">{{index .Prompts "detection"}}</aside>
</section>

<section id="response">
<h2>Response</h2>
<h3>Credential ledger</h3>
<p class="meta">Every credential that was, or may have been, exposed. Values are never recorded: the hint and the fingerprint identify each one.</p>
<table class="ledger"><thead><tr><th>Credential</th><th>Where</th><th>Owner</th><th>Exposure</th><th>Evidence of misuse</th><th>Rotation</th><th>Times (UTC)</th><th>Approved by</th></tr></thead><tbody>
{{- range .Exposed}}
<tr><td><code>{{disp .Kind}}</code> <code>{{disp .Hint}}</code><br><code>{{.Fingerprint}}</code><br><code>{{disp .ID}}</code></td><td class="mono">{{disp .Target}}:<br>{{disp .Path}}</td><td>{{disp .Owner}}</td><td><span class="{{cls .Exposure}}">{{words .Exposure}}</span>{{if .Reason}}: {{disp .Reason}}{{end}}</td><td>{{misuse .Misuse}}</td><td><span class="rot-{{cls .Rotation}}">{{words .Rotation}}</span>{{if .RotationRun}} by run <code>{{disp .RotationRun}}</code>{{end}}</td><td class="mono">written {{ts .ModifiedAt}}<br>found {{tsv .FirstSeen}}<br>rotated {{ts .RotatedAt}}</td><td>{{join .ApprovedBy}}</td></tr>
{{- end}}
</tbody></table>
{{- if .Other}}
<p>{{len .Other}} credentials were written after their target's window closed (their current value was never exposed):</p>
<table class="not-exposed"><thead><tr><th>Credential</th><th>Where</th><th>Written</th><th>Reason</th><th>Rotation</th></tr></thead><tbody>
{{- range .Other}}
<tr><td><code>{{disp .Kind}}</code> <code>{{disp .Hint}}</code></td><td class="mono">{{disp .Target}}:<br>{{disp .Path}}</td><td class="mono">{{ts .ModifiedAt}}</td><td>{{disp .Reason}}</td><td>{{words .Rotation}}</td></tr>
{{- end}}
</tbody></table>
{{- end}}
<h3>Playbook runs</h3>
<table class="runs"><thead><tr><th>Run</th><th>Playbook</th><th>Credential</th><th>State</th><th>Started</th><th>Finished</th><th>Steps done</th><th>Approvals</th></tr></thead><tbody>
{{- range .R.Runs}}
<tr><td class="mono">{{disp .ID}}</td><td class="mono">{{disp .Playbook}}</td><td class="mono">{{disp .CredentialHint}}</td><td><span class="state-{{cls .State}}">{{words .State}}</span>{{if .Error}}: {{disp .Error}}{{end}}</td><td class="mono">{{tsv .CreatedAt}}</td><td class="mono">{{ts .FinishedAt}}</td><td class="num">{{stepsdone .}}</td><td>{{range .Steps}}{{if .ApprovedBy}}<code>{{disp .Name}}</code> by {{disp .ApprovedBy}}<br>{{end}}{{end}}</td></tr>
{{- end}}
</tbody></table>
{{- if or .R.Gateway.Requests .R.Gateway.Switches .R.Gateway.CanaryFailures}}
<h3>LLM gateway</h3>
<p>{{.R.Gateway.Requests}} requests ({{.R.Gateway.FailedRequests}} failed) between {{ts .R.Gateway.FirstRequest}} and {{ts .R.Gateway.LastRequest}}, in {{.R.Gateway.RequestBatches}} audit batches.</p>
<table class="gateway"><thead><tr><th>Time (UTC)</th><th>Route</th><th>Change</th><th>Audit</th></tr></thead><tbody>
{{- range .R.Gateway.Switches}}<tr><td class="mono">{{tsv .At}}</td><td class="mono">{{disp .Route}}</td><td>switched to <code>{{disp .NewHint}}</code> after a successful canary</td><td>#{{.Seq}}</td></tr>{{end}}
{{- range .R.Gateway.CanaryFailures}}<tr><td class="mono">{{tsv .At}}</td><td class="mono">{{disp .Route}}</td><td class="warn-text">canary with <code>{{disp .NewHint}}</code> failed: {{disp .Error}}; the route kept its key</td><td>#{{.Seq}}</td></tr>{{end}}
</tbody></table>
{{- end}}
<aside class="prompt">{{index .Prompts "response"}}</aside>
</section>

<section id="well">
<h2>What went well</h2>
<ul>{{range .R.Observations.Well}}<li>{{disp .}}</li>{{else}}<li>Nothing the record can show.</li>{{end}}</ul>
<aside class="prompt">{{index .Prompts "went_well"}}</aside>
</section>
<section id="badly">
<h2>What went badly</h2>
<ul>{{range .R.Observations.Badly}}<li>{{disp .}}</li>{{else}}<li>Nothing the record can show.</li>{{end}}</ul>
<aside class="prompt">{{index .Prompts "went_badly"}}</aside>
</section>

<section id="actions">
<h2>Action items</h2>
<h3>Open items (from the record)</h3>
{{- if .R.OpenItems}}
<table class="open-items"><thead><tr><th>Open item</th><th>Command</th></tr></thead><tbody>
{{- range .R.OpenItems}}<tr><td>☐ {{disp .Text}}</td><td><code>{{disp .Command}}</code></td></tr>{{end}}
</tbody></table>
{{- else}}
<p>None: every exposed credential is rotated, no run waits and no window is open.</p>
{{- end}}
<h3>Follow-up actions</h3>
<table class="follow-up"><thead><tr><th>Action</th><th>Owner</th><th>Due</th><th>Ticket</th></tr></thead><tbody><tr><td>✍</td><td></td><td></td><td></td></tr></tbody></table>
<aside class="prompt">{{index .Prompts "action_items"}}</aside>
</section>

<section id="integrity">
<h2>Evidence integrity</h2>
<p>Built from the incident database and its audit chain as they stood at {{day .R.GeneratedAt}}. Check the JSON export against the live chain with <code>tourniquet audit verify --export FILE.json</code>.</p>
<table class="kv"><tbody>
<tr><th>Audit chain</th><td>{{.R.Integrity.Chain.Events}} events, {{verified .R.Integrity.Chain.Verified}}</td></tr>
<tr><th>Chain head</th><td>event {{.R.Integrity.Chain.HeadSeq}}, <code>{{.R.Integrity.Chain.HeadHash}}</code></td></tr>
<tr><th>Incident events</th><td>{{.R.Integrity.IncidentEvents}}, digest <code>{{.R.Integrity.EventsDigest}}</code></td></tr>
<tr><th>Events by kind</th><td>{{range $k := kindkeys .R.Integrity.EventsByKind}}<code>{{disp $k}}</code> {{get $.R.Integrity.EventsByKind $k}}; {{end}}</td></tr>
<tr><th>Report content</th><td><code>{{.R.Integrity.ContentSHA256}}</code></td></tr>
</tbody></table>
</section>
</body>
</html>
`
