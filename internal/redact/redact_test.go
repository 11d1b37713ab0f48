package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const planted = "sk-proj-PLANTEDsecretVALUE0123456789abcd"

func TestSecretNeverRenders(t *testing.T) {
	t.Parallel()
	s := NewSecretString(planted)
	type wrapper struct {
		Name string
		Key  Secret
		Ptr  *Secret
	}
	w := wrapper{Name: "x", Key: s, Ptr: &s}

	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, w), fmt.Sprintf(verb, &s))
	}
	outs = append(outs, s.String(), fmt.Sprint(s), fmt.Sprintln(w))
	j, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	m, err := json.Marshal(map[string]any{"k": s, "p": &s, "l": []Secret{s}})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(m))

	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&buf, nil), slog.NewTextHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("rotating", "key", s, "wrapped", w, slog.Any("any", s))
	}
	outs = append(outs, buf.String())

	for _, o := range outs {
		if strings.Contains(o, "PLANTED") || strings.Contains(o, "0123456789") {
			t.Errorf("secret leaked: %q", o)
		}
	}
	if !strings.Contains(buf.String(), Redacted) {
		t.Errorf("slog output lacks %s: %s", Redacted, buf.String())
	}
	if got := string(s.Reveal()); got != planted {
		t.Errorf("Reveal = %q", got)
	}
}

func TestWipe(t *testing.T) {
	t.Parallel()
	b := []byte("AKIAIOSFODNN7EXAMPLE")
	s := NewSecret(b)
	inner := s.Reveal()
	s.Wipe()
	if !s.IsZero() {
		t.Error("wiped secret not zero")
	}
	for _, c := range inner {
		if c != 0 {
			t.Fatalf("buffer not wiped: %q", inner)
		}
	}
	if string(b) != "AKIAIOSFODNN7EXAMPLE" {
		t.Error("NewSecret did not copy the caller's buffer")
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	// sha256("abc") = ba7816bf8f01cfea414140de5dae2223...
	if got, want := Fingerprint([]byte("abc")), "sha256:ba7816bf8f01cfea"; got != want {
		t.Errorf("Fingerprint(abc) = %q, want %q", got, want)
	}
	if Fingerprint([]byte("a")) == Fingerprint([]byte("b")) {
		t.Error("distinct values share a fingerprint")
	}
}

func TestHint(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"AKIAIOSFODNN7EXAMPLE", "AKIA…MPLE"},
		{"ASIAY34FZKBOKMUTVV7A", "ASIA…VV7A"},
		{"sk-proj-abcdefghijklmnopqrstuvwxyzabcd", "sk-proj-…abcd"},
		{"sk-ant-api03-" + strings.Repeat("x", 80) + "WXYZ", "sk-ant-api03-…WXYZ"},
		{"ghp_" + strings.Repeat("A", 32) + "1234", "ghp_…1234"},
		{"github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_…mnop"},
		{"AIzaSyA-1234567890abcdefghijklmnopqrs", "AIza…pqrs"},
		{"short", "…"},       // too short to show anything
		{"sk-short", "sk-…"}, // prefix only
		{"", "…"},            // empty
		{"  AKIAIOSFODNN7EXAMPLE\n", "AKIA…MPLE"},
		{"plainpassword-but-long-enough-9876", "…9876"},
		{"\xff\xfe not utf8 at all secret value", "…"},
		{"long-secret-ending-in-escape\x1b[2J", "…"},
	}
	for _, tc := range tests {
		if got := Hint(tc.in); got != tc.want {
			t.Errorf("Hint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzHint(f *testing.F) {
	f.Add("AKIAIOSFODNN7EXAMPLE")
	f.Add("sk-proj-\x00\x01\x02aaaaaaaaaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, s string) {
		h := Hint(s)
		if len(h) > len("sk-ant-admin01-")+len("…")+16 {
			t.Fatalf("hint too long: %q", h)
		}
		for _, r := range h {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in hint %q", h)
			}
		}
	})
}
