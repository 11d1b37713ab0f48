package postmortem_test

import (
	"bufio"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
)

// The same incident is generated twice: with plain names, and with every
// host name, path, owner, approver, route and error carrying Markdown, HTML,
// terminal and bidi metacharacters (postmortemtest.HostileNames). A hostile
// name that created any structure would show up as a difference between
// the two renderings' structure.

// mdStructure is a line's Markdown structure: how it starts (heading,
// list, quote, table row) and the metacharacters that are active in it
// (not backslash-escaped, not inside a code span), including unescaped
// pipes inside code spans, which GFM tables split on, and the starts of
// autolinks.
func mdStructure(line string) string {
	var sig []string
	trimmed := strings.TrimLeft(line, " ")
	switch {
	case strings.HasPrefix(trimmed, "#"):
		sig = append(sig, "HEADING:"+strings.SplitN(trimmed, " ", 2)[0])
	case strings.HasPrefix(trimmed, "- "), strings.HasPrefix(trimmed, "* "), strings.HasPrefix(trimmed, "+ "):
		sig = append(sig, "LIST")
	case regexp.MustCompile(`^\d+[.)]`).MatchString(trimmed):
		sig = append(sig, "OLIST")
	case strings.HasPrefix(trimmed, ">"):
		sig = append(sig, "QUOTE")
	case strings.HasPrefix(trimmed, "|"):
		sig = append(sig, "ROW")
	}
	if len(line)-len(trimmed) >= 4 {
		sig = append(sig, "INDENTED")
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && unicode.IsPunct(rune(line[i+1])) || c == '\\' && i+1 < len(line) && strings.IndexByte("$^`|<>=~+", line[i+1]) >= 0:
			i += 2
			continue
		case c == '`':
			n := 0
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			fence := strings.Repeat("`", n)
			end := -1
			for j := i + n; j < len(line); {
				k := strings.Index(line[j:], fence)
				if k < 0 {
					break
				}
				k += j
				m := 0
				for k+m < len(line) && line[k+m] == '`' {
					m++
				}
				if m == n {
					end = k
					break
				}
				j = k + m
			}
			if end < 0 {
				sig = append(sig, "`")
				i += n
				continue
			}
			content := line[i+n : end]
			for j := 0; j < len(content); j++ {
				if content[j] == '|' && (j == 0 || content[j-1] != '\\') {
					sig = append(sig, "|IN-CODE")
				}
			}
			sig = append(sig, "CODE")
			i = end + n
			continue
		case strings.HasPrefix(line[i:], "://"):
			sig = append(sig, "://")
		case strings.HasPrefix(strings.ToLower(line[i:]), "www."):
			sig = append(sig, "www.")
		case strings.IndexByte("[]<>!*_~#$&|@{}^=", c) >= 0:
			sig = append(sig, string(c))
		}
		i++
	}
	return strings.Join(sig, " ")
}

func structures(doc string) []string {
	var out []string
	for _, l := range strings.Split(doc, "\n") {
		out = append(out, mdStructure(l))
	}
	sort.Strings(out)
	return out
}

func TestHostileNamesCannotCreateMarkdown(t *testing.T) {
	t.Parallel()
	plain := render(t, build(t, generated(t, postmortemtest.Options{})), postmortem.Markdown)
	hostile := render(t, build(t, generated(t, postmortemtest.Options{Hostile: true})), postmortem.Markdown)
	if !strings.Contains(hostile, "Injected heading") || !strings.Contains(hostile, "evil.example") {
		t.Fatal("the hostile names are not in the export at all")
	}
	if diff := cmp.Diff(structures(plain), structures(hostile)); diff != "" {
		t.Errorf("hostile names changed the Markdown's structure (-plain +hostile):\n%s", diff)
	}
	// No terminal escape or bidi control reaches the file; they are shown.
	for _, bad := range []string{"\x1b", "\u202e", "\a"} {
		if strings.Contains(hostile, bad) {
			t.Errorf("the Markdown contains %q raw", bad)
		}
	}
	if !strings.Contains(hostile, `\x1b`) || !strings.Contains(hostile, `\u202e`) {
		t.Error("escapes are not shown visibly")
	}
}

var tagRE = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:="[^"]*")?)*)\s*/?>`)

// htmlStructure is the multiset of the page's tags with their attribute
// names: a hostile name that became markup would add a tag or attribute.
func htmlStructure(doc string) []string {
	var out []string
	for _, m := range tagRE.FindAllStringSubmatch(doc, -1) {
		attrs := regexp.MustCompile(`([a-zA-Z-]+)=`).FindAllStringSubmatch(m[3], -1)
		var names []string
		for _, a := range attrs {
			names = append(names, a[1])
		}
		out = append(out, m[1]+m[2]+" "+strings.Join(names, ","))
	}
	sort.Strings(out)
	return out
}

func TestHostileNamesCannotCreateHTML(t *testing.T) {
	t.Parallel()
	plain := render(t, build(t, generated(t, postmortemtest.Options{})), postmortem.HTML)
	hostile := render(t, build(t, generated(t, postmortemtest.Options{Hostile: true})), postmortem.HTML)
	if diff := cmp.Diff(htmlStructure(plain), htmlStructure(hostile)); diff != "" {
		t.Errorf("hostile names changed the page's elements (-plain +hostile):\n%s", diff)
	}
	for _, bad := range []string{"<img", "<script", "<svg onload", "onmouseover='", "\x1b", "\u202e", `href="http://evil`, `href="https://evil`} {
		if strings.Contains(hostile, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if !strings.Contains(hostile, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Error("the hostile name is not shown as text")
	}
}

func TestHostileNamesInTimesketch(t *testing.T) {
	t.Parallel()
	out := render(t, build(t, generated(t, postmortemtest.Options{Hostile: true})), postmortem.Timesketch)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d is not one JSON object: %v", n, err)
		}
		for k, v := range ev {
			if s, ok := v.(string); ok && strings.ContainsAny(s, "\x1b\u202e\n\a") {
				t.Errorf("line %d: %s holds a raw control or bidi character: %q", n, k, s)
			}
		}
	}
}
