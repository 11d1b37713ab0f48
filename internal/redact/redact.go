// Package redact holds the one type that may carry a secret value through the
// program, and the helpers that turn a value into what may be stored or shown:
// a fingerprint and a hint. Nothing else in Tourniquet keeps a secret.
package redact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Redacted is what every rendering of a Secret prints.
const Redacted = "[REDACTED]"

// Secret carries a secret value in memory. Every way Go can render it
// (fmt verbs, JSON, text, slog) prints Redacted; only Reveal gives the value.
type Secret struct {
	v []byte
}

// NewSecret copies b so that the caller may wipe its own buffer.
func NewSecret(b []byte) Secret {
	return Secret{v: append([]byte(nil), b...)}
}

// NewSecretString wraps s.
func NewSecretString(s string) Secret { return Secret{v: []byte(s)} }

// Reveal returns the value. Call it only at the boundary that needs the bytes
// (a provider request, a sink write), never to build a message.
func (s Secret) Reveal() []byte { return s.v }

// IsZero reports whether the secret holds no value.
func (s Secret) IsZero() bool { return len(s.v) == 0 }

// Wipe overwrites the value in place. Copies made by Reveal callers are theirs.
func (s *Secret) Wipe() {
	for i := range s.v {
		s.v[i] = 0
	}
	s.v = nil
}

// Fingerprint of the value; see Fingerprint.
func (s Secret) Fingerprint() string { return Fingerprint(s.v) }

// Hint of the value; see Hint.
func (s Secret) Hint() string { return Hint(string(s.v)) }

func (Secret) String() string   { return Redacted }
func (Secret) GoString() string { return Redacted }

// Format makes every verb (%v %+v %#v %s %q %x %d ...) print Redacted.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
func (Secret) LogValue() slog.Value         { return slog.StringValue(Redacted) }

var (
	_ fmt.Stringer   = Secret{}
	_ fmt.Formatter  = Secret{}
	_ fmt.GoStringer = Secret{}
	_ slog.LogValuer = Secret{}
)

// Fingerprint returns "sha256:" and the first 16 hex digits of the value's
// SHA-256: enough to match the same secret across hosts and runs, far too
// little to brute-force a high-entropy key from.
func Fingerprint(value []byte) string {
	sum := sha256.Sum256(value)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// knownPrefixes are public, format-defining prefixes of provider keys, longest
// first so that "sk-proj-" wins over "sk-". Showing them says what the key is
// without saying anything secret.
var knownPrefixes = []string{
	"sk-ant-admin01-", "sk-ant-api03-", "sk-ant-",
	"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-or-v1-", "sk-",
	"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
	"glpat-", "xoxb-", "xoxp-", "xoxa-", "xoxs-", "xapp-",
	"AKIA", "ASIA", "AIza", "npm_", "pypi-", "hf_", "gsk_", "dop_v1_", "hvs.", "tqv-",
}

// minTail is the shortest value for which the last four characters are shown.
// Below it, four characters are too large a share of the secret.
const minTail = 16

// Hint returns a human-recognisable, non-secret label: the key's public
// prefix, an ellipsis and its last four characters ("AKIA…WXYZ",
// "sk-proj-…abcd"). Short or unknown values give less.
func Hint(value string) string {
	value = strings.TrimSpace(value)
	if value == "" {
		return "…"
	}
	if !utf8.ValidString(value) {
		return "…"
	}
	prefix := ""
	for _, p := range knownPrefixes {
		if strings.HasPrefix(value, p) {
			prefix = p
			break
		}
	}
	rest := value[len(prefix):]
	if utf8.RuneCountInString(rest) < minTail {
		return prefix + "…"
	}
	r := []rune(rest)
	tail := string(r[len(r)-4:])
	if !printableASCII(tail) {
		return prefix + "…"
	}
	return prefix + "…" + tail
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
