package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// AWSProfile writes an access key into one profile of an AWS shared
// credentials file (~/.aws/credentials), keeping every other profile,
// comment, blank line, key order and unknown key exactly as it was.
//
// Deliver sets aws_access_key_id and aws_secret_access_key in the profile's
// section: replacing an existing value in place (the rest of its line, its
// indentation, delimiter and line ending are kept; continuation lines of the
// old value are dropped), or adding the missing key after the section's last
// key, or appending a new [Profile] section at the end of the file. It
// removes aws_session_token and aws_security_token (with their continuation
// lines) from the profile: they belong to the old key.
//
// The file is read the way botocore reads it (see awsini.go). A file that
// botocore cannot read (a repeated section or key, a line outside any
// section, invalid UTF-8...) is refused, with the line number, rather than
// repaired: the AWS CLI fails for every profile on such a file, and which of
// two repeated [x] sections the user meant is a guess.
//
// In the credentials file, sections are named [name]. botocore's credential
// provider looks the profile up by that exact name; a [profile name] section
// there is, to botocore, a different profile called "profile name" (which
// only `aws configure get --profile "profile name"` reads), and the Go and
// Rust SDKs drop it. So Deliver always writes [Profile], appending it if
// needed; and because people do write [profile name] in this file meaning
// name, any such section gets the same edit (new key, tokens removed), so that
// no copy of the old key is left in a section someone may still read.
//
// A [DEFAULT] section's keys are inherited by every profile; Deliver refuses
// a file whose [DEFAULT] holds a session token, which botocore would pair
// with the new key.
type AWSProfile struct {
	Path    string // the credentials file; no "~" expansion
	Profile string // the section name, e.g. "default"
}

// ErrProfileNotFound: Current found no [Profile] section.
var ErrProfileNotFound = errors.New("no such profile in the credentials file")

// Deliver writes keyID and secret into the profile, via atomicfile.Edit (a
// symlinked credentials file is refused). A missing file is created with mode
// 0600 and a missing directory with 0700; an existing file keeps its mode and
// owner. Delivering the same key again writes nothing.
func (s AWSProfile) Deliver(ctx context.Context, keyID string, secret redact.Secret) error {
	if err := s.deliver(ctx, keyID, secret); err != nil {
		return fmt.Errorf("deliver to aws profile %q: %w", s.Profile, err)
	}
	return nil
}

func (s AWSProfile) deliver(ctx context.Context, keyID string, secret redact.Secret) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.Path == "" {
		return errors.New("no credentials file path")
	}
	if err := checkProfileName(s.Profile); err != nil {
		return err
	}
	if err := checkKeyID(keyID); err != nil {
		return err
	}
	if err := checkSecret(secret.Reveal()); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o700); err != nil {
		return err
	}
	return atomicfile.Edit(s.Path, func(old []byte) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return setAWSKey(old, s.Profile, keyID, secret.Reveal())
	}, atomicfile.Options{})
}

// Current reads back the profile's key id and secret as botocore would
// resolve them from this file (a key missing from the section is taken from
// [DEFAULT]): for verify and resume, a run that delivered then crashed
// re-reads what it delivered.
func (s AWSProfile) Current(ctx context.Context) (keyID string, secret redact.Secret, err error) {
	keyID, secret, err = s.current(ctx)
	if err != nil {
		return "", redact.Secret{}, fmt.Errorf("read aws profile %q from %s: %w", s.Profile, s.Path, err)
	}
	return keyID, secret, nil
}

func (s AWSProfile) current(ctx context.Context) (string, redact.Secret, error) {
	if err := ctx.Err(); err != nil {
		return "", redact.Secret{}, err
	}
	if err := checkProfileName(s.Profile); err != nil {
		return "", redact.Secret{}, err
	}
	data, err := readBounded(s.Path)
	if err != nil {
		return "", redact.Secret{}, err
	}
	f, err := parseINI(data)
	if err != nil {
		return "", redact.Secret{}, err
	}
	sec := f.byName[s.Profile]
	if sec == nil {
		for _, other := range f.sections {
			if a, ok := aliasOf(other.name); ok && a == s.Profile {
				return "", redact.Secret{}, fmt.Errorf("%w (line %d has [%s], which botocore and the SDKs do not read as this profile in the credentials file)",
					ErrProfileNotFound, other.header+1, other.name)
			}
		}
		return "", redact.Secret{}, ErrProfileNotFound
	}
	var vals [2]string
	for i, key := range []string{keyAccessKeyID, keySecretAccessKey} {
		o := f.lookup(sec, key)
		if o == nil {
			return "", redact.Secret{}, &FileError{Line: sec.header + 1, Reason: "the profile has no " + key}
		}
		if vals[i] = o.value(); vals[i] == "" || strings.Contains(vals[i], "\n") {
			return "", redact.Secret{}, &FileError{Line: o.line + 1, Reason: key + " is empty or spans several lines"}
		}
	}
	return vals[0], redact.NewSecretString(vals[1]), nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, atomicfile.MaxEditSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > atomicfile.MaxEditSize {
		return nil, errors.New("larger than 4 MiB")
	}
	return b, nil
}

// checkProfileName accepts a name that round-trips as a [name] header in
// every reader: no brackets, control characters or line breaks, no outer
// whitespace, not DEFAULT, and not itself "profile x".
func checkProfileName(p string) error {
	switch {
	case p == "":
		return errors.New("profile name is empty")
	case len(p) > 256:
		return errors.New("profile name is longer than 256 bytes")
	case !utf8.ValidString(p):
		return errors.New("profile name is not valid UTF-8")
	case p == defaultSection:
		return errors.New("[DEFAULT] is not a profile: botocore's parser gives its keys to every profile")
	case pyStrip(p) != p:
		return errors.New("profile name starts or ends with whitespace")
	}
	for _, r := range p {
		if unicode.IsControl(r) || (pySpace(r) && r != ' ') || r == '[' || r == ']' || r == utf8.RuneError {
			return errors.New("profile name contains a bracket, a control character or a line break")
		}
	}
	if _, ok := aliasOf(p); ok {
		return errors.New(`profile name starts with "profile ": in the credentials file, give the bare name`)
	}
	return nil
}

// checkKeyID accepts what AWS issues as access key ids: letters and digits.
// The message never quotes the value (it might be a misplaced secret).
func checkKeyID(id string) error {
	if len(id) == 0 || len(id) > 128 {
		return errors.New("access key id must be 1 to 128 letters and digits")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) {
			return errors.New("access key id must be 1 to 128 letters and digits")
		}
	}
	return nil
}

// checkSecret accepts base64 (standard or URL) text, which AWS secret access
// keys are, and nothing that any INI reader could take for whitespace, a
// comment, a quote or a line break.
func checkSecret(b []byte) error {
	const msg = "secret access key must be 1 to 1024 characters from A-Z a-z 0-9 + / = . _ -"
	if len(b) == 0 || len(b) > 1024 {
		return errors.New(msg)
	}
	for _, c := range b {
		if !isAlnum(c) && !strings.ContainsRune("+/=._-", rune(c)) {
			return errors.New(msg)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// aliasOf returns x for a section named "profile x" (any whitespace after
// "profile"): the config file's form, which people also write in the
// credentials file.
func aliasOf(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "profile")
	if !ok {
		return "", false
	}
	r, _ := utf8.DecodeRuneInString(rest)
	if !pySpace(r) {
		return "", false
	}
	return pyStrip(rest), true
}

// lineEdits are the changes to a parsed file.
type lineEdits struct {
	repl map[int][]byte   // line index: new text
	del  map[int]bool     // line index: dropped
	ins  map[int][][]byte // line index: lines added after it
	tail [][]byte         // lines added at the end
}

// setAWSKey returns data with the profile's key set as the AWSProfile
// documentation says, or an error that quotes nothing from data or secret.
func setAWSKey(data []byte, profile, keyID string, secret []byte) ([]byte, error) {
	if err := checkProfileName(profile); err != nil {
		return nil, err
	}
	if err := checkKeyID(keyID); err != nil {
		return nil, err
	}
	if err := checkSecret(secret); err != nil {
		return nil, err
	}
	f, err := parseINI(data)
	if err != nil {
		return nil, err
	}
	if d := f.defaults; d != nil {
		for _, key := range []string{keySessionToken, keySecurityToken} {
			if o := d.byKey[key]; o != nil {
				return nil, &FileError{Line: o.line + 1, Reason: "[DEFAULT] gives every profile a " + key +
					", which botocore would pair with the new key; remove it by hand"}
			}
		}
	}
	e := lineEdits{repl: map[int][]byte{}, del: map[int]bool{}, ins: map[int][][]byte{}}
	primary := f.byName[profile]
	for _, sec := range f.sections {
		if a, ok := aliasOf(sec.name); sec == primary || ok && a == profile {
			e.setIn(f, sec, []byte(keyID), secret)
		}
	}
	if primary == nil {
		if n := len(f.lines); n > 0 && f.lines[n-1].kind != lineBlank {
			e.tail = append(e.tail, nil)
		}
		e.tail = append(e.tail,
			[]byte("["+profile+"]"),
			keyLine("", keyAccessKeyID, []byte(keyID)),
			keyLine("", keySecretAccessKey, secret))
	}
	out := e.render(f)
	if err := verifyEdit(f, out, profile, []byte(keyID), secret); err != nil {
		return nil, err
	}
	return out, nil
}

func keyLine(indent, key string, value []byte) []byte {
	return append([]byte(indent+key+" = "), value...)
}

// setIn edits one section: values replaced in place, tokens dropped,
// missing keys added after the section's last line.
func (e *lineEdits) setIn(f *iniFile, sec *iniSection, keyID, secret []byte) {
	want := map[string][]byte{keyAccessKeyID: keyID, keySecretAccessKey: secret}
	found := map[string]bool{}
	lastOpt := -1
	for _, o := range sec.options {
		lastOpt = o.line
		switch o.key {
		case keyAccessKeyID, keySecretAccessKey:
			ln := f.lines[o.line]
			text := append([]byte(nil), ln.text[:ln.valStart]...)
			if ln.valStart == ln.valEnd {
				text = append(text, ' ') // "key =" had no value
			}
			text = append(append(text, want[o.key]...), ln.text[ln.valEnd:]...)
			e.repl[o.line] = text
			found[o.key] = true
		case keySessionToken, keySecurityToken:
			e.del[o.line] = true
		default:
			continue
		}
		for _, c := range o.cont {
			e.del[c] = true
		}
	}
	// A new key line must not continue the option before it (so it is
	// indented no deeper than that option) nor swallow the line after it as
	// a continuation (so it is indented no shallower than the next header):
	// the last option's indentation satisfies both, as does, in a section
	// with no option, the next header's.
	indent := ""
	if lastOpt >= 0 {
		indent = leading(f.lines[lastOpt].text)
	} else {
		for j := sec.last + 1; j < len(f.lines); j++ {
			if k := f.lines[j].kind; k == lineSection || k == lineOption {
				indent = leading(f.lines[j].text)
				break
			}
		}
	}
	for _, key := range []string{keyAccessKeyID, keySecretAccessKey} {
		if !found[key] {
			e.ins[sec.last] = append(e.ins[sec.last], keyLine(indent, key, want[key]))
		}
	}
}

func leading(s string) string { return s[:len(s)-len(pyLstrip(s))] }

// render applies the edits. New lines take the file's first line ending;
// a last line without one gets one if lines follow it.
func (e *lineEdits) render(f *iniFile) []byte {
	eol := "\n"
	for _, ln := range f.lines {
		if ln.eol != "" {
			eol = ln.eol
			break
		}
	}
	type piece struct {
		text []byte
		eol  string
		orig bool // an untouched line of the file
	}
	var out []piece
	for i, ln := range f.lines {
		if !e.del[i] {
			text, ok := e.repl[i]
			if !ok {
				text = []byte(ln.text)
			}
			out = append(out, piece{text, ln.eol, !ok})
		}
		for _, l := range e.ins[i] {
			out = append(out, piece{l, eol, false})
		}
	}
	for _, l := range e.tail {
		out = append(out, piece{l, eol, false})
	}
	for i := range out {
		if out[i].eol == "" && i < len(out)-1 {
			out[i].eol = eol
		}
	}
	// A line ending in a lone CR followed by an empty line ending in LF
	// would read back as one CRLF and the empty line would vanish. Make one
	// of them CRLF, the new or edited one where there is a choice.
	for i := 0; i+1 < len(out); i++ {
		p, q := &out[i], &out[i+1]
		if p.eol != "\r" || len(q.text) != 0 || q.eol != "\n" {
			continue
		}
		if p.orig {
			q.eol = "\r\n"
		} else {
			p.eol = "\r\n"
		}
	}
	var b bytes.Buffer
	for _, p := range out {
		b.Write(p.text)
		b.WriteString(p.eol)
	}
	return b.Bytes()
}

// verifyEdit re-reads the edited file and checks that the profile (and its
// [profile x] aliases) hold exactly the new key and no token, and that every
// other section and key reads as before. It guards the file against a bug
// in the line editing: nothing is written unless it passes.
func verifyEdit(before *iniFile, out []byte, profile string, keyID, secret []byte) error {
	fail := &FileError{Reason: "internal error: the edited file would not read back as intended; nothing written"}
	after, err := parseINI(out)
	if err != nil {
		return fail
	}
	isTarget := func(name string) bool {
		a, ok := aliasOf(name)
		return name == profile || ok && a == profile
	}
	wantSections := len(before.sections)
	if before.byName[profile] == nil {
		wantSections++
	}
	if len(after.sections) != wantSections || after.byName[profile] == nil || !sameOptions(before.defaults, after.defaults) {
		return fail
	}
	for _, sec := range after.sections {
		old := before.byName[sec.name]
		if !isTarget(sec.name) {
			if !sameOptions(old, sec) {
				return fail
			}
			continue
		}
		var kept []*iniOption
		for _, o := range sec.options {
			switch o.key {
			case keyAccessKeyID:
				if o.value() != string(keyID) {
					return fail
				}
			case keySecretAccessKey:
				if !bytes.Equal([]byte(o.value()), secret) {
					return fail
				}
			case keySessionToken, keySecurityToken:
				return fail
			default:
				kept = append(kept, o)
			}
		}
		if sec.byKey[keyAccessKeyID] == nil || sec.byKey[keySecretAccessKey] == nil {
			return fail
		}
		var oldKept []*iniOption
		if old != nil {
			for _, o := range old.options {
				switch o.key {
				case keyAccessKeyID, keySecretAccessKey, keySessionToken, keySecurityToken:
				default:
					oldKept = append(oldKept, o)
				}
			}
		}
		if !sameOptionList(oldKept, kept) {
			return fail
		}
	}
	return nil
}

func sameOptions(a, b *iniSection) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameOptionList(a.options, b.options)
}

func sameOptionList(a, b []*iniOption) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].key != b[i].key || a[i].value() != b[i].value() {
			return false
		}
	}
	return true
}
