package llm

import (
	"context"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// crashThenResume starts a run whose process "dies" (the engine's crash hook
// panics) at step:point, then resumes it with a fresh engine: new in-memory
// stores, as after a real restart; the operator gives the same
// --secret-from again when there was one.
func crashThenResume(t *testing.T, e *env, pb *playbooks.Playbook, newKey, step, point string, params map[string]any) (string, bool) {
	t.Helper()
	ctx := context.Background()
	eng := e.engine(newKey)
	crashed := false
	eng.CrashHook = func(s, p string) {
		if s == step && p == point && !crashed {
			crashed = true
			panic("crash")
		}
	}
	func() {
		defer func() { _ = recover() }()
		_, _, _ = eng.Start(ctx, "default", pb, e.credID, params)
	}()
	runs, err := e.st.Runs(ctx, "default")
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v %v", runs, err)
	}
	id := runs[0].ID
	if !crashed {
		// The step was skipped (not needed): nothing to resume.
		return id, false
	}
	state, err := e.engine(newKey).Resume(ctx, id)
	if err != nil || state != store.RunDone {
		t.Fatalf("resume after a crash at %s:%s = %s, %v", step, point, state, err)
	}
	return id, true
}

// TestOpenAIKillResume kills the automated OpenAI rotation at every step
// boundary and resumes: always one replacement service account, its key in
// the .env file and working, the exposed key deleted.
func TestOpenAIKillResume(t *testing.T) {
	t.Parallel()
	pb := mustFind(t, "llm-openai-key")
	for _, sd := range pb.Steps {
		for _, point := range []string{"after-intent", "after-do", "after-record"} {
			t.Run(sd.ID+":"+point, func(t *testing.T) {
				t.Parallel()
				e, f, oldID := openaiEnv(t, nil)
				id, _ := crashThenResume(t, e, pb, "", sd.ID, point, map[string]any{"verify_timeout": "5s"})
				newKey := e.envValue("OPENAI_API_KEY")
				if !f.KeyWorks(newKey) || f.KeyWorks(oaiOld) {
					t.Fatalf("end state: new works %v, old works %v", f.KeyWorks(newKey), f.KeyWorks(oaiOld))
				}
				if _, ok := f.Keys("proj_app")[oldID]; ok {
					t.Error("exposed key not deleted")
				}
				sas := f.ServiceAccounts("proj_app")
				if len(sas) != 1 || sas[0] != "tourniquet-"+id {
					t.Errorf("service accounts %v: want exactly one (lost keys are removed)", sas)
				}
				e.assertNoSecretInDB(newKey)
			})
		}
	}
}

// TestAnthropicKillResume kills the Anthropic rotation at every step
// boundary; the resumed run ends with the supplied key delivered and the
// exposed key inactive.
func TestAnthropicKillResume(t *testing.T) {
	t.Parallel()
	pb := mustFind(t, "llm-anthropic-key")
	for _, sd := range pb.Steps {
		for _, point := range []string{"after-intent", "after-do", "after-record"} {
			t.Run(sd.ID+":"+point, func(t *testing.T) {
				t.Parallel()
				e, f, oldID := anthropicEnv(t)
				crashThenResume(t, e, pb, antNew, sd.ID, point, nil)
				e.assertFileKept("ANTHROPIC_API_KEY", antNew)
				if f.Status(oldID) != "inactive" {
					t.Errorf("exposed key is %s", f.Status(oldID))
				}
				e.assertNoSecretInDB()
			})
		}
	}
}

// TestResumeAfterDeliveryWithoutTheKey: the process dies after delivery; the
// resumed run (no --secret-from this time) reads the new key back from the
// .env file, and needs the exposed key only to prove it refused, which it
// asks for plainly.
func TestResumeAfterDeliveryWithoutTheKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, f, oldID := anthropicEnv(t)
	delete(e.getenv, anthropicAdminEnv) // without the Admin API, only the key itself proves it refused
	pb := mustFind(t, "llm-anthropic-key")
	eng := e.engine(antNew)
	eng.Confirm = map[string]bool{}
	eng.CrashHook = func(s, p string) {
		if s == "deliver" && p == "after-record" {
			panic("crash")
		}
	}
	func() {
		defer func() { _ = recover() }()
		_, _, _ = eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "1s"})
	}()
	f.SetStatus(oldID, "inactive") // the operator deactivates it in the Console
	runs, _ := e.st.Runs(ctx, "default")
	state, err := e.engine("").Resume(ctx, runs[0].ID)
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "--old-secret-from") {
		t.Fatalf("resume without the old key: %s, %v", state, err)
	}
	eng2 := e.engine("")
	eng2.Inputs.Put(inOldSecret, redactNew(antOld))
	if state, err := eng2.Resume(ctx, runs[0].ID); err != nil || state != store.RunDone {
		t.Fatalf("resume with --old-secret-from: %s, %v", state, err)
	}
}
