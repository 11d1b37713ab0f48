package postmortem

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Source is what Build reads; *store.Store is one.
type Source interface {
	Hosts(ctx context.Context, incident string) ([]store.Host, error)
	Findings(ctx context.Context, incident string) ([]store.Finding, error)
	Credentials(ctx context.Context, incident string) ([]store.Credential, error)
	Runs(ctx context.Context, incident string) ([]store.Run, error)
	GetRun(ctx context.Context, id string) (store.Run, error)
	WalkAudit(ctx context.Context, fn func(*store.AuditEvent) error) error
}

var _ Source = (*store.Store)(nil)

// ErrEmptyIncident is returned for an incident with nothing recorded (a
// mistyped --incident, or no scan yet).
var ErrEmptyIncident = errors.New("nothing is recorded for incident")

// Options say what to build.
type Options struct {
	Incident string
	// Now stamps generated_at (the store's clock in tests and goldens).
	Now func() time.Time
	// Packs describe the packs the targets were scanned with (the root
	// cause section); packs not listed appear by ID only.
	Packs []*packs.Pack
	// Generator names the program ("tourniquet v1.2.3").
	Generator string
}

// severities in reading order.
var severities = []string{"critical", "high", "medium", "low", "info"}

func sevRank(s string) int {
	if i := slices.Index(severities, s); i >= 0 {
		return i
	}
	return len(severities)
}

// Build reads the incident's recorded state and audit chain into a Report.
// State is read first and the chain last, so that the head the export
// carries covers every state change it shows (each change is audited in the
// transaction that makes it).
func Build(ctx context.Context, src Source, o Options) (*Report, error) {
	if o.Incident == "" {
		return nil, fmt.Errorf("post-mortem: no incident named")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Generator == "" {
		o.Generator = "tourniquet"
	}
	hosts, err := src.Hosts(ctx, o.Incident)
	if err != nil {
		return nil, fmt.Errorf("post-mortem: %w", err)
	}
	findings, err := src.Findings(ctx, o.Incident)
	if err != nil {
		return nil, fmt.Errorf("post-mortem: %w", err)
	}
	creds, err := src.Credentials(ctx, o.Incident)
	if err != nil {
		return nil, fmt.Errorf("post-mortem: %w", err)
	}
	runList, err := src.Runs(ctx, o.Incident)
	if err != nil {
		return nil, fmt.Errorf("post-mortem: %w", err)
	}
	runs := make([]store.Run, 0, len(runList))
	for _, r := range runList {
		full, err := src.GetRun(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("post-mortem: %w", err)
		}
		runs = append(runs, full)
	}
	b := &builder{o: o, rep: &Report{Schema: Schema, Incident: o.Incident, GeneratedAt: o.Now().UTC(), Generator: o.Generator}}
	b.targets(hosts, findings, creds)
	b.findings(findings)
	b.runs(runs, creds)
	b.credentials(creds, findings)
	b.packs(o.Packs)
	b.evidenceTimeline()
	if err := b.audit(ctx, src); err != nil {
		return nil, err
	}
	if len(b.rep.Targets) == 0 && len(b.rep.Runs) == 0 && b.rep.Integrity.IncidentEvents == 0 {
		return nil, fmt.Errorf("%w: %q", ErrEmptyIncident, o.Incident)
	}
	b.sortTimeline()
	b.openItems()
	b.summary()
	b.observations()
	b.prompts()
	if err := seal(b.rep); err != nil {
		return nil, err
	}
	return b.rep, nil
}

type builder struct {
	o          Options
	rep        *Report
	hostByID   map[int64]*store.Host
	targetIdx  map[string]int // target name -> index in rep.Targets (first of that name)
	credByID   map[string]*store.Credential
	runsByCred map[string][]*store.Run
	runByID    map[string]*store.Run
}

func (b *builder) targets(hosts []store.Host, findings []store.Finding, creds []store.Credential) {
	b.hostByID = make(map[int64]*store.Host, len(hosts))
	b.targetIdx = make(map[string]int, len(hosts))
	kindOrder := map[string]int{"host": 0, "cluster": 1, "ci": 2, "cloud": 3}
	sorted := slices.Clone(hosts)
	sort.SliceStable(sorted, func(i, j int) bool {
		if kindOrder[sorted[i].Kind] != kindOrder[sorted[j].Kind] {
			return kindOrder[sorted[i].Kind] < kindOrder[sorted[j].Kind]
		}
		return sorted[i].Name < sorted[j].Name
	})
	byID := map[int64]int{}
	for i := range sorted {
		h := &sorted[i]
		b.hostByID[h.ID] = h
		byID[h.ID] = len(b.rep.Targets)
		if _, ok := b.targetIdx[h.Name]; !ok {
			b.targetIdx[h.Name] = len(b.rep.Targets)
		}
		b.rep.Targets = append(b.rep.Targets, Target{
			Name: h.Name, Kind: h.Kind, Root: h.Root, Verdict: h.Verdict, ScannedAt: utc(h.ScannedAt),
			WindowStart: utc(h.WindowStart), WindowEnd: utc(h.WindowEnd), WindowOpen: h.WindowOpen,
			WindowBasis: nonNil(h.WindowBasis), Packs: nonNil(h.Packs), FindingsBySeverity: map[string]int{},
		})
	}
	for _, f := range findings {
		i, ok := byID[f.HostID]
		if !ok {
			continue
		}
		t := &b.rep.Targets[i]
		if !f.Gone {
			t.FindingsBySeverity[f.Severity]++
		}
		if f.ObservedAt != nil && (t.Earliest == nil || f.ObservedAt.Before(*t.Earliest.ObservedAt) ||
			(f.ObservedAt.Equal(*t.Earliest.ObservedAt) && f.ID < t.Earliest.ID)) {
			t.Earliest = &FindingRef{ID: f.ID, Rule: f.Rule, Path: f.Path, Detail: f.Detail, ObservedAt: utc(f.ObservedAt)}
		}
	}
	for _, c := range creds {
		if i, ok := byID[c.HostID]; ok {
			b.rep.Targets[i].Credentials++
			if c.Exposure == store.Exposed {
				b.rep.Targets[i].Exposed++
			}
		}
	}
}

func (b *builder) findings(findings []store.Finding) {
	fs := &b.rep.Findings
	fs.ByPack = map[string]map[string]int{}
	fs.Items = make([]Finding, 0, len(findings))
	for _, f := range findings {
		kind := ""
		if h := b.hostByID[f.HostID]; h != nil {
			kind = h.Kind
		}
		if fs.ByPack[f.Pack] == nil {
			fs.ByPack[f.Pack] = map[string]int{}
		}
		fs.ByPack[f.Pack][f.Severity]++
		fs.Items = append(fs.Items, Finding{ID: f.ID, Target: f.Host, TargetKind: kind, Pack: f.Pack, Rule: f.Rule, Severity: f.Severity,
			Path: f.Path, Detail: f.Detail, ObservedAt: utc(f.ObservedAt), SHA256: f.SHA256, Confidence: f.Confidence,
			FirstSeen: f.FirstSeen.UTC(), LastSeen: f.LastSeen.UTC(), Gone: f.Gone})
	}
	// Most severe first, then by target and time: the store's order, made
	// total so that goldens do not depend on SQLite's tie-breaking.
	slices.SortStableFunc(fs.Items, func(x, y Finding) int {
		return cmp.Or(cmp.Compare(sevRank(x.Severity), sevRank(y.Severity)), cmp.Compare(x.Target, y.Target),
			cmpTime(x.ObservedAt, y.ObservedAt), cmp.Compare(x.Path, y.Path), cmp.Compare(x.ID, y.ID))
	})
}

func (b *builder) runs(runs []store.Run, creds []store.Credential) {
	b.credByID = make(map[string]*store.Credential, len(creds))
	for i := range creds {
		b.credByID[creds[i].ID] = &creds[i]
	}
	b.runsByCred = map[string][]*store.Run{}
	b.runByID = make(map[string]*store.Run, len(runs))
	slices.SortStableFunc(runs, func(x, y store.Run) int {
		return cmp.Or(x.CreatedAt.Compare(y.CreatedAt), cmp.Compare(x.ID, y.ID))
	})
	b.rep.Runs = make([]Run, 0, len(runs))
	for i := range runs {
		r := &runs[i]
		b.runByID[r.ID] = r
		if r.CredentialID != "" {
			b.runsByCred[r.CredentialID] = append(b.runsByCred[r.CredentialID], r)
		}
		out := Run{ID: r.ID, Playbook: r.Playbook, PlaybookVersion: r.PlaybookVersion, CredentialID: r.CredentialID, State: r.State,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Error: r.Error, Steps: make([]Step, 0, len(r.Steps))}
		if c := b.credByID[r.CredentialID]; c != nil {
			out.CredentialHint = c.Hint
		}
		out.FinishedAt = runFinished(r)
		for _, st := range r.Steps {
			out.Steps = append(out.Steps, Step{Index: st.Index, Name: st.Name, Title: st.Title, Kind: st.Kind, Destructive: st.Destructive,
				State: st.State, Attempts: st.Attempts, ApprovedBy: st.ApprovedBy, StartedAt: utc(st.StartedAt), FinishedAt: utc(st.FinishedAt), Error: st.Error})
		}
		b.rep.Runs = append(b.rep.Runs, out)
	}
}

// runFinished is when a run reached a final state: its last update.
func runFinished(r *store.Run) *time.Time {
	switch r.State {
	case store.RunDone, store.RunFailed, store.RunCancelled:
		t := r.UpdatedAt.UTC()
		return &t
	}
	return nil
}

var exposureOrder = map[string]int{store.Exposed: 0, store.Unknown: 1, store.NotExposed: 2}

func (b *builder) credentials(creds []store.Credential, findings []store.Finding) {
	// Provider-side evidence (CloudTrail use, usage reports) is recorded as
	// findings under cloud targets that name the key by its hint.
	var provider []store.Finding
	for _, f := range findings {
		if h := b.hostByID[f.HostID]; h != nil && (h.Kind == "cloud" || h.Kind == "ci") {
			provider = append(provider, f)
		}
	}
	b.rep.Credentials = make([]Credential, 0, len(creds))
	for _, c := range creds {
		out := Credential{ID: c.ID, Kind: c.Kind, Hint: c.Hint, Fingerprint: c.Fingerprint, Target: c.Host, Path: c.Path, Owner: c.Owner,
			Exposure: c.Exposure, Reason: c.Reason, Rotation: c.Rotation, ModifiedAt: utc(c.ModifiedAt), FirstSeen: c.FirstSeen.UTC(),
			Runs: []string{}, ApprovedBy: []string{}, Misuse: Misuse{Status: "not_checked", Findings: []string{}}}
		if h := b.hostByID[c.HostID]; h != nil {
			out.TargetKind = h.Kind
			out.WindowStart, out.WindowEnd, out.WindowOpen = utc(h.WindowStart), utc(h.WindowEnd), h.WindowOpen
		}
		var summaries []string
		for _, r := range b.runsByCred[c.ID] {
			out.Runs = append(out.Runs, r.ID)
			if out.RotationRun == "" || r.State == store.RunDone || b.runByID[out.RotationRun].State != store.RunDone {
				out.RotationRun = r.ID
			}
			if r.State == store.RunDone && out.RotatedAt == nil {
				out.RotatedAt = runFinished(r)
			}
			for _, st := range r.Steps {
				if st.ApprovedBy != "" && !slices.Contains(out.ApprovedBy, st.ApprovedBy) {
					out.ApprovedBy = append(out.ApprovedBy, st.ApprovedBy)
				}
				if st.Name == "evidence" && st.State == store.StepDone {
					out.Misuse.Status = "checked"
					if s := summarizeResult(st.Result); s != "" {
						summaries = append(summaries, s)
					}
				}
			}
		}
		out.Misuse.Summary = strings.Join(summaries, "; ")
		if hintUsable(c.Hint) {
			for _, f := range provider {
				if strings.Contains(f.Path, c.Hint) || strings.Contains(f.Detail, c.Hint) {
					out.Misuse.Findings = append(out.Misuse.Findings, f.ID)
				}
			}
		}
		if len(out.Misuse.Findings) > 0 {
			out.Misuse.Status = "found"
		}
		b.rep.Credentials = append(b.rep.Credentials, out)
	}
	slices.SortStableFunc(b.rep.Credentials, func(x, y Credential) int {
		return cmp.Or(cmp.Compare(exposureOrder[x.Exposure], exposureOrder[y.Exposure]), cmp.Compare(x.Target, y.Target),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Path, y.Path), cmp.Compare(x.ID, y.ID))
	})
}

// hintUsable: a hint that says something ("AKIA…0001"), not a bare "…"
// that every short secret shares.
func hintUsable(h string) bool {
	pre, tail, ok := strings.Cut(h, "…")
	return ok && len(tail) >= 4 && len(pre)+len(tail) >= 6
}

// summarizeResult condenses an evidence step's result (counts, source IPs,
// days with use) to a line. Only scalars and lists of scalars are kept;
// the engine refuses to store a result holding a secret it knows.
func summarizeResult(raw json.RawMessage) string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			parts = append(parts, fmt.Sprintf("%s %s", k, clip(v, 60)))
		case float64:
			parts = append(parts, fmt.Sprintf("%s %s", k, jsonNumber(v)))
		case bool:
			parts = append(parts, fmt.Sprintf("%s %t", k, v))
		case []any:
			var items []string
			for _, it := range v {
				switch x := it.(type) {
				case string:
					items = append(items, clip(x, 60))
				case float64:
					items = append(items, jsonNumber(x))
				}
			}
			if len(items) > 5 {
				items = append(items[:5], fmt.Sprintf("and %d more", len(v)-5))
			}
			if len(items) > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", k, strings.Join(items, ", ")))
			} else {
				parts = append(parts, fmt.Sprintf("%s none", k))
			}
		}
	}
	return clip(strings.ReplaceAll(strings.Join(parts, "; "), "_", " "), 300)
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (b *builder) packs(known []*packs.Pack) {
	byID := make(map[string]*packs.Pack, len(known))
	for _, p := range known {
		byID[p.ID] = p
	}
	seen := map[string]bool{}
	var ids []string
	for _, t := range b.rep.Targets {
		for _, id := range t.Packs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	// Findings of a known pack whose scan did not list it (an import).
	for _, f := range b.rep.Findings.Items {
		if !seen[f.Pack] && byID[f.Pack] != nil {
			seen[f.Pack] = true
			ids = append(ids, f.Pack)
		}
	}
	sort.Strings(ids)
	b.rep.Packs = make([]Pack, 0, len(ids))
	for _, id := range ids {
		out := Pack{ID: id, BadVersions: []BadVersion{}, References: []Reference{}}
		if p := byID[id]; p != nil {
			out.Known, out.Title, out.Description = true, p.Title, strings.TrimSpace(p.Description)
			ws := p.Window.Start.UTC()
			out.WindowStart, out.WindowEnd = &ws, utc(p.Window.End)
			for _, pr := range p.Packages {
				for _, v := range pr.Versions {
					out.BadVersions = append(out.BadVersions, BadVersion{Ecosystem: pr.Ecosystem, Name: pr.Name, Version: v, Trigger: pr.Triggers[v]})
				}
			}
			for _, r := range p.References {
				out.References = append(out.References, Reference{Title: r.Title, URL: r.URL})
			}
		}
		b.rep.Packs = append(b.rep.Packs, out)
	}
}

func (b *builder) evidenceTimeline() {
	tl := &b.rep.Timeline
	for _, t := range b.rep.Targets {
		if t.WindowStart != nil {
			msg := "Window opens on " + t.Name
			if len(t.WindowBasis) > 0 {
				msg += ": " + t.WindowBasis[0]
			}
			*tl = append(*tl, TimelineEntry{At: *t.WindowStart, Source: "evidence", Kind: "window.start", Target: t.Name, Message: msg, Key: true})
		}
		if t.WindowEnd != nil && !t.WindowOpen {
			*tl = append(*tl, TimelineEntry{At: *t.WindowEnd, Source: "evidence", Kind: "window.end", Target: t.Name,
				Message: "Window closes on " + t.Name + " (the compromised artefacts are gone)", Key: true})
		}
	}
	for _, f := range b.rep.Findings.Items {
		if f.ObservedAt == nil {
			continue
		}
		key := f.Severity == "critical"
		if i, ok := b.targetIdx[f.Target]; ok && b.rep.Targets[i].Earliest != nil && b.rep.Targets[i].Earliest.ID == f.ID {
			key = true
		}
		*tl = append(*tl, TimelineEntry{At: *f.ObservedAt, Source: "evidence", Kind: "finding.observed", Target: f.Target, Subject: f.ID,
			Message: fmt.Sprintf("%s (%s): %s", f.Rule, f.Severity, f.Detail), Key: key})
	}
	for _, c := range b.rep.Credentials {
		if c.ModifiedAt == nil || c.Exposure == store.NotExposed {
			continue
		}
		*tl = append(*tl, TimelineEntry{At: *c.ModifiedAt, Source: "evidence", Kind: "credential.written", Target: c.Target, Subject: c.ID,
			Message: fmt.Sprintf("%s %s last written at %s (%s)", c.Kind, c.Hint, c.Path, strings.ReplaceAll(c.Exposure, "_", " "))})
	}
}

func (b *builder) sortTimeline() {
	srcOrder := map[string]int{"evidence": 0, "audit": 1}
	slices.SortStableFunc(b.rep.Timeline, func(x, y TimelineEntry) int {
		return cmp.Or(x.At.Compare(y.At), cmp.Compare(srcOrder[x.Source], srcOrder[y.Source]), cmp.Compare(x.AuditSeq, y.AuditSeq),
			cmp.Compare(x.Target, y.Target), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Subject, y.Subject), cmp.Compare(x.Message, y.Message))
	})
	if b.rep.Timeline == nil {
		b.rep.Timeline = []TimelineEntry{}
	}
}

func (b *builder) openItems() {
	items := []OpenItem{}
	for _, c := range b.rep.Credentials {
		if c.Exposure == store.NotExposed || c.Rotation == store.RotationRotated {
			continue
		}
		what := "exposed"
		if c.Exposure == store.Unknown {
			what = "possibly exposed (exposure unknown)"
		}
		text := fmt.Sprintf("Rotate %s %s on %s, %s: rotation %s", c.Kind, c.Hint, c.Target, what, strings.ReplaceAll(c.Rotation, "_", " "))
		cmd := ""
		switch {
		case c.RotationRun != "" && b.runByID[c.RotationRun] != nil && resumable(b.runByID[c.RotationRun].State):
			text += " (run " + c.RotationRun + " is " + strings.ReplaceAll(b.runByID[c.RotationRun].State, "_", " ") + ")"
			cmd = "tourniquet playbook resume " + c.RotationRun
		default:
			cmd = "tourniquet playbook run PLAYBOOK --credential " + c.ID
		}
		items = append(items, OpenItem{Kind: "rotate", Subject: c.ID, Target: c.Target, Text: text, Command: cmd})
	}
	for _, r := range b.rep.Runs {
		for _, st := range r.Steps {
			if st.State != store.StepAwaitingApproval {
				continue
			}
			kind, text := "approve", fmt.Sprintf("Approve step %s (%s) of run %s (%s for %s)", st.Name, st.Title, r.ID, r.Playbook, r.CredentialHint)
			if st.Kind == "manual" {
				kind, text = "manual_step", fmt.Sprintf("Do and confirm the manual step %s (%s) of run %s (%s for %s)", st.Name, st.Title, r.ID, r.Playbook, r.CredentialHint)
			}
			items = append(items, OpenItem{Kind: kind, Subject: r.ID, Text: text, Command: "tourniquet playbook resume " + r.ID + " --confirm " + st.Name})
		}
		switch r.State {
		case store.RunPaused, store.RunRunning:
			items = append(items, OpenItem{Kind: "resume", Subject: r.ID, Text: fmt.Sprintf("Resume run %s (%s for %s), %s", r.ID, r.Playbook, r.CredentialHint, strings.ReplaceAll(r.State, "_", " ")),
				Command: "tourniquet playbook resume " + r.ID})
		case store.RunFailed:
			text := fmt.Sprintf("Run %s (%s for %s) failed", r.ID, r.Playbook, r.CredentialHint)
			if r.Error != "" {
				text += ": " + r.Error
			}
			items = append(items, OpenItem{Kind: "failed_run", Subject: r.ID, Text: text, Command: "tourniquet playbook status " + r.ID})
		}
	}
	for _, t := range b.rep.Targets {
		if t.WindowOpen {
			items = append(items, OpenItem{Kind: "open_window", Subject: t.Name, Target: t.Name,
				Text:    fmt.Sprintf("Close the window on %s: an executable artefact remains (remove it, then scan again)", t.Name),
				Command: "tourniquet scan"})
		}
	}
	b.rep.OpenItems = items
}

func resumable(state string) bool {
	return state == store.RunPaused || state == store.RunAwaitingApproval || state == store.RunRunning
}

func (b *builder) summary() {
	s := &b.rep.Summary
	*s = Summary{Verdict: store.VerdictClean, TargetsByKind: map[string]int{}, FindingsBySeverity: map[string]int{}, ByExposure: map[string]int{},
		ExposedByRotation: map[string]int{}, RunsByState: map[string]int{}}
	rank := map[string]int{store.VerdictClean: 0, store.VerdictUnknown: 1, store.VerdictWasCompromised: 2, store.VerdictCompromised: 3}
	if len(b.rep.Targets) == 0 {
		s.Verdict = store.VerdictUnknown
	}
	anyEnd := false
	for _, t := range b.rep.Targets {
		s.Targets++
		s.TargetsByKind[t.Kind]++
		if rank[t.Verdict] > rank[s.Verdict] {
			s.Verdict = t.Verdict
		}
		if t.Verdict == store.VerdictCompromised || t.Verdict == store.VerdictWasCompromised {
			s.AffectedTargets++
		}
		if t.WindowOpen {
			s.OpenWindows++
			s.WindowOpen = true
		}
		if t.WindowStart != nil && (s.WindowStart == nil || t.WindowStart.Before(*s.WindowStart)) {
			s.WindowStart = t.WindowStart
		}
		if t.WindowEnd != nil && !t.WindowOpen && (s.WindowEnd == nil || t.WindowEnd.After(*s.WindowEnd)) {
			s.WindowEnd, anyEnd = t.WindowEnd, true
		}
	}
	if s.WindowOpen || !anyEnd {
		s.WindowEnd = nil
	}
	for _, f := range b.rep.Findings.Items {
		s.Findings++
		s.FindingsBySeverity[f.Severity]++
		if !f.Gone {
			s.FindingsOpen++
		}
		if f.ObservedAt != nil && (s.FirstEvidence == nil || f.ObservedAt.Before(*s.FirstEvidence)) {
			s.FirstEvidence = f.ObservedAt
		}
		if fs := f.FirstSeen; !fs.IsZero() && (s.Detected == nil || fs.Before(*s.Detected)) {
			s.Detected = &fs
		}
	}
	if s.WindowStart != nil && (s.FirstEvidence == nil || s.WindowStart.Before(*s.FirstEvidence)) {
		s.FirstEvidence = s.WindowStart
	}
	allRotated := true
	for _, c := range b.rep.Credentials {
		s.Credentials++
		s.ByExposure[c.Exposure]++
		if c.Exposure != store.Exposed {
			continue
		}
		s.ExposedByRotation[c.Rotation]++
		if c.Rotation != store.RotationRotated {
			allRotated = false
		} else if c.RotatedAt != nil && (s.LastRotation == nil || c.RotatedAt.After(*s.LastRotation)) {
			s.LastRotation = c.RotatedAt
		}
	}
	for _, r := range b.rep.Runs {
		s.Runs++
		s.RunsByState[r.State]++
	}
	s.Contained = allRotated && !s.WindowOpen && s.Targets > 0
}

func (b *builder) observations() {
	o := &b.rep.Observations
	o.Well, o.Badly = []string{}, []string{}
	s := b.rep.Summary
	exposed := s.ByExposure[store.Exposed]
	rotated := s.ExposedByRotation[store.RotationRotated]
	if rotated > 0 {
		line := fmt.Sprintf("%d of %d exposed credentials were rotated by playbook runs", rotated, exposed)
		if s.Detected != nil && s.LastRotation != nil {
			line += fmt.Sprintf("; the last %s after the first finding was recorded", humanDuration(s.LastRotation.Sub(*s.Detected)))
		}
		o.Well = append(o.Well, line+".")
	}
	approved, destructive := 0, 0
	approvers := map[string]bool{}
	for _, r := range b.rep.Runs {
		for _, st := range r.Steps {
			if st.Destructive && st.State == store.StepDone {
				destructive++
				if st.ApprovedBy != "" {
					approved++
					approvers[st.ApprovedBy] = true
				}
			}
		}
	}
	if destructive > 0 {
		names := sortedKeys(approvers)
		line := fmt.Sprintf("%d of %d destructive steps that ran carry a recorded approval", approved, destructive)
		if len(names) > 0 {
			line += " (" + strings.Join(names, ", ") + ")"
		}
		if approved == destructive {
			o.Well = append(o.Well, line+".")
		} else {
			o.Badly = append(o.Badly, line+": the others ran without one.")
		}
	}
	checked := 0
	for _, c := range b.rep.Credentials {
		if c.Exposure == store.Exposed && c.Misuse.Status != "not_checked" {
			checked++
		}
	}
	if checked > 0 {
		o.Well = append(o.Well, fmt.Sprintf("Use of %d exposed credentials was checked at their provider before rotation.", checked))
	}
	if len(b.rep.Gateway.Switches) > 0 {
		o.Well = append(o.Well, fmt.Sprintf("The LLM gateway switched %d routes to new keys, each after a successful canary.", len(b.rep.Gateway.Switches)))
	}
	if b.rep.Integrity.Chain.Verified {
		o.Well = append(o.Well, fmt.Sprintf("The audit chain verified intact at export (%d events).", b.rep.Integrity.Chain.Events))
	} else {
		o.Badly = append(o.Badly, "The audit chain does NOT verify: "+b.rep.Integrity.Chain.FirstBad+".")
	}
	if s.OpenWindows > 0 {
		o.Badly = append(o.Badly, fmt.Sprintf("%d targets still hold an executable artefact (window open).", s.OpenWindows))
	}
	if n := exposed - rotated; n > 0 {
		o.Badly = append(o.Badly, fmt.Sprintf("%d exposed credentials are not rotated yet.", n))
	}
	if n := s.ByExposure[store.Unknown]; n > 0 {
		o.Badly = append(o.Badly, fmt.Sprintf("The exposure of %d credentials could not be told from the evidence; treat them as exposed.", n))
	}
	if n := s.RunsByState[store.RunFailed]; n > 0 {
		o.Badly = append(o.Badly, fmt.Sprintf("%d playbook runs failed.", n))
	}
	found := 0
	for _, c := range b.rep.Credentials {
		if c.Misuse.Status == "found" {
			found++
		}
	}
	if found > 0 {
		o.Badly = append(o.Badly, fmt.Sprintf("Provider records show use of %d exposed credentials inside the window (see the ledger).", found))
	}
	if n := len(b.rep.Gateway.CanaryFailures); n > 0 {
		o.Badly = append(o.Badly, fmt.Sprintf("%d gateway canaries failed (the routes kept their old keys).", n))
	}
	if s.Detected != nil && s.WindowStart != nil && s.Detected.After(*s.WindowStart) {
		o.Badly = append(o.Badly, fmt.Sprintf("The first finding was recorded %s after the earliest window opened.", humanDuration(s.Detected.Sub(*s.WindowStart))))
	}
}

func (b *builder) prompts() {
	b.rep.Prompts = []Prompt{
		{"summary", "Write two or three sentences for readers outside the team: what happened, who and what was affected, and where things stand now."},
		{"impact", "Describe the impact the record cannot show: data or systems reached with the exposed credentials, customers affected, downtime, cost."},
		{"root_cause", "Explain how the compromised release reached each target (unpinned dependency, CI job, developer install, image rebuild) and why nothing stopped it."},
		{"detection", "Say how the team learned of the compromise (advisory, alert, report) and when, and what would have caught it sooner."},
		{"response", "Add the decisions the record does not hold: who led, what was communicated to whom and when, and any step taken outside Tourniquet."},
		{"went_well", "Add what helped beyond the facts listed."},
		{"went_badly", "Add what slowed the response or made it riskier."},
		{"action_items", "List follow-up actions with an owner and a due date (pinning, egress rules, credential scoping, monitoring)."},
	}
}

func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - 60*h
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	days := int(d.Hours()) / 24
	h := int(d.Hours()) - 24*days
	if h == 0 {
		return fmt.Sprintf("%d days", days)
	}
	return fmt.Sprintf("%d days %d h", days, h)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func cmpTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}
