// Package keystore holds the gateway's provider keys, encrypted at rest with
// age (X25519, or scrypt with a passphrase), in a file of mode 0600 that is
// refused when others can read it. Provider keys live here and in the
// gateway's memory only: never in SQLite, logs or exports.
package keystore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// PassphraseEnv names the environment variable that, when set, replaces the
// identity file with a passphrase (scrypt).
const PassphraseEnv = "TOURNIQUET_KEYSTORE_PASSPHRASE"

// Entry is what may be shown about a key: never its value.
type Entry struct {
	Ref         string    `json:"ref"`
	Fingerprint string    `json:"fingerprint"`
	Hint        string    `json:"hint"`
	UpdatedAt   time.Time `json:"updated_at"`
}

type record struct {
	Value     string    `json:"value"`
	UpdatedAt time.Time `json:"updated_at"`
}

type content struct {
	Version int               `json:"version"`
	Keys    map[string]record `json:"keys"`
}

// Store is an open keystore.
type Store struct {
	path       string
	identity   age.Identity
	recipient  age.Recipient
	now        func() time.Time
	maxVersion int

	// The last file read and what it decrypted to: a gateway polls the
	// keystore every second, and decrypting (scrypt with a passphrase) is
	// only worth doing when the file changed.
	mu         sync.Mutex
	lastCipher []byte
	lastPlain  content
}

// DefaultPaths are the keystore and identity files next to the database.
func DefaultPaths(dbPath string) (store, identity string) {
	dir := filepath.Dir(dbPath)
	return filepath.Join(dir, "keystore.age"), filepath.Join(dir, "keystore.identity")
}

// Open opens (creating when missing) the keystore at path. The key that
// encrypts it is the passphrase in PassphraseEnv when getenv returns one,
// else the X25519 identity in identityPath (created 0600 on first use).
func Open(path, identityPath string, getenv func(string) string) (*Store, error) {
	s := &Store{path: path, now: time.Now}
	if pass := getenv(PassphraseEnv); pass != "" {
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return nil, fmt.Errorf("keystore passphrase: %w", err)
		}
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return nil, fmt.Errorf("keystore passphrase: %w", err)
		}
		s.recipient, s.identity = r, id
	} else {
		id, err := loadOrCreateIdentity(identityPath)
		if err != nil {
			return nil, err
		}
		s.recipient, s.identity = id.Recipient(), id
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := s.write(content{Version: 0, Keys: map[string]record{}}); err != nil {
			return nil, err
		}
	} else if err := checkPrivate(path); err != nil {
		return nil, err
	}
	if _, err := s.read(); err != nil {
		return nil, err
	}
	return s, nil
}

func loadOrCreateIdentity(path string) (*age.X25519Identity, error) {
	if err := checkPrivate(path); err == nil {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("keystore identity: %w", err)
		}
		ids, err := age.ParseIdentities(bytes.NewReader(b))
		if err != nil || len(ids) != 1 {
			return nil, fmt.Errorf("keystore identity %s: not one age X25519 identity", path)
		}
		x, ok := ids[0].(*age.X25519Identity)
		if !ok {
			return nil, fmt.Errorf("keystore identity %s: not an X25519 identity", path)
		}
		return x, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("keystore identity: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("keystore identity: %w", err)
	}
	body := "# Tourniquet gateway keystore identity: it decrypts every provider key.\n" + id.String() + "\n"
	if err := atomicfile.Replace(path, []byte(body), 0o600, atomicfile.Options{}); err != nil {
		return nil, fmt.Errorf("keystore identity: %w", err)
	}
	return id, nil
}

// checkPrivate refuses a file others can read or that is not ours.
func checkPrivate(p string) error {
	st, err := os.Lstat(p)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("refusing %s: not a regular file", p)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("refusing %s: mode %04o lets other users read it; run: chmod 600 %s", p, perm, p)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("refusing %s: owned by uid %d, not by you", p, sys.Uid)
	}
	return nil
}

func (s *Store) decrypt(b []byte) (content, error) {
	r, err := age.Decrypt(bytes.NewReader(b), s.identity)
	if err != nil {
		return content{}, fmt.Errorf("keystore %s: cannot decrypt (wrong identity or passphrase?): %w", s.path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return content{}, fmt.Errorf("keystore %s: %w", s.path, err)
	}
	var c content
	if err := json.Unmarshal(plain, &c); err != nil {
		return content{}, fmt.Errorf("keystore %s: corrupt content", s.path)
	}
	if c.Keys == nil {
		c.Keys = map[string]record{}
	}
	return c, nil
}

func (s *Store) encrypt(c content) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, s.recipient)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if _, err := w.Write(plain); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return out.Bytes(), nil
}

func (s *Store) read() (content, error) {
	if err := checkPrivate(s.path); err != nil {
		return content{}, err
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return content{}, fmt.Errorf("keystore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastCipher != nil && bytes.Equal(b, s.lastCipher) {
		return s.lastPlain.clone(), nil
	}
	c, err := s.decrypt(b)
	if err != nil {
		return content{}, err
	}
	s.lastCipher, s.lastPlain = b, c.clone()
	return c, nil
}

func (c content) clone() content {
	out := content{Version: c.Version, Keys: make(map[string]record, len(c.Keys))}
	for k, v := range c.Keys {
		out.Keys[k] = v
	}
	return out
}

func (s *Store) write(c content) error {
	b, err := s.encrypt(c)
	if err != nil {
		return err
	}
	return atomicfile.Replace(s.path, b, 0o600, atomicfile.Options{})
}

// Put stores a key under ref (replacing any previous value), atomically.
func (s *Store) Put(ctx context.Context, ref string, v redact.Secret) error {
	if err := validRef(ref); err != nil {
		return err
	}
	if v.IsZero() {
		return fmt.Errorf("keystore: empty value for %s", ref)
	}
	return s.edit(ctx, func(c *content) {
		c.Keys[ref] = record{Value: string(v.Reveal()), UpdatedAt: s.now().UTC()}
	})
}

// Delete removes ref (no error when absent).
func (s *Store) Delete(ctx context.Context, ref string) error {
	return s.edit(ctx, func(c *content) { delete(c.Keys, ref) })
}

func (s *Store) edit(ctx context.Context, fn func(*content)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return atomicfile.Edit(s.path, func(old []byte) ([]byte, error) {
		c, err := s.decrypt(old)
		if err != nil {
			return nil, err
		}
		fn(&c)
		c.Version++
		return s.encrypt(c)
	}, atomicfile.Options{})
}

// Get returns the key stored under ref.
func (s *Store) Get(ref string) (redact.Secret, bool, error) {
	c, err := s.read()
	if err != nil {
		return redact.Secret{}, false, err
	}
	r, ok := c.Keys[ref]
	if !ok {
		return redact.Secret{}, false, nil
	}
	return redact.NewSecretString(r.Value), true, nil
}

// Snapshot returns every key (for the gateway to hold in memory) and the
// keystore's version, which increases with every change.
func (s *Store) Snapshot() (map[string]redact.Secret, int, error) {
	c, err := s.read()
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string]redact.Secret, len(c.Keys))
	for ref, r := range c.Keys {
		out[ref] = redact.NewSecretString(r.Value)
	}
	return out, c.Version, nil
}

// Entries lists what may be shown: refs, fingerprints, hints, times.
func (s *Store) Entries() ([]Entry, error) {
	c, err := s.read()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for ref, r := range c.Keys {
		out = append(out, Entry{Ref: ref, Fingerprint: redact.Fingerprint([]byte(r.Value)), Hint: redact.Hint(r.Value), UpdatedAt: r.UpdatedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// Path is the keystore file.
func (s *Store) Path() string { return s.path }

func validRef(ref string) error {
	if ref == "" || len(ref) > 128 || strings.ContainsAny(ref, " \t\r\n/\\") {
		return fmt.Errorf("keystore: key reference %q must be 1-128 characters without spaces or slashes", ref)
	}
	return nil
}
