package llm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

func redactNew(s string) redact.Secret { return redact.NewSecretString(s) }

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }

// testRC is a run context for an exposed key in a fresh .env file.
func testRC(t *testing.T, kind, old string) *rotators.RunContext {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, ".env")
	if err := writeFile(p, "KEY="+old+"\n"); err != nil {
		t.Fatal(err)
	}
	sec := redact.NewSecretString(old)
	ws := time.Now().Add(-48 * time.Hour)
	return &rotators.RunContext{
		Run:        store.Run{ID: "r-test"},
		Credential: store.Credential{ID: "c-test", Kind: kind, Path: p, Detail: "line 1: KEY", Fingerprint: sec.Fingerprint(), Hint: sec.Hint()},
		Host:       store.Host{Root: "/", WindowStart: &ws, WindowOpen: true},
		Vars:       map[string]any{}, Params: map[string]any{}, Secrets: &rotators.Secrets{}, Inputs: &rotators.Secrets{},
		Now: time.Now, Note: func(string, ...any) {},
	}
}
