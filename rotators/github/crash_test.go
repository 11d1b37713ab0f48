package github

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// TestSSHKeyKillResume: the SSH key playbook killed at every boundary of
// every action step and resumed ends with exactly one key on the account
// (the new one, whose private half is in the key file), the exposed key
// gone, no secret in the DB.
func TestSSHKeyKillResume(t *testing.T) {
	t.Parallel()
	for _, crashAt := range crashPoints(t, "github-ssh-key", nil) {
		t.Run(crashAt, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			_, pub := genKey(t)
			id := e.fake.AddKey("user:alice", "laptop", pub, false, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			e.seed(store.Credential{ID: "c-ssh", Kind: ghc.KindSSHKey, Path: "github:user/alice/keys/" + itoa(int(id)), Hint: "ssh-ed25519",
				Fingerprint: redact.Fingerprint([]byte(pub))}, "ci", "github:alice")
			keyFile := filepath.Join(e.dir, "id_ed25519")
			e.run("github-ssh-key", map[string]any{"key_path": keyFile}, nil, crashAt)
			keys := e.fake.Keys("user:alice")
			if len(keys) != 1 || keys[0].ID == id {
				t.Fatalf("keys after rotation: %+v", keys)
			}
			b, err := os.ReadFile(keyFile)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := ssh.ParsePrivateKey(b)
			if err != nil {
				t.Fatalf("the key file: %v", err)
			}
			kept := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
			if !strings.HasPrefix(keys[0].Key, kept) {
				t.Errorf("the key on the account is not the one whose private half was kept")
			}
			e.noSecretInDB(string(b))
		})
	}
}
