package pyenv

import (
	"strings"
)

// Pin is a requirement on a package found in a manifest, lock file or command line.
type Pin struct {
	Name    string // normalised
	Version string // exact version when pinned ("==1.82.7", "=1.82.7", lock entries); "" when unpinned / a range
	Spec    string // the specifier as written, truncated ("litellm[proxy]>=1.80"); for key = value manifests and locks, "name constraint" ("litellm ==1.82.7", "litellm 1.82.7")
	Line    int    // 1-based line in the file (0 for command lines)
}

// pinList collects pins up to maxPins.
type pinList []Pin

func (l *pinList) add(p Pin) {
	if len(*l) < maxPins {
		p.Spec = clipString(p.Spec)
		*l = append(*l, p)
	}
}

func (l *pinList) full() bool { return len(*l) >= maxPins }

// requirement is a parsed PEP 508 requirement (or pip URL/path requirement).
type requirement struct {
	name    string // normalised
	version string // exact version or ""
	spec    string // as written, without markers and options
}

// parseRequirement parses one PEP 508 requirement string as pip and the
// pyproject arrays write it: name, optional [extras], then a version
// specifier list (optionally in parentheses) or "@ url", then "; markers".
// A bare URL or path naming a wheel or sdist, or carrying "#egg=name", is
// accepted too. The version is set only for "==X" (no wildcard) or "===X",
// or for a direct reference to a wheel/sdist file.
func parseRequirement(s string) (requirement, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return requirement{}, false
	}
	spec := s
	if i := strings.IndexByte(spec, ';'); i >= 0 {
		spec = strings.TrimSpace(spec[:i])
	}
	i := 0
	for i < len(spec) && (isAlnum(spec[i]) || spec[i] == '.' || spec[i] == '_' || spec[i] == '-') {
		i++
	}
	name := spec[:i]
	rest := strings.TrimSpace(spec[i:])
	// "name", "name[extra]...", "name @ url", "name==1": PEP 508. Anything
	// else that looks like a location (URL, path, "x-1.0-py3-none-any.whl")
	// is one.
	pep508 := validName(name) && (rest == "" || strings.ContainsAny(rest[:1], "[@(=<>!~")) &&
		!(rest == "" && hasArchiveSuffix(name))
	if !pep508 {
		if looksLikeURLOrPath(s) {
			return requirementFromLocation(s)
		}
		return requirement{}, false
	}
	if strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return requirement{}, false
		}
		rest = strings.TrimSpace(rest[j+1:])
	}
	r := requirement{name: NormalizeName(name), spec: spec}
	switch {
	case rest == "":
	case rest[0] == '@':
		loc := strings.TrimSpace(rest[1:])
		if u, ok := requirementFromLocation(loc); ok && u.name == r.name {
			r.version = u.version
		}
	case strings.ContainsAny(rest[:1], "=<>!~("):
		r.version = exactVersion(rest)
	default:
		return requirement{}, false // "litellm 1.82.7" and other non-PEP 508 text
	}
	return r, true
}

// exactVersion returns X when a PEP 440 specifier list holds "==X" (without
// a wildcard) or "===X".
func exactVersion(spec string) string {
	spec = strings.TrimSpace(spec)
	spec = strings.TrimSuffix(strings.TrimPrefix(spec, "("), ")")
	for _, clause := range strings.Split(spec, ",") {
		clause = strings.TrimSpace(clause)
		var v string
		switch {
		case strings.HasPrefix(clause, "==="):
			v = clause[3:]
		case strings.HasPrefix(clause, "=="):
			v = clause[2:]
		default:
			continue
		}
		v = strings.TrimSpace(v)
		if validVersion(v) {
			return v
		}
	}
	return ""
}

// looksLikeURLOrPath reports requirement text that is a location, not a name.
func looksLikeURLOrPath(s string) bool {
	if strings.Contains(s, "://") || strings.HasPrefix(s, "git+") || strings.HasPrefix(s, "hg+") ||
		strings.HasPrefix(s, "svn+") || strings.HasPrefix(s, "bzr+") || strings.HasPrefix(s, "file:") {
		return true
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.HasPrefix(s, `\`) {
		return true
	}
	if len(s) > 2 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') { // C:\...
		return true
	}
	return hasArchiveSuffix(s)
}

// hasArchiveSuffix reports a wheel, sdist or egg file name.
func hasArchiveSuffix(s string) bool {
	lower := strings.ToLower(s)
	for _, ext := range []string{".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".egg"} {
		if strings.HasSuffix(lower, ext) {
			return true
		}
	}
	return false
}

// requirementFromLocation names the distribution a URL or path points at:
// "#egg=name" or a wheel/sdist file name.
func requirementFromLocation(s string) (requirement, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t;"); i >= 0 {
		s = s[:i]
	}
	loc, frag, _ := strings.Cut(s, "#")
	for _, kv := range strings.Split(frag, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == "egg" {
			name, _, _ := strings.Cut(v, "[")
			if validName(name) {
				return requirement{name: NormalizeName(name), spec: s}, true
			}
		}
	}
	if i := strings.IndexByte(loc, '?'); i >= 0 {
		loc = loc[:i]
	}
	if name, version, ok := ParseArchiveName(loc); ok {
		return requirement{name: name, version: version, spec: s}, true
	}
	return requirement{}, false
}

// ParseRequirements reads a pip requirements file (requirements*.txt, *.in):
// comments, line continuations, option lines (-r, -c, -e, -i, --hash ...),
// extras, environment markers and per-requirement options. "-e" lines and
// URL/path requirements give a pin when they name the distribution
// ("#egg=name", or a wheel/sdist file). Line is where the logical line starts.
func ParseRequirements(data []byte) []Pin {
	var pins pinList
	var joined strings.Builder
	start := 0
	flush := func(line string, n int) {
		handleRequirementLine(&pins, line, n)
	}
	eachLine(data, func(n int, line string) bool {
		if pins.full() {
			return false
		}
		comment := isPipComment(line)
		if strings.HasSuffix(line, `\`) && !comment {
			if joined.Len() == 0 {
				start = n
			}
			if joined.Len() < 64<<10 {
				joined.WriteString(strings.Trim(line, `\`))
			}
			return true
		}
		if joined.Len() > 0 {
			if comment {
				line = " " + line
			}
			joined.WriteString(line)
			flush(joined.String(), start)
			joined.Reset()
			return true
		}
		flush(line, n)
		return true
	})
	if joined.Len() > 0 && !pins.full() {
		flush(joined.String(), start)
	}
	if len(pins) == 0 {
		return nil
	}
	return pins
}

// isPipComment is pip's COMMENT_RE.match: a "#" at the start or after blanks.
func isPipComment(line string) bool {
	return strings.HasPrefix(strings.TrimLeft(line, " \t"), "#")
}

// stripPipComment removes "#..." at the start or after whitespace.
func stripPipComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

func handleRequirementLine(pins *pinList, line string, n int) {
	line = strings.TrimSpace(stripPipComment(line))
	if line == "" {
		return
	}
	// pip splits a line into requirement words and options at the first
	// word that starts with "-".
	words := strings.Fields(line)
	k := 0
	for k < len(words) && !strings.HasPrefix(words[k], "-") {
		k++
	}
	if k > 0 {
		req := strings.Join(words[:k], " ")
		if r, ok := parseRequirement(req); ok {
			pins.add(Pin{Name: r.name, Version: r.version, Spec: r.spec, Line: n})
		}
		return
	}
	// An option line. Only editables name a distribution.
	opt, val := words[0], ""
	if o, v, ok := strings.Cut(opt, "="); ok && strings.HasPrefix(o, "--") {
		opt, val = o, v
	} else if len(words) > 1 {
		val = words[1]
	}
	if strings.HasPrefix(opt, "-e") && opt != "-e" && !strings.HasPrefix(opt, "--") {
		val = opt[2:] // -egit+https://...
		opt = "-e"
	}
	if opt == "-e" || opt == "--editable" {
		if r, ok := requirementFromLocation(val); ok {
			pins.add(Pin{Name: r.name, Version: r.version, Spec: r.spec, Line: n})
		}
	}
}
