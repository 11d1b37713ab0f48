package collectors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

// Bounds of a scan bundle: it comes from another machine, maybe a
// compromised one, and is read as hostile input.
const (
	// MaxBundleSize bounds one bundle file (a host with 100k findings prints
	// ~60 MB).
	MaxBundleSize = 256 << 20
	// MaxBundleItems bounds the findings, credentials or nodes of one scan.
	MaxBundleItems = 1_000_000
)

// ErrBundle marks input that is not a scan bundle, or a malformed one.
var ErrBundle = errors.New("not a valid scan bundle")

var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{16}$`)

// DecodeBundles reads the scans in r: one `scan --json` document, or several
// concatenated (a collection of many hosts' output). It reads at most
// MaxBundleSize bytes, checks every scan against the tourniquet.scan/v1
// contract and escapes every text that could reach a terminal. Either every
// scan in r is returned, or an error naming the first bad one.
func DecodeBundles(r io.Reader) ([]*Result, error) {
	lr := &io.LimitedReader{R: r, N: MaxBundleSize + 1}
	dec := json.NewDecoder(lr)
	var out []*Result
	for i := 1; ; i++ {
		var res Result
		err := dec.Decode(&res)
		if errors.Is(err, io.EOF) {
			break
		}
		if lr.N <= 0 {
			return nil, fmt.Errorf("%w: larger than %d bytes", ErrBundle, MaxBundleSize)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: document %d: %s", ErrBundle, i, jsonError(err))
		}
		if err := res.validate(); err != nil {
			return nil, fmt.Errorf("%w: document %d: %s", ErrBundle, i, err)
		}
		res.clean()
		out = append(out, &res)
	}
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBundle, MaxBundleSize)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no scan in it (expected the output of `tourniquet scan --json`)", ErrBundle)
	}
	return out, nil
}

// jsonError keeps a decoder error short and free of the input's bytes.
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s has the wrong type (%s)", sanitize.Truncate(te.Field, 80), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	}
	return sanitize.Truncate(err.Error(), 200)
}

var verdicts = map[string]bool{"compromised": true, "was_compromised": true, "clean": true, "unknown": true}
var severities = map[string]bool{"critical": true, "high": true, "medium": true, "low": true, "info": true}
var exposures = map[string]bool{"": true, "exposed": true, "not_exposed": true, "unknown": true}

func textOK(field, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", field)
	case len(s) > max:
		return fmt.Errorf("%s is longer than %d bytes", field, max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not UTF-8", field)
	}
	return nil
}

type field struct {
	name, v string
	max     int
}

func textsOK(prefix string, fs ...field) error {
	for _, f := range fs {
		if err := textOK(prefix+"."+f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// validate checks the contract the store relies on.
func (r *Result) validate() error {
	if r.Schema != ScanSchema {
		return fmt.Errorf("schema %q, want %q", sanitize.Truncate(r.Schema, 60), ScanSchema)
	}
	switch r.Host.Kind {
	case "", "host", "cluster", "ci":
	default:
		return fmt.Errorf("host.kind %q is not host, cluster or ci", sanitize.Truncate(r.Host.Kind, 40))
	}
	if err := textOK("host.name", r.Host.Name, 512); err != nil {
		return err
	}
	if err := textOK("host.root", r.Host.Root, 4096); err != nil {
		return err
	}
	if r.Host.ScannedAt.IsZero() {
		return errors.New("host.scanned_at is missing")
	}
	if !verdicts[r.Verdict] {
		return fmt.Errorf("verdict %q is not compromised, was_compromised, clean or unknown", sanitize.Truncate(r.Verdict, 40))
	}
	w := r.Window
	if w.Start != nil && w.End != nil && w.End.Before(*w.Start) {
		return errors.New("window ends before it starts")
	}
	if w.Open && w.End != nil {
		return errors.New("window is open and has an end")
	}
	if len(r.Findings) > MaxBundleItems || len(r.Credentials) > MaxBundleItems || len(r.Nodes) > MaxBundleItems {
		return fmt.Errorf("more than %d findings, credentials or nodes", MaxBundleItems)
	}
	for i, f := range r.Findings {
		if err := textsOK(fmt.Sprintf("findings[%d]", i), field{"id", f.ID, 128}, field{"pack", f.Pack, 200},
			field{"rule", f.Rule, 200}, field{"path", f.Path, 8192}); err != nil {
			return err
		}
		if !severities[f.Severity] {
			return fmt.Errorf("findings[%d].severity %q is not critical, high, medium, low or info", i, sanitize.Truncate(f.Severity, 40))
		}
	}
	for i, c := range r.Credentials {
		if err := textsOK(fmt.Sprintf("credentials[%d]", i), field{"id", c.ID, 128}, field{"kind", c.Kind, 100},
			field{"path", c.Path, 8192}); err != nil {
			return err
		}
		if !fingerprintRE.MatchString(c.Fingerprint) {
			return fmt.Errorf("credentials[%d].fingerprint is not sha256: and 16 hex digits", i)
		}
		if !exposures[c.Exposure] {
			return fmt.Errorf("credentials[%d].exposure %q is not exposed, not_exposed or unknown", i, sanitize.Truncate(c.Exposure, 40))
		}
	}
	for i, n := range r.Nodes {
		if err := textOK(fmt.Sprintf("nodes[%d].name", i), n.Name, 512); err != nil {
			return err
		}
		if !verdicts[n.Verdict] {
			return fmt.Errorf("nodes[%d].verdict %q is not a verdict", i, sanitize.Truncate(n.Verdict, 40))
		}
	}
	return nil
}

// clean escapes every text a terminal could misread and bounds free text.
// It leaves text a scan already escaped as it is, so that importing the
// output of a scan recorded here changes nothing.
func (r *Result) clean() {
	c := func(s *string, max int) {
		v := sanitize.Display(*s)
		if utf8.RuneCountInString(v) > max {
			v = string([]rune(v)[:max-1]) + "…"
		}
		*s = v
	}
	c(&r.Host.Name, 512)
	c(&r.Host.Root, 4096)
	for i := range r.Packs {
		c(&r.Packs[i], 200)
	}
	for i := range r.Window.Basis {
		c(&r.Window.Basis[i], 1000)
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		c(&f.ID, 128)
		c(&f.Pack, 200)
		c(&f.Rule, 200)
		c(&f.Path, 8192)
		c(&f.Detail, 2000)
		c(&f.Excerpt, 2000)
		c(&f.Confidence, 40)
		if f.SHA256 != "" && !isHex(f.SHA256, 64) {
			f.SHA256 = ""
		}
	}
	for i := range r.Credentials {
		cr := &r.Credentials[i]
		c(&cr.ID, 128)
		c(&cr.Kind, 100)
		c(&cr.Path, 8192)
		c(&cr.Hint, 200)
		c(&cr.Reason, 1000)
		c(&cr.Owner, 300)
		c(&cr.Detail, 1000)
		c(&cr.Note, 1000)
	}
	for i := range r.Nodes {
		c(&r.Nodes[i].Name, 512)
		for j := range r.Nodes[i].Basis {
			c(&r.Nodes[i].Basis[j], 500)
		}
	}
	for i := range r.Errors {
		c(&r.Errors[i], 1000)
	}
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}
