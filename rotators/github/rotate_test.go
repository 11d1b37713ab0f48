package github

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/rotators/github/ghtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

const (
	operator = "ghp_FAKEoperatorTOKEN0123456789abcdefghij"
	oldTok   = "ghp_FAKEexposedTOKEN0123456789abcdefghijk"
	newTok   = "ghp_FAKEreplacementTOKEN0123456789abcdefg"
)

type env struct {
	t      *testing.T
	fake   *ghtest.Fake
	st     *store.Store
	dir    string
	credID string
	p      *Provider
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	f := ghtest.NewFake(t)
	f.AddToken(operator, "alice", "repo, admin:public_key")
	f.AddToken(oldTok, "alice", "repo")
	f.AddToken(newTok, "alice", "repo")
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := New(Options{APIURL: f.URL,
		Token: func() (ghc.TokenSource, error) {
			return ghc.TokenSource{Token: redact.NewSecretString(operator), From: "test"}, nil
		},
		Client: func(o ghc.ClientOptions) (*ghc.Client, error) {
			o.Sleep = func(context.Context, time.Duration) error { return nil }
			return ghc.NewClient(o)
		}})
	return &env{t: t, fake: f, st: st, dir: dir, p: p}
}

func (e *env) seed(c store.Credential, kind, name string) {
	e.t.Helper()
	ctx := context.Background()
	ws := time.Date(2026, 3, 19, 17, 43, 0, 0, time.UTC)
	err := e.st.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Kind: kind, Name: name, Root: map[string]string{"host": "/", "ci": "-"}[kind], WindowStart: &ws, Verdict: store.VerdictWasCompromised})
		if err != nil {
			return err
		}
		_, err = tx.UpsertCredential(ctx, hid, c)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.credID = c.ID
}

func (e *env) engine(inputs map[string]string, crashAt string) *playbooks.Engine {
	in := &rotators.Secrets{}
	for k, v := range inputs {
		in.Put(k, redact.NewSecretString(v))
	}
	eng := &playbooks.Engine{Store: e.st, Actions: e.p.Actions(), Yes: true, Inputs: in, Backoff: time.Millisecond,
		Lease: 50 * time.Millisecond, Owner: "test:" + crashAt + time.Now().String()}
	if crashAt != "" {
		eng.CrashHook = func(step, point string) {
			if step+":"+point == crashAt {
				panic(crash{})
			}
		}
	}
	return eng
}

type crash struct{}

// run starts a playbook, "crashing" at crashAt (the engine's CrashHook
// panics; a new engine with empty memory resumes, as after a SIGKILL).
func (e *env) run(pb string, params map[string]any, inputs map[string]string, crashAt string) string {
	e.t.Helper()
	ctx := context.Background()
	book, err := playbooks.Find(pb)
	if err != nil {
		e.t.Fatal(err)
	}
	var runID, state string
	crashed := func() (c bool) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(crash); !ok {
					panic(r)
				}
				c = true
			}
		}()
		runID, state, err = e.engine(inputs, crashAt).Start(ctx, "default", book, e.credID, params)
		return false
	}()
	if crashed {
		if crashAt == "" {
			e.t.Fatal("crashed without a crash point")
		}
		runs, _ := e.st.Runs(ctx, "default")
		runID = runs[0].ID
		time.Sleep(60 * time.Millisecond) // the dead engine's lease expires
		state, err = e.engine(inputs, "").Resume(ctx, runID)
	} else if crashAt != "" {
		e.t.Fatalf("the run never reached %s (state %s, %v)", crashAt, state, err)
	}
	if err != nil || state != store.RunDone {
		e.t.Fatalf("run %s: %s, %v", pb, state, err)
	}
	return runID
}

// noSecretInDB: none of the values is in the database or its WAL.
func (e *env) noSecretInDB(values ...string) {
	e.t.Helper()
	for _, p := range []string{e.st.Path(), e.st.Path() + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, v := range values {
			if bytes.Contains(b, []byte(v)) {
				e.t.Errorf("%s holds a secret (%s)", filepath.Base(p), redact.Hint(v))
			}
		}
	}
}

// crashPoints lists every boundary of every action step of a playbook.
func crashPoints(t *testing.T, pb string, skip map[string]bool) []string {
	book, err := playbooks.Find(pb)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range book.Steps {
		if s.Action == "" || skip[s.ID] {
			continue
		}
		for _, p := range []string{"before-intent", "after-intent", "after-do", "after-record"} {
			out = append(out, s.ID+":"+p)
		}
	}
	return out
}

func (e *env) tokenCred() string {
	envFile := filepath.Join(e.dir, "app.env")
	if err := os.WriteFile(envFile, []byte("# keep\nOTHER=1\nGITHUB_TOKEN="+oldTok+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	sec := redact.NewSecretString(oldTok)
	e.seed(store.Credential{ID: "c-tok", Kind: "github-token", Path: envFile, Detail: "line 3: GITHUB_TOKEN", Owner: "alice@github.com",
		Fingerprint: sec.Fingerprint(), Hint: sec.Hint(), Exposure: store.Exposed}, "host", "web-01")
	return envFile
}

func TestTokenPlaybook(t *testing.T) {
	t.Parallel()
	for _, crashAt := range append([]string{""}, crashPoints(t, "github-token", map[string]bool{"revoke-first": true})...) {
		t.Run("crash="+crashAt, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			envFile := e.tokenCred()
			e.fake.SetSecret("acme/api", "GH_PAT", "old", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			// After a crash between delivery and revocation the old value is
			// no longer on disk: the operator gives it (--old-secret-from).
			e.run("github-token", map[string]any{"actions_secret": "acme/api/GH_PAT"},
				map[string]string{inNewSecret: newTok, inOldSecret: oldTok}, crashAt)
			b, _ := os.ReadFile(envFile)
			if string(b) != "# keep\nOTHER=1\nGITHUB_TOKEN="+newTok+"\n" {
				t.Errorf("the file is now %q", b)
			}
			if v, _, _ := e.fake.SecretValue("acme/api", "GH_PAT"); v != newTok {
				t.Errorf("the Actions secret sink holds %q", redact.Hint(v))
			}
			if !e.fake.Revoked(oldTok) || e.fake.Revoked(newTok) {
				t.Errorf("revoked: old %v new %v", e.fake.Revoked(oldTok), e.fake.Revoked(newTok))
			}
			// Order: the new token was verified before the old one was revoked,
			// and revocation went out without a token.
			verified, revoked := -1, -1
			for i, c := range e.fake.Calls() {
				if c.Endpoint == "credentials/revoke" {
					if c.Auth {
						t.Error("the revocation request carried a token")
					}
					if revoked < 0 {
						revoked = i
					}
				}
				if c.Endpoint == "users/get-authenticated" && verified < 0 {
					verified = i
				}
			}
			if verified < 0 || revoked < verified {
				t.Errorf("revoked at call %d, verified at %d", revoked, verified)
			}
			e.noSecretInDB(oldTok, newTok)
		})
	}
}

func TestTokenRevokeFirstAndBatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tokenCred()
	e.run("github-token", map[string]any{"with": []any{"revoke-first"}}, map[string]string{inNewSecret: newTok}, "")
	if rq := e.fake.RevokeRequests(); len(rq) != 2 || rq[0][0] != oldTok {
		t.Errorf("revocation requests: %d", len(rq))
	}
	// 2,500 tokens go out in three requests of at most 1,000.
	c, _ := e.p.clientWith(nil, redact.Secret{})
	var toks []redact.Secret
	for i := range 2500 {
		toks = append(toks, redact.NewSecretString("ghp_FAKEbatch"+strings.Repeat("x", 20)+string(rune('a'+i%26))))
	}
	if err := RevokeTokens(context.Background(), c, toks); err != nil {
		t.Fatal(err)
	}
	rq := e.fake.RevokeRequests()
	if len(rq) != 5 || len(rq[2]) != 1000 || len(rq[4]) != 500 {
		t.Errorf("batches: %d requests", len(rq))
	}
}

func TestTokenWithoutReplacementPausesAtManualStep(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tokenCred()
	book, _ := playbooks.Find("github-token")
	eng := e.engine(nil, "")
	eng.Yes = false
	_, state, err := eng.Start(context.Background(), "default", book, e.credID, map[string]any{})
	if err != nil || state != store.RunAwaitingApproval {
		t.Fatalf("state %s, %v; want awaiting approval at issue-new", state, err)
	}
	if e.fake.CallCount("credentials/revoke", 0) != 0 {
		t.Error("revoked before a replacement existed")
	}
}

func TestActionsSecretPlaybook(t *testing.T) {
	t.Parallel()
	for _, crashAt := range append([]string{""}, crashPoints(t, "github-actions-secret", nil)...) {
		t.Run("crash="+crashAt, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			before := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			e.fake.SetSecret("acme/api/env:production", "PYPI_TOKEN", "pypi-old", before)
			e.seed(store.Credential{ID: "c-sec", Kind: ghc.KindActionsSecret, Path: "github:acme/api/env:production/PYPI_TOKEN", Hint: "PYPI_TOKEN",
				Fingerprint: redact.Fingerprint([]byte("acme/api/env:production/PYPI_TOKEN")), Exposure: store.Exposed}, "ci", "github:acme")
			e.run("github-actions-secret", map[string]any{}, map[string]string{inNewSecret: "pypi-AgENdGVzdC5weXBpLm9yZwNEW0123456789"}, crashAt)
			v, updated, _ := e.fake.SecretValue("acme/api/env:production", "PYPI_TOKEN")
			if v != "pypi-AgENdGVzdC5weXBpLm9yZwNEW0123456789" || !updated.After(before) {
				t.Errorf("secret holds %s, updated %s", redact.Hint(v), updated)
			}
			e.noSecretInDB("pypi-AgENdGVzdC5weXBpLm9yZwNEW0123456789")
		})
	}
}

func TestActionsSecretGeneratedOrgSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetSecret("org:acme", "SIGNING_KEY", "old", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	e.seed(store.Credential{ID: "c-org", Kind: ghc.KindActionsSecret, Path: "github:acme/org/SIGNING_KEY", Hint: "SIGNING_KEY",
		Fingerprint: redact.Fingerprint([]byte("acme/org/SIGNING_KEY"))}, "ci", "github:acme")
	e.run("github-actions-secret", map[string]any{"generate": "32"}, nil, "")
	v, _, _ := e.fake.SecretValue("org:acme", "SIGNING_KEY")
	if len(v) != 43 || v == "old" {
		t.Errorf("generated value has %d characters", len(v))
	}
	e.noSecretInDB(v)
}

func genKey(t *testing.T) ([]byte, string) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "old")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := ssh.NewSignerFromKey(priv)
	return pem.EncodeToMemory(block), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
}

func TestDeployKeyPlaybook(t *testing.T) {
	t.Parallel()
	for _, crashAt := range append([]string{""}, crashPoints(t, "github-deploy-key", nil)...) {
		t.Run("crash="+crashAt, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			privPEM, pub := genKey(t)
			keyFile := filepath.Join(e.dir, "deploy_key")
			if err := os.WriteFile(keyFile, privPEM, 0o600); err != nil {
				t.Fatal(err)
			}
			e.fake.AddRepo(&ghtest.FakeRepo{Owner: "acme", Name: "api"})
			e.fake.AddKey("repo:acme/api", "ci", pub, false, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			other := e.fake.AddKey("repo:acme/api", "other", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOTHEROTHEROTHEROTHEROTHEROTHEROTHEROTHERX", true, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			e.fake.SetSecret("acme/ops", "DEPLOY_KEY", "old", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			e.seed(store.Credential{ID: "c-key", Kind: "ssh-private-key", Path: keyFile, Hint: "ssh-ed25519",
				Fingerprint: redact.Fingerprint(privPEM), Exposure: store.Exposed}, "host", "runner-01")
			e.run("github-deploy-key", map[string]any{"repo": "acme/api", "actions_secret": "acme/ops/DEPLOY_KEY"}, nil, crashAt)
			keys := e.fake.Keys("repo:acme/api")
			if len(keys) != 2 {
				t.Fatalf("%d deploy keys, want the new one and the other: %+v", len(keys), keys)
			}
			var nk ghc.Key
			for _, k := range keys {
				if k.ID != other {
					nk = k
				}
			}
			if nk.Key == pub || nk.ReadOnly || !strings.HasPrefix(nk.Key, "ssh-ed25519 ") {
				t.Errorf("remaining key %+v: want a new read-write ed25519 key", nk)
			}
			b, _ := os.ReadFile(keyFile)
			signer, err := ssh.ParsePrivateKey(b)
			if err != nil || strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) != nk.Key {
				t.Errorf("the key file does not hold the new key (%v)", err)
			}
			if st, _ := os.Stat(keyFile); st.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v", st.Mode())
			}
			if v, _, _ := e.fake.SecretValue("acme/ops", "DEPLOY_KEY"); v != string(b) {
				t.Error("the Actions secret sink does not hold the new private key")
			}
			e.noSecretInDB(string(b), string(privPEM))
		})
	}
}

func TestSSHKeyPlaybook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, pub := genKey(t)
	id := e.fake.AddKey("user:alice", "laptop", pub, false, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	e.seed(store.Credential{ID: "c-ssh", Kind: ghc.KindSSHKey, Path: "github:user/alice/keys/" + itoa(int(id)), Hint: "ssh-ed25519",
		Fingerprint: redact.Fingerprint([]byte(pub))}, "ci", "github:alice")
	keyFile := filepath.Join(e.dir, "id_ed25519")
	e.run("github-ssh-key", map[string]any{"key_path": keyFile}, nil, "")
	keys := e.fake.Keys("user:alice")
	if len(keys) != 1 || keys[0].ID == id {
		t.Fatalf("keys after rotation: %+v", keys)
	}
	b, _ := os.ReadFile(keyFile)
	e.noSecretInDB(string(b))
}

// TestRateLimitedRunPausesThenResumes: a reset further than the client waits
// pauses the run (transient), state intact; resume finishes it.
func TestRateLimitedRunPausesThenResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetSecret("acme/api", "X", "old", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	e.seed(store.Credential{ID: "c-x", Kind: ghc.KindActionsSecret, Path: "github:acme/api/repo/X", Hint: "X",
		Fingerprint: redact.Fingerprint([]byte("acme/api/repo/X"))}, "ci", "github:acme")
	reset := time.Now().Add(3 * time.Hour).Unix()
	e.fake.FailNext("actions/get-repo-public-key", 3, 403, map[string][]string{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {itoa(int(reset))}}, `{"message":"API rate limit exceeded"}`)
	book, _ := playbooks.Find("github-actions-secret")
	in := map[string]string{inNewSecret: "new-value-0123456789"}
	id, state, err := e.engine(in, "").Start(context.Background(), "default", book, e.credID, map[string]any{})
	if state != store.RunPaused || err == nil || !rotators.IsTransient(err) {
		t.Fatalf("state %s, %v; want paused on the rate limit", state, err)
	}
	if state, err := e.engine(in, "").Resume(context.Background(), id); err != nil || state != store.RunDone {
		t.Fatalf("resume: %s %v", state, err)
	}
}

func TestSealOpensWithTheScopeKey(t *testing.T) {
	t.Parallel()
	if _, err := seal("c2hvcnQ=", []byte("x")); err == nil {
		t.Error("sealed to a key that is not 32 bytes")
	}
}

func TestParseSecretRef(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, scope, name string }{
		{"acme/api/X", "repository acme/api", "X"},
		{"acme/api/env:prod/X", "environment prod of acme/api", "X"},
		{"org:acme/X", "organization acme", "X"},
		{"github:acme/api/repo/X", "repository acme/api", "X"},
		{"github:acme/org/X", "organization acme", "X"},
		{"github:acme/api/env:prod/X", "environment prod of acme/api", "X"},
		{"acme//X", "", ""},
		{"X", "", ""},
	}
	for _, tc := range tests {
		s, n, err := ParseSecretRef(tc.in)
		if (err != nil) != (tc.scope == "") || (err == nil && (s.String() != tc.scope || n != tc.name)) {
			t.Errorf("%s: %v %q %v", tc.in, s, n, err)
		}
	}
}
