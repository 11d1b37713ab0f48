package credentials

import (
	"bytes"
	"strings"
)

// iniEntry is one key = value line of an INI-style file.
type iniEntry struct {
	section string // as written inside the brackets, trimmed
	key     string // lower-cased
	value   string // trimmed
	line    int
}

// eachINI calls fn for every key = value (or key: value) line, with the
// section it is in. Comment lines start with '#' or ';'.
func eachINI(data []byte, fn func(e iniEntry) bool) {
	section := ""
	eachLine(data, func(n int, l []byte) bool {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' || l[0] == ';' {
			return true
		}
		if l[0] == '[' {
			if i := bytes.IndexByte(l, ']'); i > 0 {
				section = strings.TrimSpace(string(l[1:i]))
			}
			return true
		}
		i := bytes.IndexAny(l, "=:")
		if i <= 0 {
			return true
		}
		key := strings.ToLower(strings.TrimSpace(string(l[:i])))
		return fn(iniEntry{section: section, key: key, value: strings.TrimSpace(string(l[i+1:])), line: n})
	})
}

// firstField is a value up to its first blank: the secrets of AWS-style
// files hold none, and an inline comment after one is not part of it.
func firstField(v string) string {
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		return v[:i]
	}
	return v
}
