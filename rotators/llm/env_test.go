package llm

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

// env is one exposed LLM key in a .env file, recorded in a store as a scan
// would record it.
type env struct {
	t        *testing.T
	dir      string
	envFile  string
	st       *store.Store
	credID   string
	old      string
	getenv   map[string]string
	baseURLs map[string]string
	secrets  []string // planted: must never reach the DB
}

const envPrefix = "# app settings: keep me\nDEBUG=false\n"

func newEnv(t *testing.T, kind, varName, old string) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, envFile: filepath.Join(dir, "app", ".env"), old: old, getenv: map[string]string{}, baseURLs: map[string]string{}, secrets: []string{old}}
	if err := os.MkdirAll(filepath.Dir(e.envFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.envFile, []byte(envPrefix+varName+"=\""+old+"\" # prod\nTAIL='x'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.credID = "c-" + strings.ReplaceAll(kind, "-", "")[:8]
	ws := time.Now().Add(-48 * time.Hour)
	err = st.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Name: "web-01", Root: "/", WindowStart: &ws, WindowOpen: true, Verdict: store.VerdictCompromised})
		if err != nil {
			return err
		}
		sec := redact.NewSecretString(old)
		_, err = tx.UpsertCredential(ctx, hid, store.Credential{ID: e.credID, Kind: kind, Path: e.envFile, Detail: "line 3: " + varName,
			Fingerprint: sec.Fingerprint(), Hint: sec.Hint(), Exposure: store.Exposed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) provider() *Provider {
	return New(Options{Getenv: func(k string) string { return e.getenv[k] }, BaseURLs: e.baseURLs, Poll: 5 * time.Millisecond})
}

// engine returns an engine with the operator's supplied new key, if any.
func (e *env) engine(newKey string) *playbooks.Engine {
	in := &rotators.Secrets{}
	if newKey != "" {
		in.Put(inNewSecret, redact.NewSecretString(newKey))
		e.secrets = append(e.secrets, newKey)
	}
	return &playbooks.Engine{Store: e.st, Actions: e.provider().Actions(), Yes: true, Backoff: time.Millisecond, Inputs: in}
}

func (e *env) envValue(name string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.envFile)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+"=\""); ok {
			v, _, _ = strings.Cut(v, "\"")
			return v
		}
	}
	return ""
}

// assertFileKept checks that only the value changed in the .env file.
func (e *env) assertFileKept(varName, newKey string) {
	e.t.Helper()
	b, _ := os.ReadFile(e.envFile)
	want := envPrefix + varName + "=\"" + newKey + "\" # prod\nTAIL='x'\n"
	if string(b) != want {
		e.t.Errorf(".env is\n%q\nwant\n%q", b, want)
	}
}

// assertNoSecretInDB greps the database and its WAL for every planted key.
func (e *env) assertNoSecretInDB(extra ...string) {
	e.t.Helper()
	for _, p := range []string{e.st.Path(), e.st.Path() + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, s := range append(e.secrets, extra...) {
			if len(s) >= 8 && bytes.Contains(b, []byte(s)) {
				e.t.Errorf("%s contains a secret (%s)", filepath.Base(p), redact.Hint(s))
			}
		}
	}
}

func (e *env) run(id string) store.Run {
	e.t.Helper()
	r, err := e.st.GetRun(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) stepStates(id string) map[string]string {
	out := map[string]string{}
	for _, s := range e.run(id).Steps {
		out[s.Name] = s.State
	}
	return out
}

func (e *env) assertAudit() {
	e.t.Helper()
	v, err := e.st.VerifyAudit(context.Background())
	if err != nil || !v.OK {
		e.t.Errorf("audit chain: %+v %v", v, err)
	}
}

func mustFind(t *testing.T, id string) *playbooks.Playbook {
	t.Helper()
	pb, err := playbooks.Find(id)
	if err != nil {
		t.Fatal(err)
	}
	return pb
}
