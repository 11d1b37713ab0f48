package postmortem

import (
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

// Untrusted strings (file names, host names, finding details, object names,
// provider messages) reach the human formats only through these functions.
// sanitize.Terminal first makes control characters, bidi overrides,
// invisible format characters and invalid UTF-8 visible (\x1b, \u202e), and
// turns line breaks into "\n" text, so no value can start a new Markdown
// line (a heading, a list, a table row) or reorder what a reader sees.

// mdEscaped are the ASCII characters with inline meaning in CommonMark or
// GitHub Flavored Markdown: emphasis, code, links and images, raw HTML and
// entities, table cells, strikethrough, math, footnotes and attributes.
// Backslash-escaping them is always allowed (CommonMark 2.4) and renders
// the character itself.
const mdEscaped = "\\`*_[]<>|&~!#${}@^="

// mdText escapes s for Markdown inline text, table cells included.
// Autolinks are broken as well: GFM turns "www.x", "scheme://" and e-mail
// addresses into links even without brackets, so "://" and "www." get an
// escaped ':' and '.' (a renderer then sees separate text and no link).
func mdText(s string) string {
	s = sanitize.Terminal(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	// At the start of a list item or a paragraph, leading spaces (an
	// indented code block), "-", "+" (a list, a thematic break) and "1." or
	// "1)" (an ordered list) are block syntax: neutralise them there.
	lead := len(s) - len(strings.TrimLeft(s, " "))
	b.WriteString(strings.Repeat("&#32;", lead))
	s = s[lead:]
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		b.WriteByte('\\')
	} else if digits > 0 && digits < len(s) && (s[digits] == '.' || s[digits] == ')') {
		b.WriteString(s[:digits])
		b.WriteByte('\\')
		s = s[digits:]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(mdEscaped, c) >= 0:
			b.WriteByte('\\')
		case c == ':' && strings.HasPrefix(s[i:], "://"):
			b.WriteByte('\\')
		case c == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www"):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mdCode renders s as a code span: nothing inside is markup, links or HTML.
// The fence is one backtick longer than the longest run inside; a pipe is
// escaped because GFM splits table rows on it before parsing code spans
// (and honours "\|" inside them), which is why code spans are only used in
// table cells here.
func mdCode(s string) string {
	s = sanitize.Terminal(s)
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	s = strings.ReplaceAll(s, "|", `\|`)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// display is the text form of an untrusted string for HTML (html/template
// escapes it for its context) and for Timesketch messages.
func display(s string) string { return sanitize.Terminal(s) }
