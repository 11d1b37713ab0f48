package postmortem

import "testing"

func TestMarkdownEscaping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, text, code string }{
		{"web-01", `web-01`, "`web-01`"},
		{"# heading", `\# heading`, "`# heading`"},
		{"[x](https://e.example)", `\[x\](https\://e.example)`, "`[x](https://e.example)`"},
		{"<img src=x>", `\<img src\=x\>`, "`<img src=x>`"},
		{"a|b", `a\|b`, "`a\\|b`"},
		{"www.evil.example", `www\.evil.example`, "`www.evil.example`"},
		{"me@evil.example", `me\@evil.example`, "`me@evil.example`"},
		{"two\nlines", `two\\nlines`, "`two\\nlines`"},
		{"esc\x1b[31m", `esc\\x1b\[31m`, "`esc\\x1b[31m`"},
		{"rlo\u202etxt", `rlo\\u202etxt`, "`rlo\\u202etxt`"},
		{"- item", `\- item`, "`- item`"},
		{"12. item", `12\. item`, "`12. item`"},
		{"    code", `&#32;&#32;&#32;&#32;code`, "`     code `"}, // CommonMark strips one space each side
		{"`tick`", "\\`tick\\`", "`` `tick` ``"},
		{"a``b", "a\\`\\`b", "```a``b```"},
		{"&amp;", `\&amp;`, "`&amp;`"},
		{"", "", ""},
	} {
		if got := mdText(tc.in); got != tc.text {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := mdCode(tc.in); got != tc.code {
			t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.code)
		}
	}
}

func TestSafeURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://docs.litellm.ai/blog/x":     "https://docs.litellm.ai/blog/x",
		"javascript:alert(1)":                "",
		"https://e.example/a b":              "",
		"https://e.example/>x":               "",
		"ftp://e.example/":                   "",
		"https://e.example/\u202e":           "",
		"http://e.example/path?q=1&r=2#frag": "http://e.example/path?q=1&r=2#frag",
	} {
		if got := safeURL(in); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
	}
}
