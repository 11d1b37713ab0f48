// Package credentials finds secrets in the contents of files: cloud and
// provider keys, SSH and TLS private keys, tokens in tool configuration, and
// passwords in database and service configuration. These are the files the
// March 2026 litellm payload harvested.
//
// Everything here is a pure function of a path and bytes: the caller walks the
// filesystem (never following symlinks, reading at most 1 MiB a file), decides
// which files to read with Wanted, and hands their contents to Parse. Any input
// gives results or nothing, never a panic; parsing is linear in the input (no
// backtracking regular expressions) and at most MaxFound results come from one
// file.
//
// A Found carries the secret in a redact.Secret and nowhere else: Detail,
// Note, Owner and Hint are built from names and public identifiers, and a
// final check blanks any of them that shares eight or more bytes with the
// secret.
package credentials

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// MaxFound bounds the results from one file. A file holding more is hostile
// or generated; the first MaxFound are reported.
const MaxFound = 1000

// Found is one secret in one file.
type Found struct {
	Kind   string        // credential kind, one of Kinds
	Secret redact.Secret // the value; the caller fingerprints it and then drops it. Never zero.
	Hint   string        // non-secret label; empty means the caller uses redact.Hint(value)
	Owner  string        // provider identity when the file names it, else ""
	Detail string        // where in the file, never the value
	Note   string        // what else is known about it, never the value
	// KeyID is the provider's identifier of the secret when the file holds it
	// (an AWS access key ID): not secret, but never stored either; a rotation
	// uses it, in memory, to act on the key.
	KeyID string
}

// Parse extracts every secret from data; path selects the format (the same
// rules as Wanted). Unknown formats are sniffed (a GCP key, a Docker config, a
// kubeconfig or a LiteLLM config in a file of any name) and otherwise fall
// back to ScanText. Structured formats are also scanned as text, so that a
// provider key in a comment or an unexpected field is not missed; one Found
// is reported per distinct secret value, the structured one first.
func Parse(path string, data []byte) []Found {
	if len(data) == 0 {
		return nil
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a UTF-8 byte order mark
	r := newResults()
	f := formatOf(path)
	parsers[f](r, path, data)
	return r.done()
}

// ScanText finds provider keys, private key blocks and URL passwords in free
// text. A bare key is typed by its format; Detail gives its line.
func ScanText(data []byte) []Found {
	if len(data) == 0 {
		return nil
	}
	r := newResults()
	scanText(r, data, scanOpts{})
	return r.done()
}

// results collects Founds for one file: distinct values only, at most
// MaxFound, every text field checked against the secret.
type results struct {
	out  []Found
	seen map[string]struct{}
}

func newResults() *results { return &results{} }

func (r *results) full() bool { return len(r.out) >= MaxFound }

// add records f with the secret value v (trimmed of surrounding space). It
// returns false once the file's results are full, so that loops can stop.
func (r *results) add(f Found, v string) bool {
	if r.full() {
		return false
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	if r.seen == nil {
		r.seen = make(map[string]struct{})
	}
	if _, dup := r.seen[v]; dup {
		return true
	}
	r.seen[v] = struct{}{}
	f.Secret = redact.NewSecretString(v)
	f.Detail = clean(f.Detail)
	f.Owner = clean(f.Owner)
	f.Note = clean(f.Note)
	f.Hint = clean(f.Hint)
	scrub(&f, v)
	r.out = append(r.out, f)
	return !r.full()
}

// claim marks v as accounted for without reporting it: an access key id
// whose secret was reported must not come back alone from the text scan.
func (r *results) claim(v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	if r.seen == nil {
		r.seen = make(map[string]struct{})
	}
	r.seen[v] = struct{}{}
}

func (r *results) has(v string) bool {
	_, ok := r.seen[strings.TrimSpace(v)]
	return ok
}

func (r *results) done() []Found {
	if len(r.out) == 0 {
		return nil
	}
	return r.out
}

// withheld replaces a Detail that would reveal part of the secret.
const withheld = "(withheld: overlaps the secret)"

// scrub blanks Owner and Note, and replaces Detail, when they share eight or
// more consecutive bytes with the secret (or contain a short secret whole).
// Owners and Details come from names in a hostile file; a file may name a
// user after its password. Hint is built here from public parts only (a key
// id, a public key's fingerprint) and is not touched.
func scrub(f *Found, secret string) {
	fields := [...]*string{&f.Detail, &f.Owner, &f.Note}
	if len(secret) < gram {
		if len(secret) < 4 {
			return
		}
		for i, p := range fields {
			if strings.Contains(*p, secret) {
				blank(i, p)
			}
		}
		// A hint shows four characters of a public identifier; a secret
		// that short could be them.
		if strings.Contains(f.Hint, secret) {
			f.Hint = ""
		}
		return
	}
	grams := make(map[uint64]uint8)
	for i, p := range fields {
		s := *p
		for j := 0; j+gram <= len(s); j++ {
			grams[load8(s[j:])] |= 1 << i
		}
	}
	if len(grams) == 0 {
		return
	}
	var hit uint8
	for j := 0; j+gram <= len(secret); j++ {
		hit |= grams[load8(secret[j:])]
		if hit == 7 {
			break
		}
	}
	for i, p := range fields {
		if hit&(1<<i) != 0 {
			blank(i, p)
		}
	}
}

const gram = 8

func blank(i int, p *string) {
	if i == 0 {
		*p = withheld
	} else {
		*p = ""
	}
}

func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// maxText bounds a name copied from a file into Detail or Owner.
const maxText = 160

// clean makes a name taken from a file fit for Detail and Owner: at most
// maxText bytes, with control, invalid and invisible formatting characters
// replaced by '?'. It never adds characters, so a later terminal sanitizer
// sees the same text.
func clean(s string) string {
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1,
			r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0,
			unicode.Is(unicode.Cf, r), r == 0x2028, r == 0x2029:
			b.WriteByte('?')
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
