package llm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

const (
	antOld   = "sk-ant-api03-PLANTEDoldANTHROPICkey0123456789abcdef-igAA"
	antNew   = "sk-ant-api03-PLANTEDnewANTHROPICkey9876543210fedcba-zzQQ"
	antAdmin = "sk-ant-admin01-PLANTEDadminKEY0123456789abcdefgh"
)

func anthropicEnv(t *testing.T) (*env, *llmtest.Anthropic, string) {
	f := llmtest.NewAnthropic(t)
	f.AddAdminKey(antAdmin)
	for i := 0; i < 25; i++ { // more than one page of keys at limit 20
		f.AddKey("sk-ant-api03-FILLERkey"+strings.Repeat("x", 30)+string(rune('a'+i%26))+"Z00", "filler", time.Now().Add(-100*24*time.Hour))
	}
	oldID := f.AddKey(antOld, "backend", time.Now().Add(-60*24*time.Hour))
	f.AddKey(antNew, "backend-rotated", time.Now())
	f.AddUsage(oldID, "claude-sonnet-4-5", time.Now().Add(-24*time.Hour), 50000, 9000)
	e := newEnv(t, "anthropic-api-key", "ANTHROPIC_API_KEY", antOld)
	e.baseURLs["anthropic"] = f.URL
	e.getenv[anthropicAdminEnv] = antAdmin
	e.secrets = append(e.secrets, antAdmin)
	return e, f, oldID
}

// TestAnthropicRotation: the operator supplies the key they created in the
// Console; the run finds the exposed key by its hint, records usage, verifies
// and delivers the new key, then sets the exposed key inactive.
func TestAnthropicRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, f, oldID := anthropicEnv(t)
	id, state, err := e.engine(antNew).Start(ctx, "default", mustFind(t, "llm-anthropic-key"), e.credID, map[string]any{"verify_timeout": "2s"})
	if err != nil || state != store.RunDone {
		t.Fatalf("run = %s, %v", state, err)
	}
	e.assertFileKept("ANTHROPIC_API_KEY", antNew)
	if got := f.Status(oldID); got != "inactive" {
		t.Errorf("exposed key status %q, want inactive", got)
	}
	if f.KeyWorks(antOld) || !f.KeyWorks(antNew) {
		t.Error("keys in the wrong state")
	}
	fs, _ := e.st.Findings(ctx, "default")
	found := false
	for _, fd := range fs {
		found = found || (fd.Rule == "provider-key-usage" && strings.Contains(fd.Detail, "50000 input"))
	}
	if !found {
		t.Errorf("usage evidence not recorded: %+v", fs)
	}
	// Deactivation came after the new key was verified.
	calls := f.Calls()
	deact, verified := -1, -1
	for i, c := range calls {
		if strings.HasPrefix(c, "POST /v1/organizations/api_keys/") && deact < 0 {
			deact = i
		}
	}
	for i, c := range calls {
		if c == "GET /v1/models" && i < deact {
			verified = i
		}
	}
	if deact < 0 || verified < 0 {
		t.Errorf("calls out of order: %v", calls)
	}
	if st := e.stepStates(id); st["deactivate-old-manual"] != store.StepDone || st["create-manual"] != store.StepDone {
		t.Errorf("manual steps: %v", st)
	}
	e.assertAudit()
	e.assertNoSecretInDB()
}

// TestAnthropicNeedsTheNewKey: creation is manual; without a supplied key
// the run pauses for the human, and a resume without the key says how to
// give it.
func TestAnthropicNeedsTheNewKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _, _ := anthropicEnv(t)
	eng := e.engine("")
	eng.Yes = false
	eng.Confirm = map[string]bool{}
	id, state, err := eng.Start(ctx, "default", mustFind(t, "llm-anthropic-key"), e.credID, nil)
	if err != nil || state != store.RunAwaitingApproval || e.stepStates(id)["create-manual"] != store.StepAwaitingApproval {
		t.Fatalf("run = %s, %v, %v; want a pause at create-manual", state, err, e.stepStates(id))
	}
	eng.Confirm["create-manual"] = true
	state, err = eng.Resume(ctx, id)
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "--secret-from") {
		t.Fatalf("resume without the key: %s, %v", state, err)
	}
	if e.envValue("ANTHROPIC_API_KEY") != antOld {
		t.Error("the .env changed before a new key was verified")
	}
}

// TestAnthropicOverloadPauses: 529 beyond the retries pauses the run; resume
// finishes it.
func TestAnthropicOverloadPauses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, f, oldID := anthropicEnv(t)
	f.FailNext("POST /v1/organizations/api_keys/", 5)
	eng := e.engine(antNew)
	id, state, err := eng.Start(ctx, "default", mustFind(t, "llm-anthropic-key"), e.credID, nil)
	if state != store.RunPaused || err == nil {
		t.Fatalf("during the outage: %s, %v", state, err)
	}
	if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	if f.Status(oldID) != "inactive" {
		t.Error("not deactivated")
	}
}
