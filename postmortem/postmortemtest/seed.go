// Package postmortemtest generates incidents for the post-mortem export's
// tests, benchmarks and CLI scripts: three hosts and a cluster, 40
// credentials, 12 playbook runs in every state, gateway events, all
// recorded through the store's API with the audit events the scanners and
// the engine write, at fixed times.
package postmortemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Clock is the store's clock during seeding: Set jumps to a moment of the
// story, and every read advances one second so that events stay ordered.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the time and advances it by a second.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(time.Second)
	return t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Exported is the moment the generated incident is exported at.
var Exported = time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC)

// Options vary the generated incident.
type Options struct {
	// Incident defaults to "default".
	Incident string
	// Hostile replaces names with Markdown, HTML, terminal and bidi
	// metacharacters (HostileNames).
	Hostile bool
	// Secrets, when set, are the values the credentials stand for: their
	// fingerprints and hints are derived from them, as a scanner would.
	// They never reach the store.
	Secrets []string
}

// HostileNames are the names a hostile incident uses: each would create
// a link, a heading, a table cell, HTML, a terminal escape or reordered
// text if rendered raw.
var HostileNames = []string{
	"web-01 | [click](https://evil.example/x) <img src=x onerror=alert(1)>",
	"# Injected heading\n## and another",
	"/home/dev/.env`</td><script>alert(1)</script>`",
	"/opt/app/\x1b[2J\x1b[Hclear\x1b]0;pwned\x07",
	"/tmp/rlo\u202etxt.exe",
	"www.evil.example and mail@evil.example and $x^2$ and ~~gone~~ and **bold**",
	"- [ ] fake task\n1. fake list\n> quote",
	"![img](http://evil.example/pixel.png) &amp; &#x3C;b&#x3E;",
	"\"><svg onload=alert(1)>' onmouseover='alert(2)",
	"| a | b |\n|---|---|\n| c | d |",
}

// Counts of the generated incident (the export's acceptance figures).
const (
	Hosts       = 3
	Clusters    = 1
	Credentials = 40
	Runs        = 12
)

var (
	t0 = time.Date(2026, 3, 24, 10, 39, 0, 0, time.UTC)
)

func at(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }

type target struct {
	kind, name, root   string
	start, end         *time.Time
	open               bool
	verdict            string
	basis              []string
	scanned            time.Time
	findings           []collectors.Finding
	creds              int
	credKinds          []string
	notExposed, unknwn int
}

func tp(t time.Time) *time.Time { return &t }

// Seed records the incident into st, whose clock must be clk.
func Seed(ctx context.Context, st *store.Store, clk *Clock, o Options) error {
	if o.Incident == "" {
		o.Incident = "default"
	}
	name := func(i int, plain string) string {
		if o.Hostile {
			return HostileNames[i%len(HostileNames)] + " " + plain
		}
		return plain
	}
	targets := []target{
		{kind: "host", name: name(0, "web-01"), root: "/", start: tp(at(24, 10, 54)), open: true, verdict: store.VerdictCompromised,
			basis: []string{"litellm 1.82.8 dist-info installed 2026-03-24T10:54:05Z", "litellm_init.pth present"}, scanned: at(26, 8, 0),
			credKinds:  []string{"aws-access-key", "aws-access-key", "openai-api-key", "anthropic-api-key", "github-token", "ssh-private-key", "kubeconfig", "docker-auth", "npm-token", "pypi-token", "generic-secret", "litellm-master-key"},
			notExposed: 1, unknwn: 1},
		{kind: "host", name: name(1, "ci-runner-02"), root: "/", start: tp(at(24, 11, 20)), end: tp(at(26, 9, 0)), verdict: store.VerdictWasCompromised,
			basis: []string{"pip cache holds litellm-1.82.7 wheel 2026-03-24T11:20:00Z", "clean litellm 1.82.9 dist-info 2026-03-26T09:00:00Z"}, scanned: at(26, 8, 30),
			credKinds:  []string{"aws-access-key", "github-token", "github-token", "pypi-token", "npm-token", "docker-auth", "openai-api-key", "generic-secret", "ssh-private-key", "gcp-credentials"},
			notExposed: 2, unknwn: 1},
		{kind: "host", name: name(2, "dev-laptop-03"), root: "/", start: tp(at(25, 8, 12)), end: tp(at(25, 16, 40)), verdict: store.VerdictWasCompromised,
			basis: []string{"conda history: litellm 1.82.7 installed 2026-03-25T08:12:00Z", "litellm removed 2026-03-25T16:40:00Z"}, scanned: at(26, 9, 0),
			credKinds:  []string{"aws-access-key", "ssh-private-key", "github-token", "anthropic-api-key", "azure-credentials", "openai-api-key", "kubeconfig", "generic-secret"},
			notExposed: 1},
		{kind: "cluster", name: name(3, "prod-eks"), root: "https://prod-eks.example:6443", start: tp(at(24, 12, 5)), open: true, verdict: store.VerdictCompromised,
			basis: []string{"pod kube-system/node-setup-7f9c created 2026-03-24T12:05:00Z"}, scanned: at(26, 10, 0),
			credKinds: []string{"kubeconfig", "kubeconfig", "generic-secret", "generic-secret", "aws-access-key", "openai-api-key", "generic-secret", "docker-auth", "generic-secret", "anthropic-api-key"},
			unknwn:    1},
	}
	pf := func(i int, p string) string {
		if o.Hostile {
			return HostileNames[(i+4)%len(HostileNames)] + p
		}
		return p
	}
	targets[0].findings = []collectors.Finding{
		{Pack: "litellm-2026-03", Rule: "pkg-litellm-1.82.8", Severity: "critical", Path: pf(0, "/opt/app/.venv/lib/python3.11/site-packages/litellm-1.82.8.dist-info"), Detail: "litellm 1.82.8 installed (INSTALLER pip)", ObservedAt: tp(at(24, 10, 54)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "pth-litellm-init", Severity: "critical", Path: pf(1, "/opt/app/.venv/lib/python3.11/site-packages/litellm_init.pth"), Detail: "malicious .pth runs the payload at every interpreter start", ObservedAt: tp(at(24, 10, 54)), SHA256: "71e35aef03099cd1f2d6446734273025a163597de93912df321ef118bf135238", Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "persist-sysmon", Severity: "critical", Path: pf(2, "/home/dev/.config/sysmon/sysmon.py"), Detail: "sysmon backdoor dropped by the payload", ObservedAt: tp(at(24, 10, 59)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "persist-sysmon-unit", Severity: "high", Path: "/home/dev/.config/systemd/user/sysmon.service", Detail: "user systemd unit System Telemetry Service", ObservedAt: tp(at(24, 10, 59)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "cache-wheel", Severity: "high", Path: "/home/dev/.cache/pip/wheels/ab/cd/ef/litellm-1.82.8-py3-none-any.whl", Detail: "pip wheel cache can reinstall litellm 1.82.8", ObservedAt: tp(at(24, 10, 53)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "history-c2", Severity: "high", Path: "/home/dev/.bash_history", Detail: "shell history contacts checkmarx.zone/raw", ObservedAt: tp(at(24, 11, 2)), Confidence: "single_source"},
	}
	targets[1].findings = []collectors.Finding{
		{Pack: "litellm-2026-03", Rule: "cache-wheel", Severity: "high", Path: pf(3, "/home/runner/.cache/pip/wheels/litellm-1.82.7-py3-none-any.whl"), Detail: "pip wheel cache can reinstall litellm 1.82.7", ObservedAt: tp(at(24, 11, 20)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "manifest-pin", Severity: "medium", Path: "/srv/build/requirements.txt", Detail: "requirements pin litellm==1.82.7", Confidence: "confirmed"},
		{Pack: "trivy-action-2026-03", Rule: "ci-trivy-ref", Severity: "high", Path: "/srv/build/.github/workflows/ci.yml", Detail: "uses aquasecurity/trivy-action@0.28.0 (a compromised tag)", ObservedAt: tp(at(23, 18, 0)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "pkg-litellm-1.82.7", Severity: "critical", Path: "/srv/build/.venv/lib/python3.12/site-packages/litellm-1.82.7.dist-info", Detail: "litellm 1.82.7 was installed (RECORD hash of proxy_server.py)", ObservedAt: tp(at(24, 11, 21)), Confidence: "confirmed"},
	}
	targets[2].findings = []collectors.Finding{
		{Pack: "litellm-2026-03", Rule: "history-install", Severity: "medium", Path: pf(5, "/home/ana/miniconda3/conda-meta/history"), Detail: "conda history: pip install litellm==1.82.7", ObservedAt: tp(at(25, 8, 12)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "pkg-litellm-1.82.7", Severity: "critical", Path: "/home/ana/miniconda3/envs/ml/conda-meta/litellm-1.82.7-pyhd8ed1ab_0.json", Detail: "litellm 1.82.7 in conda env ml", ObservedAt: tp(at(25, 8, 12)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "persist-tmp", Severity: "high", Path: "/tmp/pglog", Detail: "stage-2 binary /tmp/pglog", ObservedAt: tp(at(25, 9, 3)), Confidence: "single_source"},
	}
	targets[3].findings = []collectors.Finding{
		{Pack: "litellm-2026-03", Rule: "kube-node-setup-pod", Severity: "critical", Path: pf(6, "kube-system/pod/node-setup-7f9c"), Detail: "privileged node-setup pod mounting the host filesystem", ObservedAt: tp(at(24, 12, 5)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "kube-node-setup-pod", Severity: "critical", Path: "kube-system/pod/node-setup-a1b2", Detail: "privileged node-setup pod on node ip-10-0-1-23", ObservedAt: tp(at(24, 12, 6)), Confidence: "confirmed"},
		{Pack: "litellm-2026-03", Rule: "kube-secret-read", Severity: "medium", Path: pf(7, "prod/secret/app-env"), Detail: "secret read by service account default in the window", ObservedAt: tp(at(24, 12, 30)), Confidence: "inferred"},
	}

	gen := 0
	prefixes := map[string]string{"aws-access-key": "AKIA", "openai-api-key": "sk-proj-", "anthropic-api-key": "sk-ant-api03-", "github-token": "ghp_",
		"npm-token": "npm_", "pypi-token": "pypi-", "litellm-master-key": "sk-"}
	secret := func(kind string) string {
		gen++
		if gen-1 < len(o.Secrets) {
			return o.Secrets[gen-1]
		}
		// Not a real key: a fixture value with the kind's public prefix, so
		// that hints read like real ones (AKIA…0001).
		return fmt.Sprintf("%sFIXTURE%sQ%04d", prefixes[kind], strings.Repeat("X", 8+gen%5), gen)
	}
	exposedBy := make([][]string, len(targets))
	credHint := map[string]string{}
	credKind := map[string]string{}
	for ti := range targets {
		t := &targets[ti]
		res := &collectors.Result{Schema: collectors.ScanSchema, Host: collectors.HostInfo{Kind: t.kind, Name: t.name, Root: t.root, ScannedAt: t.scanned},
			Packs: []string{"litellm-2026-03", "trivy-action-2026-03"}, Verdict: t.verdict,
			Window: collectors.Window{Start: t.start, End: t.end, Open: t.open, Basis: t.basis}}
		if t.end == nil && !t.open {
			res.Window.End = &t.scanned
		}
		for fi, f := range t.findings {
			f.ID = fmt.Sprintf("f-%d%02d-%s", ti, fi, strings.ReplaceAll(f.Rule, "-", ""))
			res.Findings = append(res.Findings, f)
		}
		for ci, kind := range t.credKinds {
			v := secret(kind)
			fp := redact.Fingerprint([]byte(v))
			c := collectors.Credential{ID: "c-" + fp[7:19], Kind: kind, Fingerprint: fp, Hint: redact.Hint(v), Path: credPath(t.kind, kind, ci)}
			if o.Hostile && ci == 0 {
				c.Path = HostileNames[(ti+2)%len(HostileNames)]
				c.Owner = HostileNames[(ti+3)%len(HostileNames)]
			}
			switch {
			case ci >= len(t.credKinds)-t.notExposed:
				c.ModifiedAt = tp(t.scanned.Add(-2 * time.Hour))
				c.Exposure, c.Reason = store.NotExposed, "written "+c.ModifiedAt.Format(time.RFC3339)+", after the window closed"
				if t.end != nil {
					c.ModifiedAt = tp(t.end.Add(time.Hour))
					c.Reason = "written " + c.ModifiedAt.Format(time.RFC3339) + ", after the window closed " + t.end.Format(time.RFC3339)
				}
			case ci >= len(t.credKinds)-t.notExposed-t.unknwn:
				c.Exposure, c.Reason = store.Unknown, "no modification time could be read (the file system does not keep one)"
			default:
				mod := t0.Add(-time.Duration(ci*97+ti*13) * time.Hour)
				c.ModifiedAt = &mod
				c.Exposure = store.Exposed
				c.Reason = "content written " + mod.Format(time.RFC3339) + ", before the window ended (open)"
				if t.end != nil {
					c.Reason = "content written " + mod.Format(time.RFC3339) + ", before the window ended " + t.end.Format(time.RFC3339)
				}
				exposedBy[ti] = append(exposedBy[ti], c.ID)
			}
			if c.Owner == "" && kind == "aws-access-key" {
				c.Owner = fmt.Sprintf("arn:aws:iam::123456789012:user/deploy-%d", ti)
			}
			if c.Owner == "" && kind == "github-token" {
				c.Owner = "github:octo-" + fmt.Sprint(ti)
			}
			credHint[c.ID], credKind[c.ID] = c.Hint, kind
			res.Credentials = append(res.Credentials, c)
		}
		clk.Set(t.scanned)
		if err := st.RecordScan(ctx, o.Incident, res); err != nil {
			return fmt.Errorf("seed scan %s: %w", t.name, err)
		}
	}
	// Runs go round the targets, so that every one has rotations.
	var exposedIDs []string
	for k := 0; len(exposedIDs) < Runs && k < Credentials; k++ {
		if ids := exposedBy[k%len(targets)]; k/len(targets) < len(ids) {
			exposedIDs = append(exposedIDs, ids[k/len(targets)])
		}
	}
	if n := len(exposedIDs); n < Runs {
		return fmt.Errorf("seed: %d exposed credentials, need %d", n, Runs)
	}
	for i := 0; i < Runs; i++ {
		if err := seedRun(ctx, st, clk, o, i, exposedIDs[i], credKind[exposedIDs[i]], credHint[exposedIDs[i]]); err != nil {
			return err
		}
	}
	return seedGateway(ctx, st, clk, o)
}

func credPath(targetKind, kind string, i int) string {
	if targetKind == "cluster" {
		return fmt.Sprintf("prod/secret/%s-%d", kind, i)
	}
	switch kind {
	case "aws-access-key":
		return "/home/dev/.aws/credentials"
	case "ssh-private-key":
		return "/home/dev/.ssh/id_ed25519"
	case "github-token":
		return fmt.Sprintf("/home/dev/.config/gh/hosts-%d.yml", i)
	case "kubeconfig":
		return "/home/dev/.kube/config"
	}
	return fmt.Sprintf("/opt/app/.env.%d", i)
}

// runPlan is one generated run: its playbook's steps and how far it got.
type runPlan struct {
	playbook string
	steps    []step
	// state: done, awaiting_approval (at waitAt), failed (at waitAt),
	// paused (at waitAt).
	state  string
	waitAt int
}

type step struct {
	name, title, kind string
	destructive       bool
}

var awsSteps = []step{{"plan", "Identify the key, its owner and the user's other keys", "action", false}, {"evidence", "Look up the exposed key's use in CloudTrail since the window start", "action", false},
	{"make-room", "Make room under the two-key limit", "action", true}, {"create", "Create the new access key", "action", false},
	{"deliver", "Deliver the new key to its sink", "action", false}, {"verify", "Verify the new key with STS", "verify", false},
	{"deactivate-old", "Deactivate the exposed key", "action", true}, {"check-old-use", "Check CloudTrail for use of the exposed key after deactivation", "action", false},
	{"delete-old", "Delete the exposed key", "action", true}}

var llmSteps = []step{{"plan", "Find the key and its project", "action", false}, {"evidence", "Usage of the exposed key inside the window", "action", false},
	{"create", "Create the replacement key", "action", false}, {"deliver", "Deliver the new key", "action", false}, {"verify-new", "Verify the new key", "verify", false},
	{"revoke-old", "Delete the exposed key", "action", true}, {"verify-old-revoked", "Prove the old key refused", "verify", false}}

var manualSteps = []step{{"plan", "Identify the key", "action", false}, {"create-manual", "Create a new key in the provider's console", "manual", false},
	{"verify-new", "Verify the new key", "verify", false}, {"deliver", "Deliver the new key", "action", false},
	{"revoke-manual", "Revoke the exposed key in the console", "manual", true}, {"verify-old-revoked", "Prove the old key refused", "verify", false}}

var ghSteps = []step{{"plan", "Identify the token and its owner", "action", false}, {"issue-new", "Issue the replacement token", "manual", false},
	{"verify", "Verify the new token", "verify", false}, {"deliver", "Deliver the new token", "action", false}, {"revoke", "Revoke the exposed token", "action", true}}

func planFor(i int, kind string) runPlan {
	p := runPlan{state: store.RunDone}
	switch kind {
	case "aws-access-key":
		p.playbook, p.steps = "aws-access-key", awsSteps
	case "openai-api-key", "anthropic-api-key":
		p.playbook, p.steps = "llm-"+strings.TrimSuffix(kind, "-api-key")+"-key", llmSteps
	case "github-token":
		p.playbook, p.steps = "github-token", ghSteps
	default:
		p.playbook, p.steps = "llm-gemini-key", manualSteps
	}
	switch i {
	case 4: // waits for approval of a destructive step
		p.state = store.RunAwaitingApproval
		for j, s := range p.steps {
			if s.destructive && j > 1 {
				p.waitAt = j
				break
			}
		}
	case 7: // waits for a manual step
		p.state = store.RunAwaitingApproval
		p.playbook, p.steps = "llm-gemini-key", manualSteps
		p.waitAt = 1
	case 9:
		p.state, p.waitAt = store.RunFailed, 1
	case 10:
		p.state, p.waitAt = store.RunPaused, 2
	}
	return p
}

func seedRun(ctx context.Context, st *store.Store, clk *Clock, o Options, i int, credID, kind, hint string) error {
	p := planFor(i, kind)
	id := fmt.Sprintf("r-%010x", 0x5eed0000+i*4099)
	start := at(26, 11, 0).Add(time.Duration(i) * 3 * time.Hour)
	clk.Set(start)
	approver := []string{"alice (--confirm)", "bob (--yes)"}[i%2]
	if o.Hostile && i == 0 {
		approver = HostileNames[i]
	}
	inc := o.Incident
	return st.Update(ctx, func(tx *store.Tx) error {
		r := store.Run{ID: id, Incident: inc, Playbook: p.playbook, PlaybookVersion: 1, CredentialID: credID, State: store.RunRunning}
		for j, s := range p.steps {
			r.Steps = append(r.Steps, store.Step{Index: j, Name: s.name, Title: s.title, Kind: s.kind, Destructive: s.destructive})
		}
		if err := tx.CreateRun(ctx, r); err != nil {
			return err
		}
		if _, err := tx.Audit(ctx, inc, "run.created", id, map[string]any{"playbook": p.playbook, "version": 1, "credential": credID, "hint": hint}); err != nil {
			return err
		}
		if err := tx.SetCredentialRotation(ctx, credID, store.RotationInProgress); err != nil {
			return err
		}
		last := len(p.steps)
		if p.state != store.RunDone {
			last = p.waitAt
		}
		// As the engine records them: a destructive action's approval is on
		// its intent; a manual step has no intent, its confirmation is on
		// its outcome.
		for j := 0; j < last; j++ {
			s := p.steps[j]
			by := ""
			if s.destructive || s.kind == "manual" {
				by = approver
			}
			result := map[string]any{"ok": true}
			if s.kind == "manual" {
				result = map[string]any{"confirmed_by": by}
			} else {
				intent := store.StepIntent
				u := store.StepUpdate{State: &intent, Intent: json.RawMessage(`{}`), Attempt: true}
				if by != "" {
					u.ApprovedBy = &by
				}
				if err := tx.UpdateStep(ctx, id, j, u); err != nil {
					return err
				}
				if _, err := tx.Audit(ctx, inc, "step.intent", id+"/"+s.name, map[string]any{"intent": map[string]any{}, "approved_by": by}); err != nil {
					return err
				}
			}
			if s.name == "evidence" {
				switch p.playbook {
				case "aws-access-key":
					result = map[string]any{"events": 3 + i, "sources": 1, "source_ips": []string{"203.0.113.7"}}
					if err := cloudTrailFinding(ctx, tx, inc, hint, i); err != nil {
						return err
					}
				default:
					result = map[string]any{"requests": 120 * (i + 1), "input_tokens": 5000, "output_tokens": 900, "days_with_use": []string{"2026-03-24: 40 requests"}}
				}
			}
			rj, _ := json.Marshal(result)
			done := store.StepDone
			u := store.StepUpdate{State: &done, Result: rj, Finished: true}
			doneBy := ""
			if s.kind == "manual" {
				u.ApprovedBy, u.Attempt, doneBy = &by, true, by
			}
			if err := tx.UpdateStep(ctx, id, j, u); err != nil {
				return err
			}
			if _, err := tx.Audit(ctx, inc, "step.done", id+"/"+s.name, map[string]any{"result": result, "approved_by": doneBy}); err != nil {
				return err
			}
		}
		switch p.state {
		case store.RunDone:
			if err := tx.SetRunState(ctx, id, store.RunDone, ""); err != nil {
				return err
			}
			if err := tx.SetCredentialRotation(ctx, credID, store.RotationRotated); err != nil {
				return err
			}
			_, err := tx.Audit(ctx, inc, "run.done", id, map[string]any{"message": "", "credential": credID})
			return err
		case store.RunAwaitingApproval:
			s := p.steps[p.waitAt]
			waiting := store.StepAwaitingApproval
			if err := tx.UpdateStep(ctx, id, p.waitAt, store.StepUpdate{State: &waiting}); err != nil {
				return err
			}
			if err := tx.SetRunState(ctx, id, store.RunAwaitingApproval, ""); err != nil {
				return err
			}
			rot := store.RotationInProgress
			if s.kind == "manual" {
				rot = store.RotationManualRequired
			}
			if err := tx.SetCredentialRotation(ctx, credID, rot); err != nil {
				return err
			}
			_, err := tx.Audit(ctx, inc, "step.awaiting_approval", id+"/"+s.name, map[string]any{"change": s.title + " " + hint, "destructive": s.destructive})
			return err
		default:
			msg := "AccessDenied: the operator's credentials may not call iam:ListAccessKeys"
			rot := store.RotationPending
			if p.state == store.RunPaused {
				msg, rot = "Throttling: rate exceeded (retried 3 times); resume to continue", store.RotationInProgress
			}
			if o.Hostile {
				msg += " " + HostileNames[i%len(HostileNames)]
			}
			failed := store.StepFailed
			if err := tx.UpdateStep(ctx, id, p.waitAt, store.StepUpdate{State: &failed, Error: &msg, Attempt: true, Finished: true}); err != nil {
				return err
			}
			if err := tx.SetRunState(ctx, id, p.state, msg); err != nil {
				return err
			}
			if err := tx.SetCredentialRotation(ctx, credID, rot); err != nil {
				return err
			}
			_, err := tx.Audit(ctx, inc, "run."+p.state, id, map[string]any{"message": msg, "credential": credID})
			return err
		}
	})
}

// cloudTrailFinding records provider-side evidence of the key's use under
// a cloud target, as the AWS evidence step does.
func cloudTrailFinding(ctx context.Context, tx *store.Tx, inc, hint string, i int) error {
	incID, err := tx.EnsureIncident(ctx, inc)
	if err != nil {
		return err
	}
	hid, err := tx.UpsertHost(ctx, incID, store.Host{Kind: "cloud", Name: "aws:123456789012", Root: "-", ScannedAt: tp(at(26, 11, 0)), Verdict: store.VerdictUnknown})
	if err != nil {
		return err
	}
	first := at(24, 13, 7)
	f := store.Finding{ID: fmt.Sprintf("f-ct-%02d", i), Pack: "tourniquet-aws", Rule: "cloudtrail-key-use", Severity: "high", Path: "cloudtrail:" + hint,
		Detail:     fmt.Sprintf("%s used %d times (0 failed) from 203.0.113.7 with \"python-requests/2.31\" between 2026-03-24T13:07:00Z and 2026-03-24T13:09:00Z: GetCallerIdentity, ListBuckets", hint, 3+i),
		ObservedAt: &first, Confidence: "confirmed"}
	if _, err := tx.UpsertFinding(ctx, hid, f); err != nil {
		return err
	}
	_, err = tx.Audit(ctx, inc, "finding.recorded", f.ID, map[string]any{"target": "aws:123456789012", "rule": f.Rule, "severity": f.Severity, "path": f.Path})
	return err
}

func seedGateway(ctx context.Context, st *store.Store, clk *Clock, o Options) error {
	clk.Set(at(27, 15, 30))
	route := "gpt-4o"
	if o.Hostile {
		route = HostileNames[8]
	}
	return st.Update(ctx, func(tx *store.Tx) error {
		for b := 0; b < 3; b++ {
			var reqs []string
			for r := 0; r < 50; r++ {
				status := 200
				if r%25 == 24 {
					status = 502
				}
				started := at(27, 13, 0).Add(time.Duration(b*50+r) * 10 * time.Second).Format(time.RFC3339Nano)
				reqs = append(reqs, fmt.Sprintf(`{"body_sha256":"%064x","completion_tokens":12,"key_id":"vk-1","latency_ms":80,"model":"gpt-4o","prompt_tokens":30,"provider":"openai","route":"gpt-4o","started":"%s","status":%d,"stream":false}`, b*50+r, started, status))
			}
			raw := json.RawMessage(fmt.Sprintf(`{"count":%d,"requests":[%s]}`, len(reqs), strings.Join(reqs, ",")))
			if _, err := tx.AuditCanonical(ctx, o.Incident, "gateway.requests", fmt.Sprintf("%d requests", len(reqs)), raw); err != nil {
				return err
			}
		}
		if _, err := tx.Audit(ctx, o.Incident, "gateway.canary_failed", route, map[string]any{"route": route, "key_ref": "openai-api-key",
			"new_key": "sha256:1111111111111111", "new_hint": "sk-proj-…bad1", "old_key": "sha256:0123456789abcdef", "error": "canary answered 401: the new key is refused"}); err != nil {
			return err
		}
		_, err := tx.Audit(ctx, o.Incident, "gateway.route_switched", route, map[string]any{"route": route, "key_ref": "openai-api-key",
			"new_key": "sha256:2222222222222222", "new_hint": "sk-proj-…good", "old_key": "sha256:0123456789abcdef"})
		return err
	})
}

// Open opens (creating) a store at path on a seeding clock and seeds it;
// the store's clock then stands at Exported.
func Open(ctx context.Context, path string, o Options) (*store.Store, *Clock, error) {
	clk := NewClock(t0)
	st, err := store.Open(ctx, path, store.WithClock(clk.Now), store.WithActor("analyst"))
	if err != nil {
		return nil, nil, err
	}
	if err := Seed(ctx, st, clk, o); err != nil {
		st.Close()
		return nil, nil, err
	}
	clk.Set(Exported)
	return st, clk, nil
}
