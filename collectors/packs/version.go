package packs

import (
	"strconv"
	"strings"
)

// Version is a dotted numeric version (1.82.7, 0.2.6). Pre-release and build
// suffixes are not compared: tags in the packs are plain releases.
type Version []int

// ParseVersion parses "1.82.7"; a leading "v" is not accepted here because
// whether "v0.2.0" and "0.2.0" are the same tag is a pack decision (prefix).
func ParseVersion(s string) (Version, bool) {
	if s == "" || len(s) > 64 {
		return nil, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 6 {
		return nil, false
	}
	v := make(Version, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 9 {
			return nil, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || (len(p) > 1 && p[0] == '0') {
			return nil, false
		}
		v[i] = n
	}
	return v, true
}

// Compare returns -1, 0 or 1; missing components count as 0.
func (v Version) Compare(w Version) int {
	for i := 0; i < len(v) || i < len(w); i++ {
		a, b := 0, 0
		if i < len(v) {
			a = v[i]
		}
		if i < len(w) {
			b = w[i]
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
	}
	return 0
}

// Contains reports whether ref (as written, e.g. "v0.2.3") is inside r.
func (r VersionRange) Contains(ref string) bool {
	if !strings.HasPrefix(ref, r.Prefix) {
		return false
	}
	v, ok := ParseVersion(strings.TrimPrefix(ref, r.Prefix))
	if !ok {
		return false
	}
	from, ok1 := ParseVersion(r.From)
	to, ok2 := ParseVersion(r.To)
	return ok1 && ok2 && v.Compare(from) >= 0 && v.Compare(to) <= 0
}
