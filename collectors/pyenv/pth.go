package pyenv

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

// PthVerdict classifies a .pth file. Python's site.py executes lines that
// start with "import " or "import\t" and treats other non-comment lines as
// paths.
type PthVerdict struct {
	// Executable reports at least one import line.
	Executable bool
	// Benign is non-empty when the whole file has a recognised benign shape:
	// "empty", "paths-only", "editable", "easy-install", "pywin32", "homebrew"
	// (path-only files are named after their file name where it is a known
	// one), or for executable files "distutils-precedence", "virtualenv",
	// "nspkg", "editable", "easy-install", "coverage", "pytest-cov",
	// "pywin32", "homebrew". Every executable line of a benign file matches
	// the same recogniser; one foreign line (or a foreign statement appended
	// to a recognised line) makes the file not benign.
	Benign string
	// Suspicious lists markers found in executable lines, in a fixed order
	// (see pthMarkers). It is nil for benign files, whose code is known.
	Suspicious []string
	// ExecLines counts executable lines.
	ExecLines int
	// Excerpt is the first executable line, with control characters
	// escaped, at most 200 bytes.
	Excerpt string
}

const (
	pthExcerptMax   = 200
	pthLongLine     = 2000
	pthRecogniseMax = 8 << 10 // longer lines are never benign
)

// ClassifyPth classifies the bytes of a .pth file called name (only the base
// name is used). Lines are split the way any CPython would: on "\n", "\r\n"
// and "\r" (3.12 and older), and also on the other str.splitlines separators
// (3.13+); a line is executable if it is under either reading, and a leading
// UTF-8 BOM is ignored (3.13+).
func ClassifyPth(name string, data []byte) PthVerdict {
	base := baseName(name)
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var v PthVerdict
	var markers uint64
	latin1 := !utf8.Valid(data)
	family, benign := "", true
	content := false
	for len(data) > 0 {
		var line []byte
		// The first "\n" or "\r" (two SIMD scans beat one IndexAny).
		i := bytes.IndexByte(data, '\n')
		head := data
		if i >= 0 {
			head = data[:i]
		}
		if j := bytes.IndexByte(head, '\r'); j >= 0 {
			i = j
		}
		if i < 0 {
			line, data = data, nil
		} else {
			line = data[:i]
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			data = data[i+1:]
		}
		exec, nonBlank, split := pthLineKind(line, latin1)
		if !nonBlank {
			continue
		}
		content = true
		if !exec {
			continue
		}
		v.ExecLines++
		s := string(line)
		if v.Excerpt == "" {
			v.Excerpt = excerpt(s, pthExcerptMax)
		}
		markers |= pthScan(s)
		if benign {
			f := ""
			if !split {
				f = benignPthLine(base, s)
			}
			switch {
			case f == "", family != "" && f != family:
				benign = false
			default:
				family = f
			}
		}
	}
	v.Executable = v.ExecLines > 0
	switch {
	case !v.Executable && !content:
		v.Benign = "empty"
	case !v.Executable:
		v.Benign = pathsLabel(base)
	case benign:
		v.Benign = family
	default:
		v.Suspicious = markerNames(markers)
	}
	return v
}

// pthLineKind reports whether a physical line (no "\r" or "\n") is executed
// by some CPython, whether it holds anything but comments and blanks, and
// whether it contains a separator only Python 3.13+ splits on.
func pthLineKind(line []byte, latin1 bool) (exec, nonBlank, split bool) {
	for len(line) > 0 {
		part := line
		j, w := extraSep(line, latin1)
		if j >= 0 {
			part, line = line[:j], line[j+w:]
			split = true
		} else {
			line = nil
		}
		if len(part) > 0 && part[0] == '#' {
			continue
		}
		if len(bytes.TrimSpace(part)) == 0 {
			continue
		}
		nonBlank = true
		if bytes.HasPrefix(part, []byte("import ")) || bytes.HasPrefix(part, []byte("import\t")) {
			exec = true
		}
	}
	return exec, nonBlank, split
}

// extraSep finds the first line separator that str.splitlines knows besides
// "\r" and "\n": \v \f \x1c \x1d \x1e, U+0085, U+2028, U+2029 (and a lone
// 0x85 byte in a file that is not UTF-8, which a Latin-1 locale decodes to
// U+0085).
func extraSep(b []byte, latin1 bool) (at, width int) {
	leads := "\v\f\x1c\x1d\x1e\xc2\xe2\x85"
	if !latin1 {
		leads = leads[:len(leads)-1]
	}
	// next[k] is the next index of leads[k] at or after off (-1: none).
	// Each lead byte's scans together cover the line once, so a line full
	// of 0xc2 or 0xe2 bytes that are not separators stays linear.
	var next [8]int
	for k := 0; k < len(leads); k++ {
		next[k] = bytes.IndexByte(b, leads[k])
	}
	for {
		i, lead := -1, -1
		for k := 0; k < len(leads); k++ {
			if next[k] >= 0 && (i < 0 || next[k] < i) {
				i, lead = next[k], k
			}
		}
		if i < 0 {
			return -1, 0
		}
		switch c := b[i]; {
		case c == 0xc2:
			if i+1 < len(b) && b[i+1] == 0x85 {
				return i, 2
			}
		case c == 0xe2:
			if i+2 < len(b) && b[i+1] == 0x80 && (b[i+2] == 0xa8 || b[i+2] == 0xa9) {
				return i, 3
			}
		default:
			return i, 1
		}
		if j := bytes.IndexByte(b[i+1:], leads[lead]); j >= 0 {
			next[lead] = i + 1 + j
		} else {
			next[lead] = -1
		}
	}
}

// pathsLabel names a file that only adds paths.
func pathsLabel(base string) string {
	lower := strings.ToLower(base)
	switch {
	case lower == "easy-install.pth":
		return "easy-install"
	case lower == "pywin32.pth":
		return "pywin32"
	case strings.HasPrefix(lower, "homebrew"):
		return "homebrew"
	case strings.HasPrefix(lower, "__editable__."), strings.HasPrefix(lower, "_"):
		return "editable" // setuptools strict mode, hatchling, uv_build, pdm-backend
	}
	return "paths-only"
}

// excerpt escapes s for a terminal and cuts it to at most max bytes, ending
// with "…" when cut; an escape sequence is never split.
func excerpt(s string, max int) string {
	const ell = "…"
	var b strings.Builder
	cut := 0 // length of b at the last piece boundary that leaves room for ell
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		piece := sanitize.Terminal(s[i : i+size])
		if b.Len()+len(piece) > max {
			return b.String()[:cut] + ell
		}
		b.WriteString(piece)
		if b.Len() <= max-len(ell) {
			cut = b.Len()
		}
		i += size
	}
	return b.String()
}

// --- suspicious markers ---------------------------------------------------

type pthMarker struct {
	name string
	// words are lower-case needles; the marker is found when one occurs.
	// A needle ending in "(" is a call: a word boundary before it, and
	// optional blanks between the name and "(". A needle wrapped in "\b" is
	// a whole word. Others are plain substrings.
	words []string
}

// pthMarkers are checked against the lower-cased executable line. Plain
// substring and word searches keep this linear and fast (the same markers as
// regexps took ~14x longer on the 34 KB litellm line).
var pthMarkers = []pthMarker{
	{"subprocess", []string{"subprocess"}},
	{"exec", []string{"exec("}},
	{"eval", []string{"eval("}},
	{"base64", []string{"base64"}},
	{"b64decode", []string{"b64decode"}},
	{"socket", []string{"socket"}},
	{"urllib", []string{"urllib"}},
	{"http", []string{"http"}},
	{"requests", []string{`\brequests\b`}},
	{"os.system", []string{"os.system"}},
	{"popen", []string{"popen"}},
	{"marshal", []string{"marshal"}},
	{"zlib", []string{"zlib"}},
	{"codecs", []string{"codecs"}},
	{"compile", []string{"compile("}},
	{"__import__('os')", nil}, // see importsOS
	{"ctypes", []string{"ctypes"}},
	{"pickle", []string{"pickle"}},
	{"sys.executable", []string{"sys.executable"}},
	{"devnull", []string{"devnull"}},
	{"tmp-path", []string{"/tmp/"}},
	{"fromhex", []string{"fromhex"}},
	{"downloader", []string{`\bcurl\b`, `\bwget\b`}},
	{"detach", []string{"start_new_session", `\bsetsid\b`, `\bnohup\b`, `\bdaemon\b`}},
	// Computed, not matched: see pthScan.
	{"long-line", nil},
	{"hex-escapes", nil},
	{"base64-blob", nil},
}

// Indexes of the markers pthScan computes itself.
const (
	markerImportOS   = 15
	markerLongLine   = 24
	markerHexEscapes = 25
	markerBase64Blob = 26
)

// hasNeedle finds one pthMarker needle starting in s[from:to] (s is the
// lower-cased line; the match itself and its boundaries may reach past to).
func hasNeedle(s string, from, to int, needle string) bool {
	call := strings.HasSuffix(needle, "(")
	word := strings.HasPrefix(needle, `\b`) && strings.HasSuffix(needle, `\b`)
	name := strings.TrimSuffix(needle, "(")
	if word {
		name = needle[2 : len(needle)-2]
	}
	end := min(len(s), to+len(name)-1)
	for off := from; off < end; {
		i := strings.Index(s[off:end], name)
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if !call && !word {
			return true
		}
		if i > 0 && isWordByte(s[i-1]) {
			continue
		}
		j := i + len(name)
		if word {
			if j == len(s) || !isWordByte(s[j]) {
				return true
			}
			continue
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if j < len(s) && s[j] == '(' {
			return true
		}
	}
	return false
}

func isWordByte(c byte) bool { return isAlnum(c) || c == '_' }

// importsOS finds __import__('os') / __import__ ( "os" ) starting in
// s[from:to].
func importsOS(s string, from, to int) bool {
	const name = "__import__"
	end := min(len(s), to+len(name)-1)
	for off := from; off < end; {
		i := strings.Index(s[off:end], name)
		if i < 0 {
			return false
		}
		j := off + i + len(name)
		off = off + i + 1
		j = skipBlanks(s, j)
		if j >= len(s) || s[j] != '(' {
			continue
		}
		j = skipBlanks(s, j+1)
		if j+4 > len(s) || (s[j] != '\'' && s[j] != '"') || s[j+1:j+3] != "os" || s[j+3] != s[j] {
			continue
		}
		if j = skipBlanks(s, j+4); j < len(s) && s[j] == ')' {
			return true
		}
	}
	return false
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// Runs of at least blobRun base64-alphabet bytes are blobs: marker search
// skips their interior (all but blobEdge bytes at each end), which holds
// encoded data rather than code and would otherwise cost most of the time.
const (
	blobRun  = 200
	blobEdge = 32
)

type span struct{ from, to int }

// pthScan returns the marker bits found in one executable line.
func pthScan(line string) uint64 {
	var bits uint64
	// One pass: ASCII lower-casing (needles are ASCII), \xNN / \uNNNN
	// escapes, and the runs of base64 alphabet.
	buf := make([]byte, len(line))
	hexes, run := 0, 0
	var windows []span // where needles are searched
	next := 0          // start of the current window
	endRun := func(end int) {
		if run >= blobRun {
			if s := end - run + blobEdge; s > next {
				windows = append(windows, span{next, s})
			}
			next = end - blobEdge
		}
		run = 0
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
		if c == '\\' && i+3 < len(line) && (line[i+1]|0x20 == 'x' || line[i+1]|0x20 == 'u') && isHex(line[i+2]|0x20) && isHex(line[i+3]|0x20) {
			hexes++
		}
		if b64Alphabet[c] {
			run++
		} else if run > 0 {
			endRun(i)
		}
	}
	blob := run >= blobRun || next > 0
	endRun(len(line))
	if next < len(line) {
		windows = append(windows, span{next, len(line)})
	}
	lower := string(buf)
	for i, m := range pthMarkers {
	needles:
		for _, w := range m.words {
			for _, win := range windows {
				if hasNeedle(lower, win.from, win.to, w) {
					bits |= 1 << i
					break needles
				}
			}
		}
	}
	for _, win := range windows {
		if importsOS(lower, win.from, win.to) {
			bits |= 1 << markerImportOS
			break
		}
	}
	if len(line) > pthLongLine {
		bits |= 1 << markerLongLine
	}
	if hexes >= 8 {
		bits |= 1 << markerHexEscapes
	}
	if blob {
		bits |= 1 << markerBase64Blob
	}
	return bits
}

func isHex(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'f') }

func markerNames(bits uint64) []string {
	var out []string
	for i, m := range pthMarkers {
		if bits&(1<<i) != 0 {
			out = append(out, m.name)
		}
	}
	return out
}

// --- benign recognisers ---------------------------------------------------

// Whole-line shapes, compared after removing spaces and tabs and a trailing
// ";" (the lines are fixed code without string literals that hold spaces).
var pthCompactShapes = map[string]string{
	// setuptools >= 60 (distutils-precedence.pth, 151 bytes with its newline,
	// sha256 2638ce9e...d224) and 49.x-59.x, whose default was 'stdlib'.
	compactPy("import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); "):  "distutils-precedence",
	compactPy("import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'stdlib') == 'local'; enabled and __import__('_distutils_hack').add_shim(); "): "distutils-precedence",
	// virtualenv (and uv) _virtualenv.pth.
	"import_virtualenv": "virtualenv",
	// setuptools easy_install / virtualenvwrapper's path file bracket lines.
	compactPy("import sys; sys.__plen = len(sys.path)"): "easy-install",
	compactPy("import sys; new=sys.path[sys.__plen:]; del sys.path[sys.__plen:]; p=getattr(sys,'__egginsert',0); sys.path[p:p]=new; sys.__egginsert = p+len(new)"): "easy-install",
	// coverage.py's documented subprocess hook (coverage_subprocess.pth etc.).
	compactPy("import coverage; coverage.process_startup()"): "coverage",
	// pywin32.pth: 228+, and the 225-227 PATH fix-up line.
	"importpywin32_bootstrap": "pywin32",
	compactPy(`import os; pywin32_system32 = os.path.join(sitedir,"pywin32_system32"); os.environ["PATH"] += ("" if pywin32_system32 in os.environ["PATH"] else (";" + pywin32_system32)); getattr(os, "add_dll_directory", lambda x: None)(pywin32_system32)`): "pywin32",
}

// compactPy removes spaces and tabs and trailing semicolons.
var blanksRemover = strings.NewReplacer(" ", "", "\t", "")

func compactPy(s string) string {
	s = blanksRemover.Replace(s)
	return strings.TrimRight(s, ";")
}

var (
	// setuptools editable: import __editable___<id>_finder; __editable___<id>_finder.install()
	reEditableFinder = regexp.MustCompile(`^import[ \t]+(__editable___[A-Za-z0-9_]+_finder)[ \t]*;[ \t]*(__editable___[A-Za-z0-9_]+_finder)\.install\(\)[ \t]*;?[ \t]*$`)
	// editables (hatchling, pdm-backend): import _editable_impl_<name>
	reEditableImpl = regexp.MustCompile(`^import[ \t]+_editable_impl_[A-Za-z0-9_]+[ \t]*;?[ \t]*$`)
	// Homebrew formulae: import site; site.addsitedir('<path>')
	reHomebrew = regexp.MustCompile(`^import[ \t]+site[ \t]*;[ \t]*site\.addsitedir\('[^'\\\n]*'\)[ \t]*;?[ \t]*$`)
)

// benignPthLine names the recogniser one executable line matches, or "".
func benignPthLine(base, line string) string {
	if len(line) > pthRecogniseMax {
		return ""
	}
	line = strings.TrimRight(line, " \t")
	if f, ok := pthCompactShapes[compactPy(line)]; ok {
		return f
	}
	if m := reEditableFinder.FindStringSubmatch(line); m != nil && m[1] == m[2] {
		return "editable"
	}
	if reEditableImpl.MatchString(line) {
		return "editable"
	}
	if strings.HasPrefix(strings.ToLower(base), "homebrew-") && reHomebrew.MatchString(line) {
		return "homebrew"
	}
	if isNspkgLine(line) {
		return "nspkg"
	}
	if f := execLiteralFamily(line); f != "" {
		return f
	}
	return ""
}

// --- setuptools namespace-package lines (*-nspkg.pth) ----------------------

const (
	nsIdent = `[A-Za-z_][A-Za-z0-9_]*`
	nsPkg   = `'(` + nsIdent + `(?:\.` + nsIdent + `)*)'`
	nsTuple = `\(((?:'` + nsIdent + `',[ ]*)*'` + nsIdent + `',?)\)`
	nsRoot  = `(?:sys\._getframe\(1\)\.f_locals\['sitedir'\]|'(?:[^'\\\n]|\\\\)*')`
)

// The statements of setuptools' namespaces.py templates, three generations:
// pep420 (< 31), has_mfs (31-6x) and the Python-3-only one. Every statement
// of a line must match one of these and the package names must agree.
var nspkgStatements = []*regexp.Regexp{
	regexp.MustCompile(`^import sys,\s*types,\s*os$`),
	regexp.MustCompile(`^pep420\s*=\s*sys\.version_info\s*>\s*\(3,\s*3\)$`),
	regexp.MustCompile(`^has_mfs\s*=\s*sys\.version_info\s*>\s*\(3,\s*5\)$`),
	regexp.MustCompile(`^p\s*=\s*os\.path\.join\(` + nsRoot + `,\s*\*` + nsTuple + `\)$`),
	regexp.MustCompile(`^ie\s*=\s*os\.path\.exists\(os\.path\.join\(p,\s*'__init__\.py'\)\)$`),
	regexp.MustCompile(`^importlib\s*=\s*(?:has_mfs and\s+)?__import__\('importlib\.util'\)$`),
	regexp.MustCompile(`^(?:has_mfs and\s+)?__import__\('importlib\.machinery'\)$`),
	regexp.MustCompile(`^m\s*=\s*(?:has_mfs and\s+)?sys\.modules\.setdefault\(` + nsPkg + `,\s*importlib\.util\.module_from_spec\(importlib\.machinery\.PathFinder\.find_spec\(` + nsPkg + `,\s*\[os\.path\.dirname\(p\)\]\)\)\)$`),
	regexp.MustCompile(`^m\s*=\s*m or\s+(?:not has_mfs and\s+)?sys\.modules\.setdefault\(` + nsPkg + `,\s*types\.ModuleType\(` + nsPkg + `\)\)$`),
	regexp.MustCompile(`^m\s*=\s*not ie and\s+(?:not pep420 and\s+)?sys\.modules\.setdefault\(` + nsPkg + `,\s*types\.ModuleType\(` + nsPkg + `\)\)$`),
	regexp.MustCompile(`^mp\s*=\s*\(m or \[\]\) and m\.__dict__\.setdefault\('__path__',\s*\[\]\)$`),
	regexp.MustCompile(`^\(p not in mp\) and mp\.append\(p\)$`),
	regexp.MustCompile(`^m and setattr\(sys\.modules\[` + nsPkg + `\],\s*'(` + nsIdent + `)',\s*m\)$`),
}

const (
	nsImport  = 0
	nsPath    = 3
	nsMp      = 10
	nsAppend  = 11
	nsSetattr = 12
)

func isNspkgLine(line string) bool {
	stmts := strings.Split(line, ";")
	if n := len(stmts); n > 1 && strings.TrimSpace(stmts[n-1]) == "" {
		stmts = stmts[:n-1]
	}
	if len(stmts) < 4 || len(stmts) > 16 {
		return false
	}
	var seen [13]bool
	pkg := ""
	var names []string // every package name a statement mentions
	var setattr []string
	for i, st := range stmts {
		st = strings.TrimSpace(st)
		matched := false
		for k, re := range nspkgStatements {
			m := re.FindStringSubmatch(st)
			if m == nil {
				continue
			}
			if k == nsImport && i != 0 {
				return false
			}
			matched, seen[k] = true, true
			switch k {
			case nsPath:
				parts := strings.Split(m[1], ",")
				var segs []string
				for _, p := range parts {
					if p = strings.Trim(strings.TrimSpace(p), "'"); p != "" {
						segs = append(segs, p)
					}
				}
				pkg = strings.Join(segs, ".")
			case nsSetattr:
				setattr = m[1:3]
			default:
				names = append(names, m[1:]...)
			}
			break
		}
		if !matched {
			return false
		}
	}
	if !seen[nsImport] || !seen[nsPath] || !seen[nsMp] || !seen[nsAppend] || pkg == "" {
		return false
	}
	for _, n := range names {
		if n != "" && n != pkg {
			return false
		}
	}
	if setattr != nil {
		i := strings.LastIndexByte(pkg, '.')
		if i < 0 || setattr[0] != pkg[:i] || setattr[1] != pkg[i+1:] {
			return false
		}
	}
	return true
}

// --- import ...; exec('<literal>') files: coverage and pytest-cov ----------

var reExecLiteralHead = regexp.MustCompile(`^import[ \t]+(?:sys|os,[ \t]*sys|sys,[ \t]*os)[ \t]*;[ \t]*exec\(`)

// Lines (after trimming) the decoded literal may hold, per family. Every line
// is harmless on its own, so no arrangement of them is dangerous.
var (
	coverageLines = lineSet(
		`import os`,
		`if os.getenv("COVERAGE_PROCESS_START") or os.getenv("COVERAGE_PROCESS_CONFIG"):`,
		`if os.getenv("COVERAGE_PROCESS_START"):`,
		`try:`,
		`import coverage`,
		`except:`,
		`except ImportError:`,
		`except Exception:`,
		`pass`,
		`else:`,
		`coverage.process_startup(slug="pth")`,
		`coverage.process_startup()`,
	)
	// pytest-cov's src/pytest-cov.embed, both generations (2.6-2.9 with the
	// pkg_resources entry-point reordering, 2.10-6.x without).
	pytestCovLines = lineSet(
		`try:`,
		`import pkg_resources`,
		`except ImportError:`,
		`pass`,
		`else:`,
		`def reordered_iter_entry_points(group, name=None, __original=pkg_resources.iter_entry_points):`,
		`if group == 'pytest11' and name is None:`,
		`delayed_entrypoints = []`,
		`for ep in __original(group):`,
		`if ep.name == 'pytest_cov':`,
		`yield ep`,
		`for delayed_ep in delayed_entrypoints:`,
		`yield delayed_ep`,
		`delayed_entrypoints = None`,
		`elif delayed_entrypoints is None:`,
		`delayed_entrypoints.append(ep)`,
		`for ep in __original(group, name):`,
		`pkg_resources.iter_entry_points = reordered_iter_entry_points`,
		`if 'COV_CORE_SOURCE' in os.environ:`,
		`from pytest_cov.embed import init`,
		`init()`,
		`except Exception as exc:`,
		`sys.stderr.write(`,
		`"pytest-cov: Failed to setup subprocess coverage. "`,
		`"Environ: {0!r} "`,
		`"Exception: {1!r}\n".format(`,
		`dict((k, v) for k, v in os.environ.items() if k.startswith('COV_CORE')),`,
		`exc`,
		`)`,
	)
)

func lineSet(lines ...string) map[string]bool {
	m := make(map[string]bool, len(lines))
	for _, l := range lines {
		m[l] = true
	}
	return m
}

// execLiteralFamily recognises `import sys; exec('<code>')` lines whose code
// is coverage's or pytest-cov's subprocess hook.
func execLiteralFamily(line string) string {
	loc := reExecLiteralHead.FindStringIndex(line)
	if loc == nil {
		return ""
	}
	code, rest, ok := pyStringLiteral(line[loc[1]:])
	if !ok {
		return ""
	}
	rest = strings.TrimSpace(rest)
	if !strings.HasPrefix(rest, ")") || strings.Trim(rest[1:], " \t;") != "" {
		return ""
	}
	for _, fam := range []struct {
		name string
		set  map[string]bool
		need string
	}{
		{"coverage", coverageLines, "import coverage"},
		{"pytest-cov", pytestCovLines, "from pytest_cov.embed import init"},
	} {
		all, found := true, false
		for _, l := range strings.Split(code, "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			if !fam.set[l] {
				all = false
				break
			}
			found = found || l == fam.need
		}
		if all && found {
			return fam.name
		}
	}
	return ""
}

// pyStringLiteral decodes a plain (unprefixed) single-line Python string
// literal at the start of s, accepting only the escapes \n \t \\ \' \".
func pyStringLiteral(s string) (value, rest string, ok bool) {
	if s == "" || (s[0] != '\'' && s[0] != '"') {
		return "", "", false
	}
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			return b.String(), s[i+1:], true
		case c == '\\':
			if i+1 >= len(s) {
				return "", "", false
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(s[i])
			default:
				return "", "", false
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// b64Alphabet holds the bytes of both base64 alphabets and "=".
var b64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_") {
		t[c] = true
	}
	return t
}()
