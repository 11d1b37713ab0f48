package sinks

// This file reads the AWS shared credentials file the way botocore does and
// edits it line by line. botocore (AWS CLI v1, boto3) parses the file with
// botocore.configloader.raw_config_parse, which is Python's
// configparser.RawConfigParser with its defaults; the rules below are those
// of configparser.RawConfigParser._read in CPython 3.11 and of
// raw_config_parse in botocore 1.43 (both checked against the installed AWS
// CLI 1.45 by TestParserMatchesBotocore):
//
//   - The file is UTF-8 text read with universal newlines: "\r\n", "\r" and
//     "\n" all end a line.
//   - "Whitespace" is Python's str.isspace set (pySpace), not just " \t".
//   - A line whose stripped text starts with '#' or ';' is a comment, at any
//     indentation. There are no inline comments: "k = v # c" has the value
//     "v # c".
//   - A blank line is added to the value of the option being read (and so
//     only matters inside a multi-line value).
//   - A line indented deeper than the last option (or section) line, while
//     an option is open, continues that option's value; this takes
//     precedence over everything below, so an indented "[x]" or "k = v" can
//     be part of a value.
//   - A stripped line starting with '[' and having a ']' at index 2 or later
//     is a section header; the name is everything between the first '[' and
//     the LAST ']', untrimmed, case-sensitive; text after that ']' is ignored.
//   - Otherwise the option name is the text before the first '=' or ':',
//     right-stripped and lower-cased (Python's str.lower); the value is the
//     rest, stripped. No delimiter, or an empty name, is a parsing error.
//   - strict=True: a section name or an option name repeated within a
//     section is an error (DuplicateSectionError, DuplicateOptionError).
//   - [DEFAULT] is not a profile: its options are inherited by every
//     section, and it may appear more than once.
//   - A line outside any section is an error (MissingSectionHeaderError).
//   - botocore then turns a value that starts with a newline (an empty first
//     line followed by indented lines) into a sub-dictionary, and fails if a
//     line of it has no '='.
//
// botocore raises ConfigParseError for every error above, and the AWS CLI then
// fails for every profile, so an edit refuses such a file rather than guess.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The option names this sink writes and removes.
const (
	keyAccessKeyID     = "aws_access_key_id"
	keySecretAccessKey = "aws_secret_access_key"
	keySessionToken    = "aws_session_token"
	keySecurityToken   = "aws_security_token" // botocore's older name for it
)

// defaultSection is configparser's DEFAULTSECT.
const defaultSection = "DEFAULT"

// FileError says why a credentials file cannot be used. It never quotes the
// file: only a line number, fixed text and section (profile) names.
type FileError struct {
	Line   int // 1-based; 0 when the error is not about one line
	Reason string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return "line " + strconv.Itoa(e.Line) + ": " + e.Reason
	}
	return e.Reason
}

type lineKind uint8

const (
	lineBlank lineKind = iota
	lineComment
	lineSection
	lineOption
	lineContinuation
)

// iniLine is one physical line.
type iniLine struct {
	text string // without its terminator
	eol  string // "\n", "\r\n", "\r", or "" for a last line without one
	kind lineKind
	// For option lines: the value's byte range in text.
	valStart, valEnd int
}

// iniOption is one option of a section.
type iniOption struct {
	key    string   // lower-cased name (see pyLower)
	line   int      // index of its line
	cont   []int    // indexes of its continuation lines
	pieces []string // value lines as configparser collects them
}

// value is the option's value as configparser returns it.
func (o *iniOption) value() string {
	return pyRstrip(strings.Join(o.pieces, "\n"))
}

// iniSection is a section; [DEFAULT] gathers all its parts.
type iniSection struct {
	name    string
	header  int // index of its (first) header line
	options []*iniOption
	byKey   map[string]*iniOption
	last    int // index of its last header, option or continuation line
}

// iniFile is a parsed credentials file.
type iniFile struct {
	lines    []iniLine
	sections []*iniSection // in file order, without [DEFAULT]
	byName   map[string]*iniSection
	defaults *iniSection // nil when there is no [DEFAULT]
}

// splitLines splits data at "\r\n", "\r" and "\n", keeping the terminators.
func splitLines(data string) []iniLine {
	var lines []iniLine
	for len(data) > 0 {
		i := strings.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, iniLine{text: data})
			break
		}
		n := 1
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			n = 2
		}
		lines = append(lines, iniLine{text: data[:i], eol: data[i : i+n]})
		data = data[i+n:]
	}
	return lines
}

// parseINI parses data as botocore would, failing where botocore fails.
func parseINI(data []byte) (*iniFile, error) {
	if !utf8.Valid(data) {
		line := 1
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			if data[i] == '\n' || (data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n')) {
				line++
			}
			i += n
		}
		return nil, &FileError{Line: line, Reason: "not valid UTF-8 (botocore reads the file as UTF-8)"}
	}
	f := &iniFile{lines: splitLines(string(data)), byName: map[string]*iniSection{}}
	var (
		cur         *iniSection
		curOpt      *iniOption
		indentLevel int
	)
	for i := range f.lines {
		ln := &f.lines[i]
		s := pyStrip(ln.text)
		switch {
		case strings.HasPrefix(s, "#"), strings.HasPrefix(s, ";"):
			ln.kind = lineComment
			continue
		case s == "":
			ln.kind = lineBlank
			if cur != nil && curOpt != nil {
				curOpt.pieces = append(curOpt.pieces, "")
			}
			continue
		}
		lead := len(ln.text) - len(pyLstrip(ln.text))
		indent := utf8.RuneCountInString(ln.text[:lead])
		if cur != nil && curOpt != nil && indent > indentLevel {
			ln.kind = lineContinuation
			curOpt.pieces = append(curOpt.pieces, s)
			curOpt.cont = append(curOpt.cont, i)
			cur.last = i
			continue
		}
		indentLevel = indent
		if name, ok := sectionHeader(s); ok {
			ln.kind = lineSection
			curOpt = nil
			switch {
			case name == defaultSection:
				if f.defaults == nil {
					f.defaults = newSection(name, i)
				}
				cur = f.defaults
			case f.byName[name] != nil:
				return nil, &FileError{Line: i + 1, Reason: fmt.Sprintf(
					"section [%s] repeats the one at line %d; botocore rejects the whole file (DuplicateSectionError), so merge them by hand",
					name, f.byName[name].header+1)}
			default:
				cur = newSection(name, i)
				f.sections = append(f.sections, cur)
				f.byName[name] = cur
			}
			cur.last = i
			continue
		}
		if cur == nil {
			return nil, &FileError{Line: i + 1, Reason: "text before the first [section] header; botocore rejects the file (MissingSectionHeaderError)"}
		}
		d := strings.IndexAny(s, "=:")
		if d < 0 {
			return nil, &FileError{Line: i + 1, Reason: "neither a [section], a comment nor a key = value line; botocore rejects the file (ParsingError)"}
		}
		name := pyRstrip(s[:d])
		if name == "" {
			return nil, &FileError{Line: i + 1, Reason: "a key = value line without a key; botocore rejects the file (ParsingError)"}
		}
		key := pyLower(name)
		if prev := cur.byKey[key]; prev != nil {
			return nil, &FileError{Line: i + 1, Reason: fmt.Sprintf(
				"a key of section [%s] repeats the one at line %d; botocore rejects the whole file (DuplicateOptionError)",
				cur.name, prev.line+1)}
		}
		value := pyLstrip(s[d+1:])
		ln.kind = lineOption
		ln.valEnd = lead + len(s)
		ln.valStart = ln.valEnd - len(value)
		curOpt = &iniOption{key: key, line: i, pieces: []string{value}}
		cur.options = append(cur.options, curOpt)
		cur.byKey[key] = curOpt
		cur.last = i
	}
	if err := f.checkNested(); err != nil {
		return nil, err
	}
	return f, nil
}

func newSection(name string, header int) *iniSection {
	return &iniSection{name: name, header: header, byKey: map[string]*iniOption{}}
}

// sectionHeader matches configparser's SECTCRE, `\[(?P<header>.+)\]`, against
// a stripped line: '.+' is greedy, so the name ends at the last ']'.
func sectionHeader(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return "", false
	}
	j := strings.LastIndexByte(s, ']')
	if j < 2 {
		return "", false
	}
	return s[1:j], true
}

// lookup is the option key in section s as botocore sees it: the section's
// own, else [DEFAULT]'s.
func (f *iniFile) lookup(s *iniSection, key string) *iniOption {
	if o := s.byKey[key]; o != nil {
		return o
	}
	if f.defaults != nil {
		return f.defaults.byKey[key]
	}
	return nil
}

// checkNested applies botocore's sub-dictionary parsing (_parse_nested) to
// every value of every section, [DEFAULT]'s included, as raw_config_parse
// does, and fails where it would.
func (f *iniFile) checkNested() error {
	for _, s := range f.sections {
		opts := s.options
		if f.defaults != nil {
			opts = append(append([]*iniOption(nil), opts...), f.defaults.options...)
		}
		for _, o := range opts {
			if f.lookup(s, o.key) != o {
				continue // overridden
			}
			v := o.value()
			if !strings.HasPrefix(v, "\n") {
				continue
			}
			for _, l := range pySplitLines(v) {
				if l = pyStrip(l); l != "" && !strings.Contains(l, "=") {
					return &FileError{Line: o.line + 1, Reason: "an indented block under an empty key has a line without '='; botocore rejects the file (ConfigParseError)"}
				}
			}
		}
	}
	return nil
}

// pySpace reports whether Python's str.isspace (and the re module's \s) is
// true for r.
func pySpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0x1c, 0x1d, 0x1e, 0x1f, ' ', 0x85, 0xa0,
		0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

func pyStrip(s string) string  { return strings.TrimFunc(s, pySpace) }
func pyLstrip(s string) string { return strings.TrimLeftFunc(s, pySpace) }
func pyRstrip(s string) string { return strings.TrimRightFunc(s, pySpace) }

// pySplitLines splits at the boundaries of Python's str.splitlines ("\r\n"
// counts as two here, which only adds an empty piece).
func pySplitLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			return true
		}
		return false
	})
}

// pyLower is Python's str.lower, with one simplification: Greek capital and
// final sigma both become 'σ', where Python chooses by context. The result
// can therefore merge two names Python keeps apart (an edit then refuses the
// file as having a repeated key) but never separates two that Python merges.
// Every other non-ASCII letter keeps its Unicode lower case, so only 'K'
// (U+212A KELVIN SIGN) lower-cases to ASCII ('k'), as in Python.
func pyLower(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 0x130: // İ: Python's full mapping gives "i̇", Go's simple one 'i'
			b.WriteString("i\u0307")
		case 0x3a3, 0x3c2:
			b.WriteRune(0x3c3)
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
