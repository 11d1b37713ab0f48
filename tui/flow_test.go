package tui

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

// fakeProvider stands in for AWS: every action of the access key playbook
// succeeds and is logged.
type fakeProvider struct {
	mu  sync.Mutex
	log []string
}

type fakeAction struct {
	p    *fakeProvider
	name string
}

func (a fakeAction) Describe(context.Context, *rotators.RunContext) (string, error) {
	return "fake " + a.name + " of the exposed key", nil
}

func (a fakeAction) Do(context.Context, *rotators.RunContext) (rotators.Result, error) {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	a.p.log = append(a.p.log, a.name)
	return rotators.Result{"ok": true}, nil
}

func (a fakeAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

func (p *fakeProvider) actions() map[string]rotators.Action {
	pb, _ := playbooks.Find("aws-access-key")
	out := map[string]rotators.Action{}
	for _, s := range pb.Steps {
		if s.Action != "" {
			out[s.Action] = fakeAction{p, s.ID}
		}
	}
	return out
}

func keyPress(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

// latestScreen keeps the console's last rendered screen: the program's
// filter sees the model before every message it processes.
type latestScreen struct {
	v  atomic.Value
	tm *teatest.TestModel
}

func (l *latestScreen) filter(m tea.Model, msg tea.Msg) tea.Msg {
	if mm, ok := m.(Model); ok && mm.width > 0 {
		l.v.Store(ansi.Strip(mm.render()))
	}
	return msg
}

// nudge is a message the console ignores: sending it makes the filter see
// the current model even when nothing else is happening.
type nudge struct{}

func (l *latestScreen) wait(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		l.tm.Send(nudge{})
		s, _ := l.v.Load().(string)
		if strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the screen to show %q; it shows:\n%s", want, s)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitRunState(t *testing.T, st *store.Store, state string) {
	t.Helper()
	poll(t, func() bool {
		runs, err := st.Runs(context.Background(), "default")
		return err == nil && len(runs) == 1 && runs[0].State == state
	}, "the run "+state)
}

func poll(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFlowScanInspectRotateApprove walks the console as a first-time user
// would: scan, read the evidence, rotate an AWS key, approve the two
// destructive steps, done.
func TestFlowScanInspectRotateApprove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()
	if err := hostimage.BuildFile(root, filepath.Join("..", "collectors", "host", "testdata", "images", "compromised.txtar")); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ps, _ := packs.Builtin()
	prov := &fakeProvider{}
	b := &Local{Store: st, IncidentName: "default", Packs: ps, Actions: prov.actions(), Params: map[string]any{},
		ScanOpts: host.Options{Root: root}}
	m := New(Options{Backend: b, Packs: []string{"litellm-2026-03"}, Context: ctx})
	scr := &latestScreen{}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(140, 40), teatest.WithProgramOptions(tea.WithFilter(scr.filter)))
	scr.tm = tm

	scr.wait(t, "Nothing scanned yet")
	tm.Send(keyPress("s"))
	scr.wait(t, "COMPROMISED")
	tm.Send(keyPress("2")) // evidence
	scr.wait(t, "litellm-init-pth-present")
	tm.Send(keyPress("enter")) // details: the rule's source
	scr.wait(t, "Confidence:")
	tm.Send(keyPress("3")) // credentials, exposed first
	scr.wait(t, "EXPOSED")
	for _, k := range []string{"/", "A", "K", "I", "A", "enter"} { // filter to the AWS keys
		tm.Send(keyPress(k))
	}
	scr.wait(t, "2 of 9 credentials")
	tm.Send(keyPress("r"))
	scr.wait(t, "Plan (nothing has changed yet)")
	tm.Send(keyPress("enter"))
	// Successive dialogs share the screen and the renderer writes only the
	// cells that change, so their text is not contiguous in the output
	// stream: wait on the rendered screen instead.
	scr.wait(t, "Approve step make-room")
	tm.Send(keyPress("y"))
	scr.wait(t, "Approve step deactivate-old")
	tm.Send(keyPress("y"))
	scr.wait(t, "Approve step delete-old")
	tm.Send(keyPress("y"))
	waitRunState(t, st, store.RunDone)
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if final := tm.FinalModel(t).(Model); !strings.Contains(final.status, "the credential is rotated") {
		t.Errorf("the console's last status is %q", final.status)
	}

	prov.mu.Lock()
	got := prov.log
	prov.mu.Unlock()
	want := []string{"plan", "evidence", "make-room", "create", "deliver", "verify", "deactivate-old", "check-old-use", "delete-old"}
	if len(got) != len(want) {
		t.Fatalf("steps run %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("steps run %v, want %v", got, want)
		}
	}
	runs, _ := st.Runs(ctx, "default")
	if len(runs) != 1 || runs[0].State != store.RunDone {
		t.Fatalf("runs %+v", runs)
	}
	r, _ := st.GetRun(ctx, runs[0].ID)
	for _, s := range r.Steps {
		if s.Destructive && s.State == store.StepDone && s.ApprovedBy == "" {
			t.Errorf("destructive step %s ran without a recorded approval", s.Name)
		}
	}
	c, _, _ := st.Credential(ctx, runs[0].CredentialID)
	if c.Rotation != store.RotationRotated {
		t.Errorf("credential rotation %s", c.Rotation)
	}
}

// blockingAction stands for a slow provider call: it returns only when its
// context is cancelled.
type blockingAction struct {
	fakeAction
	started chan struct{}
}

func (a blockingAction) Do(ctx context.Context, _ *rotators.RunContext) (rotators.Result, error) {
	close(a.started)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestQuitMidRunPausesResumably: q during a step cancels it; the run is left
// paused (not failed), the console says which run to resume, and a resume
// finishes it.
func TestQuitMidRunPausesResumably(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, ps := incident(t, "compromised")
	prov := &fakeProvider{}
	acts := prov.actions()
	started := make(chan struct{})
	acts["aws.iam.create_key"] = blockingAction{fakeAction{prov, "create"}, started}
	b := &Local{Store: st, IncidentName: "default", Packs: ps, Actions: acts, Params: map[string]any{}}
	m := New(Options{Backend: b, Context: ctx})
	scr := &latestScreen{}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(140, 40), teatest.WithProgramOptions(tea.WithFilter(scr.filter)))
	scr.tm = tm
	scr.wait(t, "COMPROMISED")
	for _, k := range []string{"3", "/", "A", "K", "I", "A", "enter", "r"} {
		tm.Send(keyPress(k))
	}
	scr.wait(t, "Plan (nothing has changed yet)")
	tm.Send(keyPress("enter"))
	scr.wait(t, "Approve step make-room")
	tm.Send(keyPress("y"))
	<-started
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	final := tm.FinalModel(t).(Model)
	if len(final.Resumable) != 1 {
		t.Fatalf("resumable runs %v, want the interrupted one", final.Resumable)
	}
	r, err := st.GetRun(ctx, final.Resumable[0])
	if err != nil || r.State != store.RunPaused {
		t.Fatalf("run state %s (%v), want paused", r.State, err)
	}
	e := &playbooks.Engine{Store: st, Actions: prov.actions(), Yes: true}
	if state, err := e.Resume(ctx, r.ID); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
}
