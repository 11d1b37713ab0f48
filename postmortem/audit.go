package postmortem

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// ExportEventKind is the audit event every export appends.
const ExportEventKind = "export.created"

// chainWalker verifies the whole chain and digests one incident's events
// in a single pass; Build and VerifyExport share it so that both compute
// the digest the same way.
type chainWalker struct {
	incident string
	// upto stops the digest and counts at this sequence number (0: all).
	upto   int64
	chain  *store.Chain
	digest hash.Hash
	last   store.AuditEvent // the last row read (the table's head)
	rows   int64
	events int
	kinds  map[string]int
	// onEvent sees each of the incident's events up to upto.
	onEvent func(*store.AuditEvent)
	// onAny sees every event (VerifyExport looks up export events and
	// timeline entries with it).
	onAny func(*store.AuditEvent)
}

func newChainWalker(incident string, upto int64) *chainWalker {
	return &chainWalker{incident: incident, upto: upto, chain: store.NewChain(), digest: sha256.New(), kinds: map[string]int{}}
}

func (w *chainWalker) add(ev *store.AuditEvent) error {
	w.chain.Add(ev)
	w.rows++
	w.last.Seq, w.last.Hash = ev.Seq, ev.Hash
	if w.onAny != nil {
		w.onAny(ev)
	}
	if ev.Incident != w.incident || (w.upto > 0 && ev.Seq > w.upto) {
		return nil
	}
	w.events++
	w.kinds[ev.Kind]++
	w.digest.Write([]byte(ev.Hash))
	w.digest.Write([]byte{'\n'})
	if w.onEvent != nil {
		w.onEvent(ev)
	}
	return nil
}

func (w *chainWalker) sum() string { return "sha256:" + hex.EncodeToString(w.digest.Sum(nil)) }

func (w *chainWalker) chainState() Chain {
	res := w.chain.Result()
	c := Chain{HeadSeq: w.last.Seq, HeadHash: w.last.Hash, Events: w.rows, Verified: res.OK}
	if c.HeadHash == "" {
		c.HeadHash = store.GenesisHash
	}
	if !res.OK && res.FirstBad != nil {
		c.FirstBad = fmt.Sprintf("event %d: %s", res.FirstBad.Seq, res.FirstBad.Reason)
	}
	return c
}

// audit walks the chain once: verification, the incident's digest and
// counts, audit timeline entries and the gateway's part.
func (b *builder) audit(ctx context.Context, src Source) error {
	w := newChainWalker(b.o.Incident, 0)
	g := &b.rep.Gateway
	g.Switches, g.CanaryFailures = []GatewayChange{}, []GatewayChange{}
	w.onEvent = func(ev *store.AuditEvent) {
		if ev.Kind == "gateway.requests" {
			b.gatewayRequests(ev)
			return
		}
		if e, ok := b.auditEntry(ev); ok {
			e.At, e.Source, e.Kind, e.AuditSeq, e.AuditHash = ev.At.UTC(), "audit", ev.Kind, ev.Seq, ev.Hash
			b.rep.Timeline = append(b.rep.Timeline, e)
		}
	}
	if err := src.WalkAudit(ctx, w.add); err != nil {
		return fmt.Errorf("post-mortem: %w", err)
	}
	b.rep.Integrity = Integrity{Chain: w.chainState(), IncidentEvents: w.events, EventsByKind: w.kinds, EventsDigest: w.sum()}
	return nil
}

// eventData is the union of the fields the timeline reads from events'
// data. Unknown fields are ignored; request bodies are never read.
type eventData struct {
	Host           string `json:"host"`
	Target         string `json:"target"`
	Rule           string `json:"rule"`
	Severity       string `json:"severity"`
	Path           string `json:"path"`
	Kind           string `json:"kind"`
	Hint           string `json:"hint"`
	Exposure       string `json:"exposure"`
	Verdict        string `json:"verdict"`
	Findings       *int   `json:"findings"`
	NewFindings    *int   `json:"new_findings"`
	Credentials    *int   `json:"credentials"`
	NewCredentials *int   `json:"new_credentials"`
	Playbook       string `json:"playbook"`
	Credential     string `json:"credential"`
	ApprovedBy     string `json:"approved_by"`
	Change         string `json:"change"`
	Message        string `json:"message"`
	Owner          string `json:"owner"`
	Reason         string `json:"reason"`
	Route          string `json:"route"`
	NewKey         string `json:"new_key"`
	NewHint        string `json:"new_hint"`
	OldKey         string `json:"old_key"`
	Error          string `json:"error"`
	Format         string `json:"format"`
	To             string `json:"to"`
}

func (b *builder) auditEntry(ev *store.AuditEvent) (TimelineEntry, bool) {
	var d eventData
	_ = json.Unmarshal(ev.Data, &d) // a malformed payload still gets a line
	e := TimelineEntry{Subject: ev.Subject, Target: firstOf(d.Host, d.Target)}
	runID, step, _ := strings.Cut(ev.Subject, "/")
	run := b.runByID[runID]
	hint := d.Hint
	if run != nil {
		if c := b.credByID[run.CredentialID]; c != nil {
			e.Target = c.Host
			hint = firstOf(hint, c.Hint)
		}
	}
	switch ev.Kind {
	case "incident.created":
		e.Message, e.Key = "Incident "+ev.Subject+" opened in Tourniquet", true
	case "scan.finished":
		e.Target = ev.Subject
		e.Message = fmt.Sprintf("Scan of %s recorded: verdict %s, %s findings (%s new), %s credentials (%s new)", ev.Subject,
			orUnknown(d.Verdict), count(d.Findings), count(d.NewFindings), count(d.Credentials), count(d.NewCredentials))
		e.Key = true
	case "finding.recorded":
		e.Message = fmt.Sprintf("Finding %s recorded: %s (%s) at %s", ev.Subject, d.Rule, d.Severity, d.Path)
	case "credential.recorded":
		e.Message = fmt.Sprintf("Credential %s recorded: %s %s at %s (%s)", ev.Subject, d.Kind, d.Hint, d.Path, strings.ReplaceAll(d.Exposure, "_", " "))
	case "run.created":
		e.Message, e.Key = fmt.Sprintf("Run %s started: %s for %s", ev.Subject, d.Playbook, hint), true
	case "run.running":
		e.Message = fmt.Sprintf("Run %s taken up by %s", ev.Subject, d.Owner)
	case "run.done":
		e.Message, e.Key = fmt.Sprintf("Run %s done: %s rotated", ev.Subject, hint), true
	case "run.failed", "run.paused", "run.cancelled":
		e.Message, e.Key = fmt.Sprintf("Run %s %s: %s", ev.Subject, strings.TrimPrefix(ev.Kind, "run."), d.Message), true
	case "run.rewound":
		e.Message = fmt.Sprintf("Run %s rewound to %s: %s", ev.Subject, d.To, d.Reason)
	case "step.intent":
		if d.ApprovedBy != "" {
			e.Message, e.Key = fmt.Sprintf("Step %s of run %s approved by %s", step, runID, d.ApprovedBy), true
		} else {
			e.Message = fmt.Sprintf("Step %s of run %s started", step, runID)
		}
	case "step.done":
		e.Message = fmt.Sprintf("Step %s of run %s done", step, runID)
		if d.ApprovedBy != "" {
			e.Message += ", confirmed by " + d.ApprovedBy
			e.Key = isManual(run, step)
		}
	case "step.skipped":
		e.Message = fmt.Sprintf("Step %s of run %s skipped", step, runID)
	case "step.awaiting_approval":
		e.Message, e.Key = fmt.Sprintf("Run %s waits at step %s: %s", runID, step, d.Change), true
	case "gateway.route_switched", "gateway.route_verified":
		c := GatewayChange{At: ev.At.UTC(), Route: firstOf(d.Route, ev.Subject), NewKey: d.NewKey, NewHint: d.NewHint, OldKey: d.OldKey, Seq: ev.Seq}
		if ev.Kind == "gateway.route_switched" {
			b.rep.Gateway.Switches = append(b.rep.Gateway.Switches, c)
			e.Message, e.Key = fmt.Sprintf("Gateway route %s switched to key %s after a successful canary", c.Route, d.NewHint), true
		} else {
			e.Message = fmt.Sprintf("Gateway route %s verified with key %s", c.Route, d.NewHint)
		}
		e.Target = "gateway"
	case "gateway.canary_failed":
		c := GatewayChange{At: ev.At.UTC(), Route: firstOf(d.Route, ev.Subject), NewKey: d.NewKey, NewHint: d.NewHint, OldKey: d.OldKey, Error: d.Error, Seq: ev.Seq}
		b.rep.Gateway.CanaryFailures = append(b.rep.Gateway.CanaryFailures, c)
		e.Message, e.Key, e.Target = fmt.Sprintf("Gateway canary for route %s with key %s failed (%s): the route kept its key", c.Route, d.NewHint, d.Error), true, "gateway"
	case ExportEventKind:
		e.Message = fmt.Sprintf("Post-mortem exported (%s)", d.Format)
	default:
		e.Message = ev.Kind + " " + ev.Subject
	}
	return e, true
}

// gatewayRequests counts a batch of request records (status and start
// time only: bodies, when logged, are never read).
func (b *builder) gatewayRequests(ev *store.AuditEvent) {
	var d struct {
		Count    int64 `json:"count"`
		Requests []struct {
			Started string `json:"started"`
			Status  int    `json:"status"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil {
		return
	}
	g := &b.rep.Gateway
	g.RequestBatches++
	g.Requests += d.Count
	for _, r := range d.Requests {
		if r.Status == 0 || r.Status >= 400 {
			g.FailedRequests++
		}
		t, err := time.Parse(time.RFC3339Nano, r.Started)
		if err != nil {
			continue
		}
		t = t.UTC()
		if g.FirstRequest == nil || t.Before(*g.FirstRequest) {
			g.FirstRequest = &t
		}
		if g.LastRequest == nil || t.After(*g.LastRequest) {
			tt := t
			g.LastRequest = &tt
		}
	}
}

func isManual(r *store.Run, step string) bool {
	if r == nil {
		return false
	}
	for _, st := range r.Steps {
		if st.Name == step {
			return st.Kind == "manual"
		}
	}
	return false
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func count(n *int) string {
	if n == nil {
		return "?"
	}
	return fmt.Sprint(*n)
}
