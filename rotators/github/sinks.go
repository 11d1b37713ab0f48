package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/tourniquet-ir/tourniquet/collectors/credentials"
	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// sink is a place a new secret goes. Deliver is idempotent; Holds answers,
// after a crash, whether the new secret (by fingerprint) is there.
type sink interface {
	Describe() string
	Deliver(ctx context.Context, v redact.Secret) error
	Holds(ctx context.Context, fingerprint string) (bool, error)
}

const maxSinkFile = 1 << 20

// tokenFileSink replaces the exposed token in the file it was found in (a
// gh hosts.yml, a .env file, a .netrc...), every occurrence, keeping
// everything else byte for byte. Which parser reads the file is chosen by
// name, as in the scan.
type tokenFileSink struct {
	path, name string
	old        redact.Secret
}

func (s tokenFileSink) Describe() string {
	return "file " + s.path + " (the exposed token replaced in place)"
}

func (s tokenFileSink) Deliver(_ context.Context, v redact.Secret) error {
	err := atomicfile.Edit(s.path, func(b []byte) ([]byte, error) {
		switch {
		case !s.old.IsZero() && bytes.Contains(b, s.old.Reveal()):
			return bytes.ReplaceAll(b, s.old.Reveal(), v.Reveal()), nil
		case bytes.Contains(b, v.Reveal()):
			return b, nil // delivered before
		}
		return nil, errors.New("holds neither the exposed token nor the new one: changed since the scan")
	}, atomicfile.Options{})
	if err != nil {
		return fmt.Errorf("deliver to %s: %w", s.path, scrubErr(err))
	}
	return nil
}

func (s tokenFileSink) Holds(_ context.Context, fp string) (bool, error) {
	b, err := readBounded(s.path)
	if err != nil {
		return false, err
	}
	for _, f := range credentials.Parse(s.name, b) {
		if f.Secret.Fingerprint() == fp {
			return true, nil
		}
	}
	// Files no parser knows by name: every token-shaped word.
	for _, w := range bytes.FieldsFunc(b, func(r rune) bool {
		return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		if len(w) >= 20 && redact.Fingerprint(w) == fp {
			return true, nil
		}
	}
	return false, nil
}

// keyFileSink writes a new private key (OpenSSH format, mode 0600) over the
// file that held the old one, and its .pub beside it when one exists.
type keyFileSink struct{ path string }

func (s keyFileSink) Describe() string {
	return "private key file " + s.path + " (mode 0600; .pub updated if present)"
}

func (s keyFileSink) Deliver(_ context.Context, v redact.Secret) error {
	signer, err := ssh.ParsePrivateKey(v.Reveal())
	if err != nil {
		return errors.New("the new private key does not parse")
	}
	if err := atomicfile.Replace(s.path, v.Reveal(), 0o600, atomicfile.Options{}); err != nil {
		return fmt.Errorf("deliver to %s: %w", s.path, err)
	}
	pub := s.path + ".pub"
	if _, err := os.Lstat(pub); err == nil {
		if err := atomicfile.Replace(pub, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644, atomicfile.Options{}); err != nil {
			return fmt.Errorf("deliver to %s: %w", pub, err)
		}
	}
	return nil
}

func (s keyFileSink) Holds(_ context.Context, fp string) (bool, error) {
	b, err := readBounded(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return false, nil
	}
	return pubFingerprint(signer.PublicKey()) == fp, nil
}

// secretSink writes the new value to an Actions secret. It cannot be read
// back: the secret is delivered when its updated_at is after the one seen
// when the run planned (before).
type secretSink struct {
	p      *Provider
	rc     *rotators.RunContext
	scope  ghc.SecretScope
	name   string
	before time.Time
}

func (s secretSink) Describe() string { return "Actions secret " + s.name + " of " + s.scope.String() }

func (s secretSink) Deliver(ctx context.Context, v redact.Secret) error {
	c, err := s.p.client(s.rc)
	if err != nil {
		return err
	}
	return putSecret(ctx, c, s.scope, s.name, v)
}

func (s secretSink) Holds(ctx context.Context, _ string) (bool, error) {
	c, err := s.p.client(s.rc)
	if err != nil {
		return false, err
	}
	m, found, err := c.Secret(ctx, s.scope, s.name)
	if err != nil {
		return false, classify("read "+s.Describe(), err)
	}
	return found && m.UpdatedAt.After(s.before), nil
}

// putSecret seals v to the scope's public key and writes it; an
// organization secret keeps its visibility.
func putSecret(ctx context.Context, c *ghc.Client, scope ghc.SecretScope, name string, v redact.Secret) error {
	keyID, key, err := c.PublicKey(ctx, scope)
	if err != nil {
		return classify("seal "+name, err)
	}
	sealed, err := seal(key, v.Reveal())
	if err != nil {
		return err
	}
	visibility := ""
	if scope.Org != "" {
		if m, found, err := c.Secret(ctx, scope, name); err == nil && found {
			visibility = m.Visibility
		}
	}
	return classify("write "+name, c.PutSecret(ctx, scope, name, sealed, keyID, visibility))
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSinkFile))
}

// pubFingerprint is how runs and scans name an SSH public key: the
// fingerprint of its authorized_keys form, without comment.
func pubFingerprint(pk ssh.PublicKey) string {
	return redact.Fingerprint([]byte(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))))
}

// scrubErr keeps file contents out of error text (atomicfile never quotes
// them; this is a second guard for token-shaped text).
func scrubErr(err error) error {
	return errors.New(ghc.Scrub(err.Error()))
}

// secretSinks reads --param actions_secret=REF[,REF...]; the updated_at of
// each, before the run, is recorded by the plan step under sink_before.
func (p *Provider) secretSinks(rc *rotators.RunContext) ([]secretSink, error) {
	var out []secretSink
	for _, ref := range splitList(rc.Param("actions_secret")) {
		scope, name, err := ParseSecretRef(ref)
		if err != nil {
			return nil, err
		}
		before := time.Time{}
		if m, ok := rc.Vars["sink_before"].(map[string]any); ok {
			if s, ok := m[ref].(string); ok {
				before, _ = time.Parse(time.RFC3339Nano, s)
			}
		}
		out = append(out, secretSink{p: p, rc: rc, scope: scope, name: name, before: before})
	}
	return out, nil
}

// recordSinkBefore notes each secret sink's updated_at before any change.
func (p *Provider) recordSinkBefore(ctx context.Context, rc *rotators.RunContext, c *ghc.Client) error {
	m := map[string]any{}
	for _, ref := range splitList(rc.Param("actions_secret")) {
		scope, name, err := ParseSecretRef(ref)
		if err != nil {
			return err
		}
		if _, _, err := c.PublicKey(ctx, scope); err != nil {
			return classify("the sink "+ref+" is not writable with your token", err)
		}
		meta, found, err := c.Secret(ctx, scope, name)
		if err != nil {
			return classify("read sink "+ref, err)
		}
		t := time.Time{}
		if found {
			t = meta.UpdatedAt
		}
		m[ref] = t.UTC().Format(time.RFC3339Nano)
	}
	if len(m) > 0 {
		rc.Vars["sink_before"] = m
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// deliverAll writes v to every sink and checks each holds it.
func deliverAll(ctx context.Context, ss []sink, v redact.Secret, fp string) ([]string, error) {
	var to []string
	for _, s := range ss {
		if err := s.Deliver(ctx, v); err != nil {
			return nil, err
		}
		ok, err := s.Holds(ctx, fp)
		if err != nil {
			return nil, fmt.Errorf("read back %s: %w", s.Describe(), err)
		}
		if !ok {
			return nil, fmt.Errorf("%s does not hold the new value after delivery", s.Describe())
		}
		to = append(to, s.Describe())
	}
	return to, nil
}

// allHold reports whether every sink holds the value with fingerprint fp.
func allHold(ctx context.Context, ss []sink, fp string) (bool, []string, error) {
	var to []string
	for _, s := range ss {
		ok, err := s.Holds(ctx, fp)
		if err != nil || !ok {
			return false, nil, err
		}
		to = append(to, s.Describe())
	}
	return len(ss) > 0, to, nil
}
