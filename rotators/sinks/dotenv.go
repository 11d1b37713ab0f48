package sinks

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// Dotenv replaces a secret in a .env file (KEY=VALUE lines, optional
// "export", single, double or back quotes, # comments), the way the
// credential collector reads it. Only the bytes of the old value change:
// every other line, comment, blank, quote, "export", spacing, order and line
// ending is kept byte for byte.
//
// Replace matches by the old value's fingerprint, never by name alone: an
// assignment of Var that holds something else (edited since the scan) is
// refused rather than clobbered, and every other assignment in the file that
// holds the exposed value (two names for one key) is replaced too, so that no
// copy of it is left behind. The edit goes through atomicfile.Edit: a
// symlinked file is refused, the mode and owner are kept, and a concurrent
// change is detected.
type Dotenv struct {
	Path string // the .env file; no "~" expansion
	Var  string // the variable named by the credential's Detail
}

// Errors of the .env sink. They are wrapped with the path and variable.
var (
	// ErrVarNotFound: no assignment of Var could be read in the file.
	ErrVarNotFound = errors.New("the variable is not assigned in the file")
	// ErrValueChanged: Var holds neither the exposed value nor the new one.
	ErrValueChanged = errors.New("the variable no longer holds the exposed value (edited since the scan?); nothing written")
	// ErrUnsafeValue: the new value has characters that would need quoting
	// or escaping (blanks, quotes, $, #, backslash, control bytes).
	ErrUnsafeValue = errors.New("the new value has characters a .env file cannot hold unquoted (blanks, quotes, $, #, backslash or control bytes)")
)

// maxDotenvValue bounds one value (a private key fits; a runaway quote does
// not swallow the file), as in the collector.
const maxDotenvValue = 64 << 10

// Replace writes newVal in place of every value whose fingerprint is oldFP,
// provided Var is one of them (or already holds newVal). It returns the names
// of the variables changed; nothing is written when they already hold newVal.
func (d Dotenv) Replace(ctx context.Context, oldFP string, newVal redact.Secret) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d.Path == "" || d.Var == "" {
		return nil, errors.New("dotenv sink: a path and a variable name are required")
	}
	var changed []string
	err := atomicfile.Edit(d.Path, func(old []byte) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if old == nil {
			return nil, fmt.Errorf("%w (the file does not exist)", ErrVarNotFound)
		}
		out, names, err := EditDotenv(old, d.Var, oldFP, newVal.Reveal())
		changed = names
		return out, err
	}, atomicfile.Options{})
	if err != nil {
		return nil, fmt.Errorf("deliver to %s in %s: %w", d.Var, d.Path, err)
	}
	return changed, nil
}

// Current returns the value the file gives Var (its last assignment, as
// dotenv loaders read it): for read-back after delivery and for resume.
func (d Dotenv) Current(ctx context.Context) (redact.Secret, error) {
	if err := ctx.Err(); err != nil {
		return redact.Secret{}, err
	}
	data, err := readBounded(d.Path)
	if err != nil {
		return redact.Secret{}, fmt.Errorf("read %s from %s: %w", d.Var, d.Path, err)
	}
	var last *dotenvAssign
	as := parseDotenvAssigns(data)
	for i := range as {
		if as[i].name == d.Var {
			last = &as[i]
		}
	}
	if last == nil {
		return redact.Secret{}, fmt.Errorf("read %s from %s: %w", d.Var, d.Path, ErrVarNotFound)
	}
	return redact.NewSecretString(last.value), nil
}

// Describe names the sink for plans and results.
func (d Dotenv) Describe() string { return d.Var + " in " + d.Path }

// EditDotenv is Replace's pure core: data with every value whose fingerprint
// is oldFP replaced by newVal. name must be assigned the old value or newVal.
// It never quotes a value in an error.
func EditDotenv(data []byte, name, oldFP string, newVal []byte) ([]byte, []string, error) {
	if !safeDotenvValue(newVal) {
		return nil, nil, ErrUnsafeValue
	}
	as := parseDotenvAssigns(data)
	holdsNew, holdsOld, seen := false, false, false
	for _, a := range as {
		if a.name != name {
			continue
		}
		seen = true
		switch {
		case a.value == string(newVal):
			holdsNew = true
		case a.value != "" && redact.Fingerprint([]byte(a.value)) == oldFP:
			holdsOld = true
		}
	}
	switch {
	case !seen:
		return nil, nil, ErrVarNotFound
	case !holdsOld && !holdsNew:
		return nil, nil, ErrValueChanged
	}
	var out bytes.Buffer
	out.Grow(len(data) + len(newVal))
	var names []string
	at := 0
	for _, a := range as {
		if a.value == "" || a.value == string(newVal) || redact.Fingerprint([]byte(a.value)) != oldFP {
			continue
		}
		out.Write(data[at:a.start])
		out.Write(newVal)
		at = a.end
		if !contains(names, a.name) {
			names = append(names, a.name)
		}
	}
	out.Write(data[at:])
	return out.Bytes(), names, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// safeDotenvValue accepts what every dotenv dialect reads back unchanged,
// quoted or not: printable ASCII without blanks, quotes, $, #, backslash.
func safeDotenvValue(v []byte) bool {
	if len(v) == 0 || len(v) > 4096 {
		return false
	}
	for _, c := range v {
		if c < 0x21 || c > 0x7e {
			return false
		}
		switch c {
		case '"', '\'', '`', '$', '#', '\\':
			return false
		}
	}
	return true
}

// dotenvAssign is one NAME=value of a file: the value's span in the raw bytes
// (inside the quotes when quoted) and its text as a loader reads it.
type dotenvAssign struct {
	name       string
	start, end int
	value      string
}

// parseDotenvAssigns reads assignments as collectors/credentials does:
// blank and # lines skipped, an optional "export", NAME, blanks, "=",
// blanks, then a quoted value (double quotes take backslash escapes and may
// span lines; an unterminated quote makes the line unreadable) or the rest of
// the line up to a " #" comment, trimmed.
func parseDotenvAssigns(data []byte) []dotenvAssign {
	var out []dotenvAssign
	pos := 0
	n := len(data)
	blank := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }
	skipBlanks := func() {
		for pos < n && blank(data[pos]) {
			pos++
		}
	}
	skipLine := func() {
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			pos += i + 1
		} else {
			pos = n
		}
	}
	for pos < n {
		skipBlanks()
		if pos >= n {
			break
		}
		if data[pos] == '#' || data[pos] == '\n' {
			skipLine()
			continue
		}
		if bytes.HasPrefix(data[pos:], []byte("export")) && pos+6 < n && (data[pos+6] == ' ' || data[pos+6] == '\t') {
			pos += 6
			skipBlanks()
		}
		s := pos
		for pos < n && pos-s <= 256 {
			c := data[pos]
			if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || pos > s && (c >= '0' && c <= '9' || c == '.' || c == '-') {
				pos++
				continue
			}
			break
		}
		if pos == s || pos-s > 256 {
			pos = s
			skipLine()
			continue
		}
		name := string(data[s:pos])
		skipBlanks()
		if pos >= n || data[pos] != '=' {
			skipLine()
			continue
		}
		pos++
		skipBlanks()
		if pos < n && (data[pos] == '"' || data[pos] == '\'' || data[pos] == '`') {
			q := data[pos]
			vs := pos + 1
			limit := min(n, vs+maxDotenvValue)
			ve := -1
			for i := vs; i < limit; i++ {
				if data[i] == '\\' && q == '"' {
					i++
					continue
				}
				if data[i] == q {
					ve = i
					break
				}
			}
			if ve < 0 {
				skipLine()
				continue
			}
			v := string(data[vs:ve])
			if q == '"' {
				v = unescapeDotenvDouble(v)
			}
			out = append(out, dotenvAssign{name: name, start: vs, end: ve, value: v})
			pos = ve + 1
			skipLine()
			continue
		}
		ls := pos
		le := n
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			le = pos + i
		}
		end := le
		if end > ls && data[end-1] == '\r' {
			end--
		}
		for i := ls + 1; i < end; i++ {
			if data[i] == '#' && (data[i-1] == ' ' || data[i-1] == '\t') {
				end = i
				break
			}
		}
		vs, ve := ls, end
		for vs < ve && (data[vs] == ' ' || data[vs] == '\t') {
			vs++
		}
		for ve > vs && (data[ve-1] == ' ' || data[ve-1] == '\t' || data[ve-1] == '\r') {
			ve--
		}
		out = append(out, dotenvAssign{name: name, start: vs, end: ve, value: string(data[vs:ve])})
		pos = le
		skipLine()
	}
	return out
}

func unescapeDotenvDouble(s string) string {
	if !bytes.ContainsRune([]byte(s), '\\') {
		return s
	}
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\', '$', '`':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
