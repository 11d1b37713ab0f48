package playbooks

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

// fakeAction is a scripted action: Do fails with the queued errors first.
type fakeAction struct {
	mu         sync.Mutex
	name       string
	log        *[]string
	errs       []error
	result     rotators.Result
	reconciled bool // what Reconcile answers for done
	needed     *bool
	doSecret   bool // put a secret in memory and leak it into the result
}

func (f *fakeAction) Describe(context.Context, *rotators.RunContext) (string, error) {
	return "change " + f.name, nil
}

func (f *fakeAction) Do(_ context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.log = append(*f.log, "do:"+f.name)
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	if f.doSecret {
		s := redact.NewSecretString("super-secret-value-123456")
		rc.Secrets.Put("new", s)
		return rotators.Result{"oops": "super-secret-value-123456"}, nil
	}
	rc.Vars[f.name] = "ran"
	return f.result, nil
}

func (f *fakeAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	*f.log = append(*f.log, "reconcile:"+f.name)
	return rotators.Result{"reconciled": true}, f.reconciled, nil
}

type fakeSkipper struct {
	*fakeAction
}

func (f fakeSkipper) Needed(context.Context, *rotators.RunContext) (bool, string, error) {
	return *f.needed, "user has one key", nil
}

const testPlaybook = `schema: tourniquet.playbook/v1
id: test-rotate
kinds: [generic-secret]
version: 1
title: Test rotation
automation: full
steps:
  - {id: plan, type: action, action: plan, title: Plan}
  - {id: room, type: action, action: room, title: Make room, destructive: true}
  - {id: create, type: action, action: create, title: Create}
  - {id: deliver, type: action, action: deliver, title: Deliver}
  - {id: verify, type: verify, action: verify, title: Verify}
  - {id: revoke, type: action, action: revoke, title: Revoke old, destructive: true}
`

type harness struct {
	t       *testing.T
	st      *store.Store
	log     []string
	actions map[string]*fakeAction
	events  []Event
	credID  string
	pb      *Playbook
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pb, err := Parse("test", []byte(testPlaybook))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, st: st, actions: map[string]*fakeAction{}, credID: "c-1", pb: pb}
	no := false
	for _, n := range []string{"plan", "room", "create", "deliver", "verify", "revoke"} {
		h.actions[n] = &fakeAction{name: n, log: &h.log, result: rotators.Result{"ok": n}, needed: &no}
	}
	err = st.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Name: "h", Root: "/"})
		if err != nil {
			return err
		}
		_, err = tx.UpsertCredential(ctx, hid, store.Credential{ID: h.credID, Kind: "generic-secret", Path: "/x", Fingerprint: "sha256:0123456789abcdef", Hint: "…abcd"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) engine(owner string) *Engine {
	acts := map[string]rotators.Action{}
	for n, a := range h.actions {
		if n == "room" {
			acts[n] = fakeSkipper{a}
			continue
		}
		acts[n] = a
	}
	return &Engine{
		Store: h.st, Actions: acts, Owner: owner, OnEvent: func(e Event) { h.events = append(h.events, e) },
		Sleep:     func(context.Context, time.Duration) error { return nil },
		Playbooks: func(string) (*Playbook, error) { return h.pb, nil },
	}
}

func (h *harness) run(id string) store.Run {
	r, err := h.st.GetRun(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) rotation() string {
	c, _, err := h.st.Credential(context.Background(), h.credID)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.Rotation
}

func TestRunPausesForApprovalThenFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	yes := true
	h.actions["room"].needed = &yes
	e := h.engine("a")
	id, state, err := e.Start(ctx, "default", h.pb, h.credID, map[string]any{})
	if err != nil || state != store.RunAwaitingApproval {
		t.Fatalf("Start = %s, %v; want awaiting_approval", state, err)
	}
	if got := strings.Join(h.log, ","); got != "do:plan" {
		t.Errorf("ran %s before the destructive step, want only do:plan", got)
	}
	r := h.run(id)
	if r.State != store.RunAwaitingApproval || r.Steps[1].State != store.StepAwaitingApproval {
		t.Errorf("run %s, step %s", r.State, r.Steps[1].State)
	}
	// Approving only "room" runs until the next destructive step.
	e2 := h.engine("a")
	e2.Confirm = map[string]bool{"room": true}
	if state, err = e2.Resume(ctx, id); err != nil || state != store.RunAwaitingApproval {
		t.Fatalf("Resume(confirm room) = %s, %v", state, err)
	}
	if r := h.run(id); r.Steps[1].ApprovedBy == "" || r.Steps[5].State != store.StepAwaitingApproval {
		t.Errorf("room approved_by %q, revoke %s", r.Steps[1].ApprovedBy, r.Steps[5].State)
	}
	e3 := h.engine("a")
	e3.Yes = true
	if state, err = e3.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("Resume(--yes) = %s, %v", state, err)
	}
	if got := strings.Join(h.log, ","); got != "do:plan,do:room,do:create,do:deliver,do:verify,do:revoke" {
		t.Errorf("order %s", got)
	}
	if h.rotation() != store.RotationRotated {
		t.Errorf("credential rotation %s, want rotated", h.rotation())
	}
	if v, _ := h.st.VerifyAudit(ctx); !v.OK || v.Events < 10 {
		t.Errorf("audit %+v", v)
	}
}

func TestSkipperNeedsNoApproval(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	e := h.engine("a")
	e.Confirm = map[string]bool{"revoke": true}
	id, state, err := e.Start(context.Background(), "default", h.pb, h.credID, nil)
	if err != nil || state != store.RunDone {
		t.Fatalf("Start = %s, %v", state, err)
	}
	if strings.Contains(strings.Join(h.log, ","), "do:room") {
		t.Error("a step that was not needed ran")
	}
	if r := h.run(id); !strings.Contains(string(r.Steps[1].Result), "not_needed") {
		t.Errorf("room result %s", r.Steps[1].Result)
	}
}

// TestResumeReconcilesRecordedIntent: a step whose intent was recorded but
// not its outcome is reconciled, never blindly repeated.
func TestResumeReconcilesRecordedIntent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, done := range []bool{true, false} {
		h := newHarness(t)
		h.actions["create"].reconciled = done
		e := h.engine("a")
		e.Yes = true
		e.CrashHook = func(step, point string) {
			if step == "create" && point == "after-do" {
				panic("crash")
			}
		}
		var id string
		func() {
			defer func() { recover() }()
			id, _, _ = e.Start(ctx, "default", h.pb, h.credID, nil)
		}()
		runs, _ := h.st.Runs(ctx, "default")
		id = runs[0].ID
		if r := h.run(id); r.Steps[2].State != store.StepIntent {
			t.Fatalf("after crash create is %s, want intent", r.Steps[2].State)
		}
		h.log = nil
		e3 := h.engine("b")
		e3.Yes = true
		state, err := e3.Resume(ctx, id)
		if err != nil || state != store.RunDone {
			t.Fatalf("resume = %s, %v", state, err)
		}
		want := "reconcile:create,do:deliver,do:verify,do:revoke"
		if !done {
			want = "reconcile:create,do:create,do:deliver,do:verify,do:revoke"
		}
		if got := strings.Join(h.log, ","); got != want {
			t.Errorf("reconciled=%v: resume ran %s, want %s", done, got, want)
		}
	}
}

func TestRewindRunsEarlierStepsAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.actions["deliver"].errs = []error{&rotators.Rewind{To: "create", Reason: "the new secret was lost"}}
	e := h.engine("a")
	e.Yes = true
	_, state, err := e.Start(context.Background(), "default", h.pb, h.credID, nil)
	if err != nil || state != store.RunDone {
		t.Fatalf("Start = %s, %v", state, err)
	}
	if got := strings.Join(h.log, ","); got != "do:plan,do:create,do:deliver,do:create,do:deliver,do:verify,do:revoke" {
		t.Errorf("order %s", got)
	}
}

func TestTransientErrorsRetryThenPause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	boom := rotators.Transient(errors.New("503 ServiceUnavailable"))
	h.actions["verify"].errs = []error{boom, boom} // recovers on the third attempt
	e := h.engine("a")
	e.Yes = true
	if _, state, err := e.Start(ctx, "default", h.pb, h.credID, nil); err != nil || state != store.RunDone {
		t.Fatalf("Start = %s, %v", state, err)
	}

	h2 := newHarness(t)
	h2.actions["verify"].errs = []error{boom, boom, boom, boom}
	e2 := h2.engine("a")
	e2.Yes = true
	id, state, err := e2.Start(ctx, "default", h2.pb, h2.credID, nil)
	if state != store.RunPaused || !rotators.IsTransient(err) {
		t.Fatalf("after an outage: %s, %v; want paused", state, err)
	}
	if r := h2.run(id); !strings.Contains(r.Error, "resume with") || h2.rotation() != store.RotationInProgress {
		t.Errorf("paused run error %q, rotation %s", r.Error, h2.rotation())
	}
	if state, err := e2.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume after the outage = %s, %v", state, err)
	}
}

func TestPermanentErrorFailsRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.actions["create"].errs = []error{errors.New("LimitExceeded")}
	e := h.engine("a")
	e.Yes = true
	id, state, err := e.Start(context.Background(), "default", h.pb, h.credID, nil)
	if state != store.RunFailed || err == nil {
		t.Fatalf("Start = %s, %v", state, err)
	}
	if r := h.run(id); r.Steps[3].State != store.StepPending || h.rotation() != store.RotationPending {
		t.Errorf("after a failure deliver is %s and rotation %s", r.Steps[3].State, h.rotation())
	}
}

func TestSecretNeverStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.actions["create"].doSecret = true
	e := h.engine("a")
	e.Yes = true
	_, state, err := e.Start(context.Background(), "default", h.pb, h.credID, nil)
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "refusing to store") {
		t.Fatalf("Start = %s, %v; want refusal", state, err)
	}
	if strings.Contains(err.Error(), "super-secret") {
		t.Error("the error carries the secret")
	}
}

func TestBuiltinPlaybooksParse(t *testing.T) {
	t.Parallel()
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 2 {
		t.Fatalf("%d built-in playbooks", len(all))
	}
	for _, p := range all {
		for _, s := range p.Steps {
			if s.Destructive && s.Type != StepAction {
				t.Errorf("%s/%s: destructive steps must be actions", p.ID, s.ID)
			}
		}
	}
}

// TestLeaseKeepsTwoProcessesApart: while one process holds a run, another
// cannot drive it; once the lease expires it can.
func TestLeaseKeepsTwoProcessesApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	yes := true
	h.actions["room"].needed = &yes
	id, _, _ := h.engine("a").Start(ctx, "default", h.pb, h.credID, nil)
	if err := h.st.Update(ctx, func(tx *store.Tx) error {
		return tx.AcquireLease(ctx, id, "tui:42", h.st.Now().Add(time.Minute))
	}); err != nil {
		t.Fatal(err)
	}
	e := h.engine("cli:7")
	e.Yes = true
	if _, err := e.Resume(ctx, id); !errors.Is(err, store.ErrLeased) {
		t.Fatalf("resume under a live lease: %v, want ErrLeased", err)
	}
	if len(h.log) != 1 {
		t.Errorf("steps ran under another's lease: %v", h.log)
	}
	if err := h.st.Update(ctx, func(tx *store.Tx) error {
		return tx.AcquireLease(ctx, id, "tui:42", h.st.Now().Add(-time.Second)) // expired
	}); err != nil {
		t.Fatal(err)
	}
	if state, err := e.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume after expiry = %s, %v", state, err)
	}
}

// TestDeadHolderLeaseIsTakenOver: a run held by a process of this machine
// that died (a crash, a SIGKILL) is resumed at once, not after the lease
// runs out; the take-over is audited.
func TestDeadHolderLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t)
	yes := true
	h.actions["room"].needed = &yes
	id, _, _ := h.engine("a").Start(ctx, "default", h.pb, h.credID, nil)
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("%s:%d", host, dead.Process.Pid) // exited, reaped
	if err := h.st.Update(ctx, func(tx *store.Tx) error {
		return tx.AcquireLease(ctx, id, stale, h.st.Now().Add(time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	e := h.engine(host + ":1")
	e.Yes = true
	if state, err := e.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume over a dead holder = %s, %v", state, err)
	}
	evs, _ := h.st.AuditEvents(ctx, 0, 0)
	found := false
	for _, ev := range evs {
		found = found || ev.Kind == "run.lease_taken"
	}
	if !found {
		t.Error("the take-over was not audited")
	}
}
