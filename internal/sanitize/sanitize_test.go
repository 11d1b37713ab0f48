package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/home/dev/.config/sysmon/sysmon.py", "/home/dev/.config/sysmon/sysmon.py"},
		{"naïve-日本語.pth", "naïve-日本語.pth"},
		{"evil\x1b[2J\x1b]0;pwned\x07.pth", `evil\x1b[2J\x1b]0;pwned\x07.pth`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"line\nbreak\rret\ttab", `line\nbreak\rret\ttab`},
		{"rlo\u202etxt.exe", `rlo\u202etxt.exe`},
		{"zw\u200bsp", `zw\u200bsp`},
		{`a\x1b`, `a\\x1b`}, // a literal backslash cannot forge an escape
		{"del\x7f", `del\x7f`},
	}
	for _, tc := range tests {
		if got := Terminal(tc.in); got != tc.want {
			t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	if got := Truncate(strings.Repeat("a", 100), 10); got != "aaaaaaaaa…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Errorf("Truncate(short) = %q", got)
	}
}

func FuzzTerminal(f *testing.F) {
	f.Add("\x1b[31mred\x1b[0m")
	f.Add("\u202e\xff\u009b")
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unsafeFormat(r) {
				t.Fatalf("unsafe rune %U survives in %q", r, out)
			}
		}
		if Terminal(out) != out && isPlain(s) {
			t.Fatalf("plain input changed: %q", s)
		}
	})
}

func TestDisplayIsIdempotentOnEscaped(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"evil\x1b[2J.pth", `a\x1b`, "bad\xffname", "rlo\u202e", "plain/path"} {
		once := Terminal(in)
		if got := Display(once); got != once {
			t.Errorf("Display(Terminal(%q)) = %q, want %q unchanged", in, got, once)
		}
		if d := Display(in); strings.ContainsAny(d, "\x1b\x07\u202e") {
			t.Errorf("Display(%q) = %q keeps a control character", in, d)
		}
	}
}

func FuzzDisplay(f *testing.F) {
	f.Add("\x1b]0;title\x07")
	f.Fuzz(func(t *testing.T, s string) {
		out := Display(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unsafeFormat(r) {
				t.Fatalf("unsafe rune %U in %q", r, out)
			}
		}
		if Display(out) != out {
			t.Fatalf("not idempotent: %q", s)
		}
	})
}
