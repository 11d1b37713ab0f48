package keystore

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

func TestKeystoreRoundTripEncryptedAndPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path, idPath := filepath.Join(dir, "ks.age"), filepath.Join(dir, "ks.identity")
	noEnv := func(string) string { return "" }
	s, err := Open(path, idPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	const value = "sk-proj-KEYSTOREplantedVALUE0123456789abcdef"
	if err := s.Put(ctx, "openai-prod", redact.NewSecretString(value)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(value)) || bytes.Contains(raw, []byte("openai-prod")) {
		t.Fatal("the keystore file holds the key or its name in clear")
	}
	for _, p := range []string{path, idPath} {
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o", p, st.Mode().Perm())
		}
	}
	s2, err := Open(path, idPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := s2.Get("openai-prod")
	if err != nil || !ok || string(got.Reveal()) != value {
		t.Fatalf("Get after reopen = %v %v", ok, err)
	}
	es, _ := s2.Entries()
	if len(es) != 1 || es[0].Hint != "sk-proj-…cdef" || strings.Contains(es[0].Fingerprint, value) {
		t.Errorf("entries %+v", es)
	}
	_, v1, _ := s2.Snapshot()
	if err := s2.Put(ctx, "openai-prod", redact.NewSecretString(value+"X")); err != nil {
		t.Fatal(err)
	}
	_, v2, _ := s2.Snapshot()
	if v2 <= v1 {
		t.Errorf("version did not increase: %d -> %d", v1, v2)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, idPath, noEnv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a readable keystore was opened: %v", err)
	}
}

func TestKeystorePassphraseAndWrongKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "ks.age")
	env := func(k string) string {
		if k == PassphraseEnv {
			return "correct horse battery staple"
		}
		return ""
	}
	s, err := Open(path, filepath.Join(dir, "unused"), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "anthropic", redact.NewSecretString("sk-ant-api03-xyz")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "unused")); err == nil {
		t.Error("an identity file was created although a passphrase was given")
	}
	wrong := func(k string) string {
		if k == PassphraseEnv {
			return "wrong"
		}
		return ""
	}
	if _, err := Open(path, "", wrong); err == nil || !strings.Contains(err.Error(), "cannot decrypt") {
		t.Errorf("wrong passphrase: %v", err)
	}
	if err := s.Put(ctx, "bad/ref", redact.NewSecretString("x")); err == nil {
		t.Error("a ref with a slash was accepted")
	}
}
