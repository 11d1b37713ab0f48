package llm

import (
	"context"
	"os"
	"testing"

	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// crashPoints are the engine's step boundaries.
var crashPoints = []string{"before-intent", "after-intent", "after-do", "after-record"}

// crashAndResume "kills" a run at step:point (the crash hook panics) and
// resumes it with a fresh engine; it reports whether the point was reached.
func crashAndResume(t *testing.T, start, resume func() *playbooks.Engine, st *store.Store, pb *playbooks.Playbook, credID, step, point string, params map[string]any) bool {
	t.Helper()
	ctx := context.Background()
	eng := start()
	crashed := false
	eng.CrashHook = func(s, p string) {
		if s == step && p == point && !crashed {
			crashed = true
			panic("crash")
		}
	}
	var state string
	var err error
	func() {
		defer func() { _ = recover() }()
		_, state, err = eng.Start(ctx, "default", pb, credID, params)
	}()
	if !crashed {
		if state != store.RunDone {
			t.Fatalf("uninterrupted run: %s, %v", state, err)
		}
		return false
	}
	runs, _ := st.Runs(ctx, "default")
	if state, err = resume().Resume(ctx, runs[0].ID); err != nil || state != store.RunDone {
		t.Fatalf("resume after a crash at %s:%s = %s, %v", step, point, state, err)
	}
	return true
}

// TestGuidedKillResume: every guided (manual-only) provider's playbook is
// killed at every boundary of every step and resumed: the new key is
// delivered exactly, the old key proven refused, no secret in the DB. (The
// human revokes the old key at the provider when the run asks; here before
// the run, with the manual step confirmed.)
func TestGuidedKillResume(t *testing.T) {
	t.Parallel()
	for _, g := range guided {
		pb := mustFind(t, g.playbook)
		for _, sd := range pb.Steps {
			for _, point := range crashPoints {
				t.Run(g.provider+"/"+sd.ID+":"+point, func(t *testing.T) {
					t.Parallel()
					f := llmtest.NewSimple(t, g.provider)
					f.Allow(g.new)
					e := newEnv(t, g.kind, g.varName, g.old)
					e.baseURLs[g.provider] = f.URL
					if g.provider == "azure" {
						b, _ := os.ReadFile(e.envFile)
						if err := writeFile(e.envFile, string(b)+"AZURE_OPENAI_ENDPOINT="+f.URL+"\n"); err != nil {
							t.Fatal(err)
						}
					}
					mk := func() *playbooks.Engine { return e.engine(g.new) }
					// After a crash past delivery the exposed key is gone from
					// its file and from memory: the operator gives it again
					// (--old-secret-from), as the run asks.
					resume := func() *playbooks.Engine {
						eng := e.engine(g.new)
						eng.Inputs.Put(inOldSecret, redactNew(g.old))
						return eng
					}
					crashAndResume(t, mk, resume, e.st, pb, e.credID, sd.ID, point, map[string]any{"verify_timeout": "50ms"})
					if e.envValue(g.varName) != g.new {
						t.Errorf("%s holds %q after the resume", g.varName, e.envValue(g.varName))
					}
					e.assertNoSecretInDB()
				})
			}
		}
	}
}

// TestLiteLLMMasterKeyKillResume: the master key playbook killed at every
// boundary: one new master key generated (never two), delivered, working.
func TestLiteLLMMasterKeyKillResume(t *testing.T) {
	t.Parallel()
	pb := mustFind(t, "llm-litellm-master-key")
	for _, sd := range pb.Steps {
		for _, point := range crashPoints {
			t.Run(sd.ID+":"+point, func(t *testing.T) {
				t.Parallel()
				old := "sk-PLANTEDoldLITELLMmaster0123456789"
				f := llmtest.NewSimple(t, "litellm")
				f.Allow(old)
				e := newEnv(t, "litellm-master-key", "LITELLM_MASTER_KEY", old)
				e.baseURLs["litellm"] = f.URL
				mk := func() *playbooks.Engine {
					eng := e.engine("")
					inner := eng.CrashHook
					eng.CrashHook = func(s, p string) {
						// The proxy is restarted as soon as a new key is in
						// the file (the human's apply-manual step).
						if k := e.envValue("LITELLM_MASTER_KEY"); k != "" && k != old && !f.KeyWorks(k) {
							f.Revoke(old)
							f.Allow(k)
						}
						if inner != nil {
							inner(s, p)
						}
					}
					return eng
				}
				start := func() *playbooks.Engine { return mk() }
				ctx := context.Background()
				eng := start()
				crashed := false
				hook := eng.CrashHook
				eng.CrashHook = func(s, p string) {
					hook(s, p)
					if s == sd.ID && p == point && !crashed {
						crashed = true
						panic("crash")
					}
				}
				var state string
				var err error
				func() {
					defer func() { _ = recover() }()
					_, state, err = eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "50ms"})
				}()
				if crashed {
					runs, _ := e.st.Runs(ctx, "default")
					res := mk()
					res.Inputs.Put(inOldSecret, redactNew(old)) // --old-secret-from, as the run asks
					state, err = res.Resume(ctx, runs[0].ID)
				}
				if err != nil || state != store.RunDone {
					t.Fatalf("run %s: %v (crashed %v)", state, err, crashed)
				}
				newKey := e.envValue("LITELLM_MASTER_KEY")
				if newKey == old || !f.KeyWorks(newKey) || f.KeyWorks(old) {
					t.Errorf("end state: new %q works %v, old works %v", newKey, f.KeyWorks(newKey), f.KeyWorks(old))
				}
				e.assertNoSecretInDB(newKey)
			})
		}
	}
}
