package packs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = `schema: tourniquet.pack/v1
id: t-pack
version: 1
title: Test pack
window:
  start: 2026-03-24T10:39:24Z
windows:
  - id: W1
    start: 2026-03-24T10:39:00Z
    end: 2026-03-24T16:00:00Z
    source: test
    confidence: confirmed
packages:
  - id: bad-version
    title: Bad version
    severity: critical
    ecosystem: pypi
    name: litellm
    versions: ["1.82.7"]
    source: test
    confidence: confirmed
    window: W1
`

func TestParseMinimal(t *testing.T) {
	t.Parallel()
	p, err := Parse("t.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "t-pack" || p.RuleCount() != 1 || p.Packages[0].Line != 14 || p.Windows[0].Line != 8 {
		t.Errorf("parsed %+v (rule line %d, window line %d)", p, p.Packages[0].Line, p.Windows[0].Line)
	}
	if w, ok := p.NamedWindow("W1"); !ok || w.End == nil || w.End.Hour() != 16 {
		t.Errorf("NamedWindow(W1) = %+v, %v", w, ok)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(string) string
		want string // substring of the error, including file:line
	}{
		{"unknown top-level key", func(s string) string { return s + "extra: 1\n" }, `t.yaml:23: unknown key "extra"`},
		{"unknown rule key", func(s string) string {
			return strings.Replace(s, "    ecosystem: pypi\n", "    ecosystem: pypi\n    verion: 1\n", 1)
		}, `t.yaml:18: unknown key "verion"`},
		{"missing source", func(s string) string {
			return strings.Replace(s, "    source: test\n    confidence: confirmed\n    window", "    confidence: confirmed\n    window", 1)
		},
			`t.yaml:14: packages rule "bad-version": source is required`},
		{"bad confidence", func(s string) string {
			return strings.Replace(s, "confidence: confirmed\n    window", "confidence: sure\n    window", 1)
		},
			`t.yaml:14: packages rule "bad-version": confidence "sure"`},
		{"bad severity", func(s string) string { return strings.Replace(s, "severity: critical", "severity: dire", 1) },
			`t.yaml:14: packages rule "bad-version": severity "dire"`},
		{"undefined window", func(s string) string { return strings.Replace(s, "    window: W1", "    window: W9", 1) },
			`window "W9" is not defined`},
		{"window end before start", func(s string) string {
			return strings.Replace(s, "end: 2026-03-24T16:00:00Z", "end: 2026-03-23T16:00:00Z", 1)
		},
			`t.yaml:8: window "W1": end is before start`},
		{"wrong schema", func(s string) string { return strings.Replace(s, "tourniquet.pack/v1", "tourniquet.pack/v9", 1) },
			`t.yaml:1: schema must be "tourniquet.pack/v1"`},
		{"bad time", func(s string) string { return strings.Replace(s, "start: 2026-03-24T10:39:24Z", "start: yesterday", 1) },
			`t.yaml:6:`},
		{"syntax", func(s string) string { return s + "  - : [\n" }, `t.yaml:`},
		{"two documents", func(s string) string { return s + "---\nid: x\n" }, `more than one YAML document`},
		{"alias bomb", func(s string) string { return s + "related: &a [x]\nreferences: *a\n" }, `aliases are not allowed`},
		{"duplicate rule id", func(s string) string {
			return s + "files:\n  - id: bad-version\n    title: t\n    severity: low\n    role: trigger\n    names: [x.pth]\n    source: s\n    confidence: inferred\n"
		}, `files rule "bad-version": id is used twice`},
		{"bad sha256", func(s string) string {
			return s + "files:\n  - id: f\n    title: t\n    severity: low\n    role: trigger\n    sha256: [ABC]\n    source: s\n    confidence: inferred\n"
		}, `sha256 "ABC" is not 64 lower-case hex`},
		{"path escapes", func(s string) string {
			return s + "files:\n  - id: f\n    title: t\n    severity: low\n    role: backdoor\n    paths: [\"~/../../etc/x\"]\n    source: s\n    confidence: inferred\n"
		}, `must not contain ..`},
		{"empty", func(string) string { return "" }, `t.yaml: empty pack`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("t.yaml", []byte(tc.edit(minimal)))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadFileRefusesNonRegularAndHuge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := LoadFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadFile(dir) = %v", err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, []byte(minimal+"description: "+strings.Repeat("x", MaxPackSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var pe *Error
	if _, err := LoadFile(huge); !errors.As(err, &pe) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadFile(huge) = %v", err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(f, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	ps, err := Resolve([]string{"litellm-2026-03", f})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[0].ID != "litellm-2026-03" || ps[1].ID != "t-pack" || ps[1].Origin != f {
		t.Errorf("Resolve = %v", ps)
	}
	if _, err := Resolve([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "unknown pack") {
		t.Errorf("Resolve(nope) = %v", err)
	}
	all, err := Resolve(nil)
	if err != nil || len(all) < 3 {
		t.Errorf("Resolve(nil) = %d packs, %v", len(all), err)
	}
}

func TestVersionRange(t *testing.T) {
	t.Parallel()
	r := VersionRange{From: "0.0.1", To: "0.34.2"}
	v := VersionRange{From: "0.2.0", To: "0.2.6", Prefix: "v"}
	tests := []struct {
		r    VersionRange
		ref  string
		want bool
	}{
		{r, "0.0.1", true}, {r, "0.34.2", true}, {r, "0.20.0", true}, {r, "0.35.0", false},
		{r, "v0.20.0", false}, {r, "0.34.10", false}, {r, "master", false}, {r, "0.034.2", false},
		{v, "v0.2.0", true}, {v, "v0.2.6", true}, {v, "0.2.3", false}, {v, "v0.3.0", false},
	}
	for _, tc := range tests {
		if got := tc.r.Contains(tc.ref); got != tc.want {
			t.Errorf("%+v.Contains(%q) = %v, want %v", tc.r, tc.ref, got, tc.want)
		}
	}
}

// FuzzParse: any bytes give a pack or an error, never a panic or a hang.
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	entries, _ := builtinFS.ReadDir("builtin")
	for _, e := range entries {
		b, _ := builtinFS.ReadFile("builtin/" + e.Name())
		f.Add(b)
	}
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("\xff\xfe\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err == nil {
			if p == nil || p.Schema != SchemaV1 {
				t.Fatalf("accepted pack without schema: %+v", p)
			}
			for _, r := range p.Rules() {
				if r.Meta.Source == "" || !r.Meta.Confidence.Valid() {
					t.Fatalf("accepted rule without source/confidence: %+v", r.Meta)
				}
			}
			return
		}
		var pe *Error
		var pes Errors
		if !errors.As(err, &pe) && !errors.As(err, &pes) {
			t.Fatalf("error of unexpected type %T: %v", err, err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}
