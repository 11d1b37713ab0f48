package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	rotllm "github.com/tourniquet-ir/tourniquet/rotators/llm"
	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/rotators/sinks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// imageOpenAIKey is the OpenAI key planted in the compromised image's .env.
const imageOpenAIKey = "sk-proj-FAKEfakeFAKEfake0123456789abcdefghijklmnopqrstuvwxyzT3BlbkFJfakefakefake"

// TestFlowRotateAndRerouteLLM rotates, interactively, an exposed OpenAI key
// that the gateway serves with: the console offers "rotate and re-route",
// the run (real LLM rotator against the OpenAI fake) makes a service-account
// key, delivers it to the gateway keystore, asks before deleting the old
// key, and deletes it.
func TestFlowRotateAndRerouteLLM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, ps := incident(t, "compromised")
	const admin = "sk-admin-FLOWadminKEY0123456789abcdefghijkl"
	oai := llmtest.NewOpenAI(t, nil)
	oai.AddAdminKey(admin)
	oai.AddProject("proj_app")
	oai.AddUserKey("proj_app", imageOpenAIKey, "backend", time.Now().Add(-40*24*time.Hour))

	ksPath, idPath := keystore.DefaultPaths(st.Path())
	ks, err := keystore.Open(ksPath, idPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Put(ctx, "openai-prod", redact.NewSecretString(imageOpenAIKey)); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, func(tx *store.Tx) error {
		return tx.PutGatewayRoute(ctx, store.GatewayRoute{Model: "gpt-4o", Provider: "openai", BaseURL: "https://api.openai.com", KeyRef: "openai-prod"})
	}); err != nil {
		t.Fatal(err)
	}
	prov := rotllm.New(rotllm.Options{
		Getenv:   func(k string) string { return map[string]string{"OPENAI_ADMIN_KEY": admin}[k] },
		BaseURLs: map[string]string{"openai": oai.URL},
		Keystore: func() (sinks.Keystore, error) {
			return keystore.Open(ksPath, idPath, func(string) string { return "" })
		},
		Poll: 5 * time.Millisecond,
	})
	b := &Local{Store: st, IncidentName: "default", Packs: ps, Actions: prov.Actions(), Params: map[string]any{"verify_timeout": "10s"}}
	m := New(Options{Backend: b, Context: ctx})
	scr := &latestScreen{}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(160, 44), teatest.WithProgramOptions(tea.WithFilter(scr.filter)))
	scr.tm = tm
	scr.wait(t, "COMPROMISED")
	tm.Send(keyPress("5"))
	scr.wait(t, "openai-prod")
	for _, k := range []string{"3", "/", "o", "p", "e", "n", "a", "i", "enter"} {
		tm.Send(keyPress(k))
	}
	scr.wait(t, "1 of 9 credentials")
	tm.Send(keyPress("r"))
	scr.wait(t, "Rotate and re-route openai-api-key")
	scr.wait(t, "The gateway serves routes gpt-4o with this key (keystore entry openai-prod)")
	tm.Send(keyPress("enter"))
	scr.wait(t, "Tourniquet create a service-account key")
	tm.Send(keyPress("enter")) // nothing pasted: the Admin API makes the key
	scr.wait(t, "Approve step delete-old")
	tm.Send(keyPress("y"))
	waitRunState(t, st, store.RunDone)
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

	if oai.KeyWorks(imageOpenAIKey) {
		t.Error("the exposed key still works")
	}
	got, ok, err := ks.Get("openai-prod")
	if err != nil || !ok {
		t.Fatalf("keystore: %v %v", ok, err)
	}
	if string(got.Reveal()) == imageOpenAIKey || !oai.KeyWorks(string(got.Reveal())) {
		t.Error("the gateway keystore does not hold a new, working key")
	}
	runs, _ := st.Runs(ctx, "default")
	r, _ := st.GetRun(ctx, runs[0].ID)
	if !strings.Contains(string(r.Params), `"gateway_ref":"openai-prod"`) {
		t.Errorf("run params %s: the re-route did not reach the run", r.Params)
	}
	for _, s := range r.Steps {
		if s.Destructive && s.State == store.StepDone && s.ApprovedBy == "" {
			t.Errorf("destructive step %s ran without a recorded approval", s.Name)
		}
	}
	if s, _ := scr.v.Load().(string); strings.Contains(s, imageOpenAIKey) || strings.Contains(s, string(got.Reveal())) {
		t.Error("a key was shown on screen")
	}
}
