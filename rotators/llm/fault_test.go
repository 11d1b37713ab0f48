package llm

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/faultinject"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// runThroughFaults starts a run and resumes it while it pauses, as an
// operator would after each outage, up to a bound.
func runThroughFaults(t *testing.T, eng func() *playbooks.Engine, pb *playbooks.Playbook, credID string, params map[string]any) (string, int) {
	t.Helper()
	ctx := context.Background()
	id, state, err := eng().Start(ctx, "default", pb, credID, params)
	resumes := 0
	for state == store.RunPaused && resumes < 40 {
		resumes++
		state, err = eng().Resume(ctx, id)
	}
	if state != store.RunDone {
		t.Fatalf("run %s ended %s after %d resumes: %v", id, state, resumes, err)
	}
	return id, resumes
}

// faultSeeds: each fault kind is injected with these seeds (30% of the
// requests), so that faults land on different requests of different steps.
var faultSeeds = []int64{1, 2, 3, 4}

// faultyEngine builds engines whose provider client goes through ft.
func faultyEngine(e *env, ft *faultinject.Transport, newKey string) func() *playbooks.Engine {
	return func() *playbooks.Engine {
		eng := e.engine(newKey)
		p := New(Options{Getenv: func(k string) string { return e.getenv[k] }, BaseURLs: e.baseURLs, Poll: 5 * time.Millisecond,
			HTTP: &http.Client{Transport: ft, Timeout: 5 * time.Second}})
		eng.Actions = p.Actions()
		eng.Sleep = func(context.Context, time.Duration) error { return nil }
		return eng
	}
}

// TestRotationThroughFaults: every kind of provider fault, injected into
// 30% of the requests of the OpenAI (automated) and Anthropic rotations, is
// retried or pauses the run; resuming finishes it with the same end state
// as a clean run.
func TestRotationThroughFaults(t *testing.T) {
	t.Parallel()
	for _, k := range faultinject.All {
		for _, seed := range faultSeeds {
			t.Run(fmt.Sprintf("openai/%s/%d", k, seed), func(t *testing.T) {
				t.Parallel()
				e, f, oldID := openaiEnv(t, nil)
				ft := &faultinject.Transport{Schedule: faultinject.Random(seed*10+int64(k), 0.3, k, nil)}
				id, resumes := runThroughFaults(t, faultyEngine(e, ft, ""), mustFind(t, "llm-openai-key"), e.credID, map[string]any{"verify_timeout": "5s"})
				newKey := e.envValue("OPENAI_API_KEY")
				if !f.KeyWorks(newKey) || f.KeyWorks(oaiOld) {
					t.Fatalf("end state: new works %v, old works %v", f.KeyWorks(newKey), f.KeyWorks(oaiOld))
				}
				if _, ok := f.Keys("proj_app")[oldID]; ok {
					t.Error("exposed key not deleted")
				}
				if sas := f.ServiceAccounts("proj_app"); len(sas) != 1 || sas[0] != "tourniquet-"+id {
					t.Errorf("service accounts %v: want exactly one", sas)
				}
				e.assertNoSecretInDB(newKey)
				t.Logf("faults %d, resumes %d", ft.Total(), resumes)
			})
			t.Run(fmt.Sprintf("anthropic/%s/%d", k, seed), func(t *testing.T) {
				t.Parallel()
				e, f, oldID := anthropicEnv(t)
				ft := &faultinject.Transport{Schedule: faultinject.Random(seed*10+int64(k), 0.3, k, nil)}
				_, resumes := runThroughFaults(t, faultyEngine(e, ft, antNew), mustFind(t, "llm-anthropic-key"), e.credID, map[string]any{"verify_timeout": "5s"})
				e.assertFileKept("ANTHROPIC_API_KEY", antNew)
				if f.Status(oldID) != "inactive" || f.KeyWorks(antOld) || !f.KeyWorks(antNew) {
					t.Errorf("end state: exposed key %s", f.Status(oldID))
				}
				e.assertNoSecretInDB()
				t.Logf("faults %d, resumes %d", ft.Total(), resumes)
			})
		}
	}
}
