package github

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/faultinject"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// withFaults routes the env's GitHub client through ft.
func (e *env) withFaults(ft *faultinject.Transport) {
	e.p = New(Options{APIURL: e.fake.URL,
		Token: func() (ghc.TokenSource, error) {
			return ghc.TokenSource{Token: redact.NewSecretString(operator), From: "test"}, nil
		},
		Client: func(o ghc.ClientOptions) (*ghc.Client, error) {
			o.Sleep = func(context.Context, time.Duration) error { return nil }
			base := o.Transport
			if base == nil {
				base = http.DefaultTransport
			}
			ft.Base = base
			o.Transport = ft
			return ghc.NewClient(o)
		}})
}

// runThroughFaults starts a run and resumes it while it pauses, as an
// operator would after each outage, up to a bound.
func (e *env) runThroughFaults(pb string, params map[string]any, inputs map[string]string) (string, int) {
	e.t.Helper()
	ctx := context.Background()
	book, err := playbooks.Find(pb)
	if err != nil {
		e.t.Fatal(err)
	}
	eng := func() *playbooks.Engine {
		en := e.engine(inputs, "")
		en.Sleep = func(context.Context, time.Duration) error { return nil }
		return en
	}
	id, state, err := eng().Start(ctx, "default", book, e.credID, params)
	resumes := 0
	for state == store.RunPaused && resumes < 40 {
		resumes++
		state, err = eng().Resume(ctx, id)
	}
	if state != store.RunDone {
		e.t.Fatalf("run %s ended %s after %d resumes: %v", id, state, resumes, err)
	}
	return id, resumes
}

// TestPlaybooksThroughFaults: every kind of fault, injected into 30% of the
// GitHub requests (seeded) of the token and Actions-secret playbooks, is
// retried or pauses the run; resuming ends as a clean run does.
func TestPlaybooksThroughFaults(t *testing.T) {
	t.Parallel()
	for _, k := range faultinject.All {
		for _, seed := range []int64{1, 2, 3, 4} {
			t.Run(fmt.Sprintf("token/%s/%d", k, seed), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				ft := &faultinject.Transport{Schedule: faultinject.Random(seed*10+int64(k), 0.3, k, nil)}
				e.withFaults(ft)
				envFile := e.tokenCred()
				e.fake.SetSecret("acme/api", "GH_PAT", "old", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
				_, resumes := e.runThroughFaults("github-token", map[string]any{"actions_secret": "acme/api/GH_PAT"},
					map[string]string{inNewSecret: newTok, inOldSecret: oldTok})
				if b, _ := os.ReadFile(envFile); string(b) != "# keep\nOTHER=1\nGITHUB_TOKEN="+newTok+"\n" {
					t.Errorf("the file is now %q", b)
				}
				if v, _, _ := e.fake.SecretValue("acme/api", "GH_PAT"); v != newTok {
					t.Errorf("the Actions secret holds %s", redact.Hint(v))
				}
				if !e.fake.Revoked(oldTok) || e.fake.Revoked(newTok) {
					t.Errorf("revoked: old %v new %v", e.fake.Revoked(oldTok), e.fake.Revoked(newTok))
				}
				e.noSecretInDB(oldTok, newTok)
				t.Logf("faults %d, resumes %d", ft.Total(), resumes)
			})
			t.Run(fmt.Sprintf("actions-secret/%s/%d", k, seed), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				ft := &faultinject.Transport{Schedule: faultinject.Random(seed*10+int64(k), 0.3, k, nil)}
				e.withFaults(ft)
				before := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
				e.fake.SetSecret("acme/api/env:production", "PYPI_TOKEN", "pypi-old", before)
				e.seed(store.Credential{ID: "c-sec", Kind: ghc.KindActionsSecret, Path: "github:acme/api/env:production/PYPI_TOKEN", Hint: "PYPI_TOKEN",
					Fingerprint: redact.Fingerprint([]byte("acme/api/env:production/PYPI_TOKEN")), Exposure: store.Exposed}, "ci", "github:acme")
				const v = "pypi-AgENdGVzdC5weXBpLm9yZwNEW0123456789"
				_, resumes := e.runThroughFaults("github-actions-secret", map[string]any{}, map[string]string{inNewSecret: v})
				if got, updated, _ := e.fake.SecretValue("acme/api/env:production", "PYPI_TOKEN"); got != v || !updated.After(before) {
					t.Errorf("secret holds %s", redact.Hint(got))
				}
				e.noSecretInDB(v)
				t.Logf("faults %d, resumes %d", ft.Total(), resumes)
			})
		}
	}
}
