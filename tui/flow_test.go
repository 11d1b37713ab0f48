package tui

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
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

func waitText(t *testing.T, tm *teatest.TestModel, what string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(what)) },
		teatest.WithDuration(15*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
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
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(140, 40))

	waitText(t, tm, "Nothing scanned yet")
	tm.Send(keyPress("s"))
	waitText(t, tm, "COMPROMISED")
	tm.Send(keyPress("2")) // evidence
	waitText(t, tm, "litellm-init-pth-present")
	tm.Send(keyPress("enter")) // details: the rule's source
	waitText(t, tm, "Confidence:")
	tm.Send(keyPress("3")) // credentials, exposed first
	waitText(t, tm, "EXPOSED")
	for _, k := range []string{"/", "A", "K", "I", "A", "enter"} { // filter to the AWS keys
		tm.Send(keyPress(k))
	}
	waitText(t, tm, "2 of 9 credentials")
	tm.Send(keyPress("r"))
	waitText(t, tm, "Plan (nothing has changed yet)")
	tm.Send(keyPress("enter"))
	waitText(t, tm, "Approve step make-room")
	tm.Send(keyPress("y"))
	waitText(t, tm, "Approve step deactivate-old")
	tm.Send(keyPress("y"))
	waitText(t, tm, "Approve step delete-old")
	tm.Send(keyPress("y"))
	waitText(t, tm, "the credential is rotated")
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

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
