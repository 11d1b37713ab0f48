package llm

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// guided are the manual-only providers: kind, env variable, key shapes.
var guided = []struct {
	playbook, provider, kind, varName, old, new string
}{
	{"llm-gemini-key", "gemini", "google-api-key", "GEMINI_API_KEY", "AIzaPLANTEDoldGEMINIkey0123456789abcdefg", "AIzaPLANTEDnewGEMINIkey9876543210fedcbaQ"},
	{"llm-azure-openai-key", "azure", "azure-openai-key", "AZURE_OPENAI_API_KEY", "PLANTEDold0azure0key0000000000000000abcd", "PLANTEDnew0azure0key1111111111111111wxyz"},
	{"llm-mistral-key", "mistral", "mistral-api-key", "MISTRAL_API_KEY", "PLANTEDoldMISTRALkey0123456789abcd", "PLANTEDnewMISTRALkey9876543210wxyz"},
	{"llm-cohere-key", "cohere", "cohere-api-key", "COHERE_API_KEY", "PLANTEDoldCOHEREkey0123456789abcdefghij", "PLANTEDnewCOHEREkey9876543210zyxwvutsrq"},
	{"llm-groq-key", "groq", "groq-api-key", "GROQ_API_KEY", "gsk_PLANTEDoldGROQkey0123456789abcdefghijklmn", "gsk_PLANTEDnewGROQkey9876543210zyxwvutsrqpon"},
	{"llm-openrouter-key", "openrouter", "openrouter-api-key", "OPENROUTER_API_KEY", "sk-or-v1-PLANTEDoldOPENROUTER0123456789abcdef", "sk-or-v1-PLANTEDnewOPENROUTER9876543210fedcba"},
}

// TestGuidedRotations: for every manual-only provider, a supplied key is
// verified against the provider's documented check endpoint and delivered;
// the run pauses for the human revocation; confirming before revoking is
// caught; revoking and resuming finishes.
func TestGuidedRotations(t *testing.T) {
	t.Parallel()
	for _, g := range guided {
		t.Run(g.provider, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := llmtest.NewSimple(t, g.provider)
			f.Allow(g.old)
			f.Allow(g.new)
			e := newEnv(t, g.kind, g.varName, g.old)
			e.baseURLs[g.provider] = f.URL
			params := map[string]any{"verify_timeout": "50ms"}
			if g.provider == "azure" {
				// The endpoint is read from the same .env file.
				b, _ := os.ReadFile(e.envFile)
				if err := writeFile(e.envFile, string(b)+"AZURE_OPENAI_ENDPOINT="+f.URL+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			eng := e.engine(g.new)
			eng.Yes = false
			eng.Confirm = map[string]bool{}
			id, state, err := eng.Start(ctx, "default", mustFind(t, g.playbook), e.credID, params)
			if err != nil || state != store.RunAwaitingApproval || e.stepStates(id)["revoke-manual"] != store.StepAwaitingApproval {
				t.Fatalf("run = %s, %v %v; want a pause at revoke-manual", state, err, e.stepStates(id))
			}
			if e.envValue(g.varName) != g.new {
				t.Errorf("the new key was not delivered before the pause")
			}
			eng.Confirm["revoke-manual"] = true
			if state, err := eng.Resume(ctx, id); state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "still works") {
				t.Fatalf("confirmed without revoking: %s, %v", state, err)
			}
			f.Revoke(g.old)
			if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
				t.Fatalf("resume = %s, %v", state, err)
			}
			e.assertNoSecretInDB()
			e.assertAudit()
		})
	}
}

// TestGuidedRefusesABadKey: a mistyped or wrong key is refused before
// anything is written.
func TestGuidedRefusesABadKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := guided[0]
	f := llmtest.NewSimple(t, g.provider)
	f.Allow(g.old)
	e := newEnv(t, g.kind, g.varName, g.old)
	e.baseURLs[g.provider] = f.URL
	_, state, err := e.engine(g.new).Start(ctx, "default", mustFind(t, g.playbook), e.credID, map[string]any{"verify_timeout": "30ms"})
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("bad key: %s, %v", state, err)
	}
	if strings.Contains(err.Error(), g.new) || e.envValue(g.varName) != g.old {
		t.Errorf("leaked or wrote: %v", err)
	}
	// The exposed key itself is not a replacement.
	e2 := newEnv(t, g.kind, g.varName, g.old)
	e2.baseURLs[g.provider] = f.URL
	_, _, err = e2.engine(g.old).Start(ctx, "default", mustFind(t, g.playbook), e2.credID, nil)
	if err == nil || !strings.Contains(err.Error(), "exposed key") {
		t.Errorf("old key as new: %v", err)
	}
}

// TestLiteLLMMasterKey: virtual keys minted in the window are findings; a
// new master key is generated and delivered; the proxy restart is the
// human's step; both keys are then verified.
func TestLiteLLMMasterKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := "sk-PLANTEDoldLITELLMmaster0123456789"
	f := llmtest.NewSimple(t, "litellm")
	f.Allow(old)
	f.VirtualKeys["8f14e45fceea167a5a36dedd4bea2543aaaa"] = time.Now().Add(-time.Hour)
	f.VirtualKeys["c9f0f895fb98ab9159f51fd0297e236dbbbb"] = time.Now().Add(-400 * 24 * time.Hour)
	e := newEnv(t, "litellm-master-key", "LITELLM_MASTER_KEY", old)
	e.baseURLs["litellm"] = f.URL
	eng := e.engine("")
	eng.Yes = false
	eng.Confirm = map[string]bool{}
	id, state, err := eng.Start(ctx, "default", mustFind(t, "llm-litellm-master-key"), e.credID, map[string]any{"verify_timeout": "50ms"})
	if err != nil || state != store.RunAwaitingApproval || e.stepStates(id)["apply-manual"] != store.StepAwaitingApproval {
		t.Fatalf("run = %s, %v, %v", state, err, e.stepStates(id))
	}
	newKey := e.envValue("LITELLM_MASTER_KEY")
	if !strings.HasPrefix(newKey, "sk-") || len(newKey) != 43 || newKey == old {
		t.Fatalf("delivered %q", newKey)
	}
	// The operator restarts the proxy with the new key.
	f.Revoke(old)
	f.Allow(newKey)
	eng.Confirm["apply-manual"] = true
	if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	fs, _ := e.st.Findings(ctx, "default")
	n := 0
	for _, fd := range fs {
		if fd.Rule == "virtual-key-created-in-window" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d virtual-key findings, want 1: %+v", n, fs)
	}
	e.assertNoSecretInDB(newKey)
}
