package pyenv

import (
	"strings"
	"unicode"
)

// NormalizeName is PEP 503 normalisation: lower-case, runs of -_. become "-".
// It does not trim or validate; callers trim what they read.
func NormalizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for _, r := range name {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('-')
			sep = false
		}
		b.WriteRune(unicode.ToLower(r))
	}
	if sep {
		b.WriteByte('-')
	}
	return b.String()
}

// DistDirName parses "litellm-1.82.8.dist-info", "litellm-1.82.8-py3.11.egg-info",
// "LiteLLM-1.82.7.dist-info" into (normalised name, version); ok=false otherwise.
// (Wheel dist-info dir names escape "-" in names to "_".) A trailing slash is
// ignored; an egg-info without a version ("litellm.egg-info", a source
// checkout) is not ok.
func DistDirName(dir string) (name, version string, ok bool) {
	dir = baseName(dir)
	lower := strings.ToLower(dir)
	var stem string
	switch {
	case strings.HasSuffix(lower, ".dist-info"):
		stem = dir[:len(dir)-len(".dist-info")]
	case strings.HasSuffix(lower, ".egg-info"):
		stem = dir[:len(dir)-len(".egg-info")]
	default:
		return "", "", false
	}
	parts := strings.Split(stem, "-")
	if len(parts) < 2 || !validName(parts[0]) || !validVersion(parts[1]) {
		return "", "", false
	}
	return NormalizeName(parts[0]), parts[1], true
}

// ParseArchiveName parses a distribution file name: a wheel
// ("litellm-1.82.8-py3-none-any.whl"), an sdist ("litellm-1.82.8.tar.gz",
// ".zip", ".tar.bz2", ".tgz"; legacy names may contain "-") or an egg
// ("foo-1.0-py3.11.egg"). It returns the normalised name and the version.
func ParseArchiveName(file string) (name, version string, ok bool) {
	file = baseName(file)
	lower := strings.ToLower(file)
	switch {
	case strings.HasSuffix(lower, ".whl"), strings.HasSuffix(lower, ".egg"):
		parts := strings.Split(file[:len(file)-4], "-")
		if len(parts) < 2 || !validName(parts[0]) || !validVersion(parts[1]) {
			return "", "", false
		}
		if strings.HasSuffix(lower, ".whl") && len(parts) < 5 {
			return "", "", false
		}
		return NormalizeName(parts[0]), parts[1], true
	}
	var stem string
	for _, ext := range []string{".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".zip", ".tar"} {
		if strings.HasSuffix(lower, ext) {
			stem = file[:len(file)-len(ext)]
			break
		}
	}
	if stem == "" {
		return "", "", false
	}
	// The version starts after the last "-" that is followed by a digit.
	for i := len(stem) - 1; i > 0; i-- {
		if stem[i] == '-' && i+1 < len(stem) && isDigit(stem[i+1]) {
			n, v := stem[:i], stem[i+1:]
			if validName(n) && validVersion(v) {
				return NormalizeName(n), v, true
			}
			return "", "", false
		}
	}
	return "", "", false
}

// ParseCondaDist parses a conda distribution string as conda-meta/history
// and conda list print it: "conda-forge/noarch::litellm-1.82.7-pyhd8ed1ab_0"
// or "litellm-1.82.7-pyhd8ed1ab_0" (a leading "+" or "-" is ignored). The
// name is normalised.
func ParseCondaDist(s string) (name, version, build string, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-")
	if i := strings.LastIndex(s, "::"); i >= 0 {
		s = s[i+2:]
	}
	j := strings.LastIndexByte(s, '-')
	if j <= 0 {
		return "", "", "", false
	}
	i := strings.LastIndexByte(s[:j], '-')
	if i <= 0 {
		return "", "", "", false
	}
	name, version, build = s[:i], s[i+1:j], s[j+1:]
	if !validName(name) || !validVersion(version) || build == "" {
		return "", "", "", false
	}
	return NormalizeName(name), version, build, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// validName reports a PEP 508 distribution name (ASCII letters, digits and
// ._- with an alphanumeric first and last character), at most 256 bytes.
func validName(s string) bool {
	if s == "" || len(s) > 256 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// validVersion reports a plausible version string: it starts with a digit
// (or "v" then a digit) and holds only characters PEP 440 and conda use.
// Wildcards and operators are not versions.
func validVersion(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	t := s
	if t[0] == 'v' || t[0] == 'V' {
		t = t[1:]
	}
	if t == "" || !isDigit(t[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '+' && c != '!' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}
