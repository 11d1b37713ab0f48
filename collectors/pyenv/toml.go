package pyenv

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small, tolerant reader for the TOML the manifests and lock files use. It
// is not a validating TOML parser: it reads headers, key = value pairs,
// strings of all four kinds, arrays and inline tables (both may span lines),
// and treats numbers, booleans and dates as raw text. A malformed line is
// skipped up to its end and reading goes on. Nesting is capped, and strings
// kept are cut to 4 KiB.

type tomlKind uint8

const (
	tomlString tomlKind = iota + 1
	tomlArray
	tomlTable // inline table
	tomlOther // number, boolean, date: raw text
)

type tomlValue struct {
	kind  tomlKind
	str   string // tomlString: decoded; tomlOther: raw
	line  int    // 1-based line where the value starts
	items []tomlValue
	keys  []tomlKeyValue
}

type tomlKeyValue struct {
	key []string
	val tomlValue
}

// tomlEntry is one top-level key = value line.
type tomlEntry struct {
	header []string // table the pair belongs to
	array  bool     // header was [[...]]
	block  int      // which header occurrence (0: before any header)
	key    []string // dotted key
	val    tomlValue
	line   int
}

// get returns the value of key in an inline table.
func (v tomlValue) get(key string) (tomlValue, bool) {
	for _, kv := range v.keys {
		if len(kv.key) == 1 && kv.key[0] == key {
			return kv.val, true
		}
	}
	return tomlValue{}, false
}

const (
	tomlMaxDepth = 32
	// tomlMaxItems bounds the array items and inline-table keys kept for
	// one top-level value (a value in memory costs ~40x its shortest
	// spelling, "1,"); past it the value is still read but not kept.
	tomlMaxItems = 100000
)

type tomlReader struct {
	s    string
	pos  int
	line int
	keep int // items the current top-level value may still store
}

// readTOML calls fn for every key = value pair, in order, until fn returns
// false.
func readTOML(data []byte, fn func(tomlEntry) bool) {
	r := &tomlReader{s: string(data), line: 1}
	if strings.HasPrefix(r.s, "\ufeff") {
		r.pos = len("\ufeff")
	}
	var header []string
	array := false
	block := 0
	for {
		r.skipSpaceNewlinesComments()
		if r.pos >= len(r.s) {
			return
		}
		start := r.pos
		line := r.line
		if r.s[r.pos] == '[' {
			h, arr, ok := r.header()
			if ok {
				header, array = h, arr
				block++
			}
			r.skipRestOfLine()
		} else if key, ok := r.key(); ok {
			r.skipSpace()
			if r.peek() == '=' {
				r.pos++
				r.skipSpace()
				r.keep = tomlMaxItems
				if v, ok := r.value(0); ok {
					if !fn(tomlEntry{header: header, array: array, block: block, key: key, val: v, line: line}) {
						return
					}
				}
			}
			r.skipRestOfLine()
		} else {
			r.skipRestOfLine()
		}
		if r.pos == start { // always make progress
			r.advance()
		}
	}
}

func (r *tomlReader) peek() byte {
	if r.pos < len(r.s) {
		return r.s[r.pos]
	}
	return 0
}

func (r *tomlReader) advance() {
	if r.pos < len(r.s) {
		if r.s[r.pos] == '\n' {
			r.line++
		}
		r.pos++
	}
}

func (r *tomlReader) skipSpace() {
	for r.pos < len(r.s) && (r.s[r.pos] == ' ' || r.s[r.pos] == '\t') {
		r.pos++
	}
}

// skipSpaceNewlinesComments skips blanks, newlines and comments.
func (r *tomlReader) skipSpaceNewlinesComments() {
	for r.pos < len(r.s) {
		switch r.s[r.pos] {
		case ' ', '\t', '\r':
			r.pos++
		case '\n':
			r.pos++
			r.line++
		case '#':
			for r.pos < len(r.s) && r.s[r.pos] != '\n' {
				r.pos++
			}
		default:
			return
		}
	}
}

// skipRestOfLine moves past the next newline.
func (r *tomlReader) skipRestOfLine() {
	for r.pos < len(r.s) && r.s[r.pos] != '\n' {
		r.pos++
	}
	if r.pos < len(r.s) {
		r.pos++
		r.line++
	}
}

// header reads "[a.b]" or "[[a.b]]".
func (r *tomlReader) header() ([]string, bool, bool) {
	r.pos++ // [
	array := r.peek() == '['
	if array {
		r.pos++
	}
	r.skipSpace()
	key, ok := r.key()
	if !ok {
		return nil, false, false
	}
	r.skipSpace()
	if r.peek() != ']' {
		return nil, false, false
	}
	r.pos++
	if array {
		if r.peek() != ']' {
			return nil, false, false
		}
		r.pos++
	}
	return key, array, true
}

// key reads a dotted key of bare and quoted parts.
func (r *tomlReader) key() ([]string, bool) {
	var parts []string
	for {
		r.skipSpace()
		var part string
		switch c := r.peek(); {
		case c == '"' || c == '\'':
			s, ok := r.str(c, false)
			if !ok || strings.Contains(s, "\n") {
				return nil, false
			}
			part = s
		case isBareKey(c):
			start := r.pos
			for r.pos < len(r.s) && isBareKey(r.s[r.pos]) {
				r.pos++
			}
			part = r.s[start:r.pos]
		default:
			return nil, false
		}
		if len(parts) < tomlMaxDepth {
			parts = append(parts, clipString(part))
		}
		r.skipSpace()
		if r.peek() != '.' {
			return parts, true
		}
		r.pos++
	}
}

func isBareKey(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// value reads any value.
func (r *tomlReader) value(depth int) (tomlValue, bool) {
	if depth > tomlMaxDepth {
		return tomlValue{}, false
	}
	line := r.line
	switch c := r.peek(); c {
	case '"', '\'':
		multi := strings.HasPrefix(r.s[r.pos:], string([]byte{c, c, c}))
		s, ok := r.str(c, multi)
		return tomlValue{kind: tomlString, str: s, line: line}, ok
	case '[':
		return r.array(depth, line)
	case '{':
		return r.inlineTable(depth, line)
	case 0, '\n', '\r', '#', ',', ']', '}':
		return tomlValue{}, false
	}
	start := r.pos
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		if c == ',' || c == ']' || c == '}' || c == '\n' || c == '\r' || c == '#' {
			break
		}
		r.pos++
	}
	return tomlValue{kind: tomlOther, str: clipString(strings.TrimSpace(r.s[start:r.pos])), line: line}, true
}

func (r *tomlReader) array(depth, line int) (tomlValue, bool) {
	r.pos++ // [
	v := tomlValue{kind: tomlArray, line: line}
	for {
		r.skipSpaceNewlinesComments()
		switch r.peek() {
		case 0:
			return v, false
		case ']':
			r.pos++
			return v, true
		case ',':
			r.pos++
			continue
		}
		item, ok := r.value(depth + 1)
		if !ok {
			return v, false
		}
		if r.keep > 0 {
			r.keep--
			v.items = append(v.items, item)
		}
	}
}

func (r *tomlReader) inlineTable(depth, line int) (tomlValue, bool) {
	r.pos++ // {
	v := tomlValue{kind: tomlTable, line: line}
	for {
		// Inline tables are one line in TOML 1.0; TOML 1.1 and uv.lock
		// readers tolerate newlines, so this does too.
		r.skipSpaceNewlinesComments()
		switch r.peek() {
		case 0:
			return v, false
		case '}':
			r.pos++
			return v, true
		case ',':
			r.pos++
			continue
		}
		key, ok := r.key()
		if !ok {
			return v, false
		}
		r.skipSpace()
		if r.peek() != '=' {
			return v, false
		}
		r.pos++
		r.skipSpace()
		item, ok := r.value(depth + 1)
		if !ok {
			return v, false
		}
		if r.keep > 0 {
			r.keep--
			v.keys = append(v.keys, tomlKeyValue{key: key, val: item})
		}
	}
}

// str reads a string starting at the quote q (three of them when multi).
func (r *tomlReader) str(q byte, multi bool) (string, bool) {
	n := 1
	if multi {
		n = 3
	}
	r.pos += n
	if multi { // a newline right after the opening quotes is trimmed
		if strings.HasPrefix(r.s[r.pos:], "\r\n") {
			r.pos += 2
			r.line++
		} else if r.peek() == '\n' {
			r.pos++
			r.line++
		}
	}
	var b strings.Builder
	write := func(s string) {
		if b.Len() < maxString {
			b.WriteString(s)
		}
	}
	writeByte := func(c byte) {
		if b.Len() < maxString {
			b.WriteByte(c)
		}
	}
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		switch {
		case c == q && (!multi || strings.HasPrefix(r.s[r.pos:], string([]byte{q, q, q}))):
			r.pos += n
			if multi { // up to two more quotes belong to the content
				for k := 0; k < 2 && r.peek() == q; k++ {
					writeByte(q)
					r.pos++
				}
			}
			return clipString(b.String()), true
		case c == '\n':
			if !multi {
				return "", false
			}
			write("\n")
			r.pos++
			r.line++
		case c == '\\' && q == '"':
			r.pos++
			if r.pos >= len(r.s) {
				return "", false
			}
			e := r.s[r.pos]
			switch e {
			case 'b':
				write("\b")
			case 't':
				write("\t")
			case 'n':
				write("\n")
			case 'f':
				write("\f")
			case 'r':
				write("\r")
			case 'e':
				write("\x1b")
			case '"', '\\':
				writeByte(e)
			case 'u', 'U':
				size := 4
				if e == 'U' {
					size = 8
				}
				if r.pos+size >= len(r.s) {
					return "", false
				}
				cp, err := strconv.ParseUint(r.s[r.pos+1:r.pos+1+size], 16, 32)
				if err != nil || !utf8.ValidRune(rune(cp)) {
					return "", false
				}
				write(string(rune(cp)))
				r.pos += size
			case ' ', '\t', '\r', '\n':
				if !multi {
					return "", false
				}
				// Line-ending backslash: drop it and all following blanks.
				for r.pos < len(r.s) && strings.IndexByte(" \t\r\n", r.s[r.pos]) >= 0 {
					if r.s[r.pos] == '\n' {
						r.line++
					}
					r.pos++
				}
				continue
			default:
				writeByte('\\')
				writeByte(e)
			}
			r.pos++
		default:
			writeByte(c)
			r.pos++
		}
	}
	return "", false
}
