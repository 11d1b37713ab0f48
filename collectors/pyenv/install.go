package pyenv

import (
	"strings"
)

const (
	maxCommandLen    = 64 << 10 // command text looked at by InstallPins
	maxShellWords    = 4096     // words per simple command
	maxShellDepth    = 2        // nested "sh -c '...'" levels
	maxShellSegments = 1024
)

// InstallPins extracts package requirements from one install command line:
// pip/pip3/python -m pip install, uv pip install, uv add, uv tool install,
// uv run --with, uvx / uv tool run (--from, --with or the tool spec), pipx
// install/inject/run, poetry add, pdm add, conda/mamba/micromamba
// install/create/update (name=version, name==version), easy_install,
// including -U/--upgrade and multiple packages and `&&`/`;`/`|` chains,
// sudo/env/time prefixes, "sh -c '...'", Jupyter "!pip"/"%pip" and
// Dockerfile "RUN". It returns nil for non-install commands. Line is 0.
// Requirement files (-r) are not followed.
func InstallPins(cmd string) []Pin {
	var pins pinList
	installPins(&pins, clip(cmd, maxCommandLen), 0)
	return nilIfEmpty(pins)
}

func installPins(pins *pinList, cmd string, depth int) {
	for _, words := range shellSplit(cmd) {
		if pins.full() {
			return
		}
		simpleCommandPins(pins, words, depth)
	}
}

// shellSplit splits a command line into simple commands (on unquoted
// newlines, ;, &, |, (, ), backquotes and "$(") and each into words, with
// POSIX quoting: '...' literal, "..." with \" \\ \$ \` escapes, backslash
// escapes and line continuations outside quotes, and # comments.
func shellSplit(s string) [][]string {
	var out [][]string
	var words []string
	var w strings.Builder
	inWord := false
	endWord := func() {
		if inWord && len(words) < maxShellWords {
			words = append(words, w.String())
		}
		w.Reset()
		inWord = false
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 && len(out) < maxShellSegments {
			out = append(out, words)
		}
		words = nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		case c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`':
			endCmd()
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			endCmd()
			i++
		case c == '#' && !inWord:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			endCmd()
		case c == '\\':
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					w.WriteByte(s[i])
					inWord = true
				}
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				w.WriteString(s[i+1:])
				i = len(s)
				break
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				w.WriteByte(s[i])
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return out
}

// Options that take a value as the next word (when not written --opt=value
// or -Xvalue), over pip, uv, pipx, poetry, pdm and conda. Options that carry
// a requirement are handled separately (reqOptions).
var valueOptions = map[string]bool{
	// pip and uv pip
	"-r": true, "--requirement": true, "--requirements": true, "-c": true, "--constraint": true, "--constraints": true,
	"--overrides": true, "--override": true, "-b": true, "--build-constraints": true, "--build-constraint": true,
	"-i": true, "--index-url": true, "--extra-index-url": true, "--index": true, "--default-index": true,
	"-f": true, "--find-links": true, "-t": true, "--target": true, "--prefix": true, "--root": true, "--src": true,
	"--upgrade-strategy": true, "--platform": true, "--python-version": true, "--python-platform": true,
	"--implementation": true, "--abi": true, "--no-binary": true, "--only-binary": true, "--progress-bar": true,
	"--trusted-host": true, "--proxy": true, "--cert": true, "--client-cert": true, "--cache-dir": true,
	"--log": true, "--log-file": true, "--timeout": true, "--retries": true, "--exists-action": true,
	"-C": true, "--config-settings": true, "--config-setting": true, "--global-option": true, "--install-option": true,
	"--python": true, "-p": true, "--report": true, "--root-user-action": true, "--use-feature": true,
	"--use-deprecated": true, "--keyring-provider": true, "--resume-retries": true, "--group": true,
	"--extra": true, "-P": true, "--upgrade-package": true, "--reinstall-package": true, "--refresh-package": true,
	"--no-binary-package": true, "--no-build-package": true, "--exclude-newer": true, "--resolution": true,
	"--prerelease": true, "--index-strategy": true, "--link-mode": true, "--config-file": true,
	"--directory": true, "--project": true, "--color": true, "--torch-backend": true, "--allow-insecure-host": true,
	// uv add / uv tool
	"--optional": true, "--package": true, "--tag": true, "--branch": true, "--rev": true, "--bounds": true,
	"--script": true, "-m": true, "--marker": true, "--with-requirements": true, "--with-editable": true,
	// pipx
	"--pip-args": true, "--suffix": true, "--backend": true,
	// poetry and pdm
	"-G": true, "-E": true, "--extras": true, "--source": true, "--markers": true, "-L": true, "--lockfile": true,
	"--strategy": true, "--venv": true,
	// conda, mamba, micromamba
	"-n": true, "--name": true, "--channel": true, "--file": true, "--solver": true, "--repodata-fn": true,
	"--subdir": true, "--platform-override": true, "--root-prefix": true,
}

// Options whose value is itself a requirement.
var reqOptions = map[string]bool{
	"-e": true, "--editable": true, "--from": true, "-w": true, "--with": true, "--spec": true, "--preinstall": true,
}

// argsOf splits a tool's words into positional arguments and requirement
// option values, skipping other options and their values.
func argsOf(words []string) (positional, reqValues []string) {
	for i := 0; i < len(words); i++ {
		a := words[i]
		if a == "--" {
			positional = append(positional, words[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := a, "", false
		if strings.HasPrefix(a, "--") {
			if n, v, ok := strings.Cut(a, "="); ok {
				name, value, hasValue = n, v, true
			}
		} else if len(a) > 2 {
			// -Xvalue: only for single-letter options that take values.
			if reqOptions[a[:2]] || valueOptions[a[:2]] {
				name, value, hasValue = a[:2], a[2:], true
			}
		}
		takes := reqOptions[name] || valueOptions[name]
		if takes && !hasValue && i+1 < len(words) {
			value, hasValue = words[i+1], true
			i++
		}
		if hasValue && reqOptions[name] {
			reqValues = append(reqValues, value)
		}
	}
	return positional, reqValues
}

func simpleCommandPins(pins *pinList, words []string, depth int) {
	i := skipPrefixes(words)
	if i >= len(words) {
		return
	}
	prog := words[i]
	if len(prog) > 1 && (prog[0] == '!' || prog[0] == '%') { // Jupyter
		prog = prog[1:]
	}
	tool := toolName(prog)
	args := words[i+1:]
	switch {
	case tool == "sh" || tool == "bash" || tool == "zsh" || tool == "dash" || tool == "ksh":
		for k, a := range args {
			if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") {
				if k+1 < len(args) && depth < maxShellDepth {
					installPins(pins, args[k+1], depth+1)
				}
				return
			}
		}
		return
	case isPythonProgram(tool):
		mod, rest, ok := pythonModule(args)
		if !ok {
			return
		}
		tool, args = mod, rest
	}
	switch {
	case isPipProgram(tool):
		sub, rest := subcommand(args)
		if sub == "install" {
			addArgPins(pins, rest, pep508Style)
		}
	case tool == "uv":
		sub, rest := subcommand(args)
		switch sub {
		case "pip":
			if s2, rest2 := subcommand(rest); s2 == "install" {
				addArgPins(pins, rest2, pep508Style)
			}
		case "add":
			addArgPins(pins, rest, pep508Style)
		case "tool":
			s2, rest2 := subcommand(rest)
			switch s2 {
			case "install":
				addArgPins(pins, rest2, toolStyle)
			case "run":
				addToolRunPins(pins, rest2)
			}
		case "run":
			_, reqs := argsOf(rest)
			addReqOptionPins(pins, reqs)
		}
	case tool == "uvx":
		addToolRunPins(pins, args)
	case tool == "pipx":
		sub, rest := subcommand(args)
		switch sub {
		case "install":
			addArgPins(pins, rest, toolStyle)
		case "inject":
			pos, reqs := argsOf(rest)
			if len(pos) > 1 {
				addPositionalPins(pins, pos[1:], toolStyle)
			}
			addReqOptionPins(pins, reqs)
		case "run":
			addToolRunPins(pins, rest)
		}
	case tool == "poetry" || tool == "pdm":
		if sub, rest := subcommand(args); sub == "add" {
			addArgPins(pins, rest, toolStyle)
		}
	case tool == "conda" || tool == "mamba" || tool == "micromamba":
		switch sub, rest := subcommand(args); sub {
		case "install", "create", "update", "upgrade":
			pos, _ := argsOf(rest)
			addPositionalPins(pins, pos, condaStyle)
		}
	case tool == "easy_install":
		addArgPins(pins, args, pep508Style)
	}
}

// skipPrefixes returns the index of the program word after environment
// assignments and wrappers (sudo, env, time, nohup, nice, exec, command,
// Dockerfile RUN, shell keywords).
func skipPrefixes(words []string) int {
	i := 0
	for i < len(words) {
		w := words[i]
		switch {
		case isAssignment(w):
			i++
		case w == "sudo" || w == "doas":
			i++
			for i < len(words) && strings.HasPrefix(words[i], "-") {
				opt := words[i]
				i++
				if opt == "--" {
					break
				}
				if len(opt) == 2 && strings.Contains("ugCDprtUTh", opt[1:]) && opt != "-h" {
					i++ // option with a value
				}
			}
		case w == "env":
			i++
			for i < len(words) && (strings.HasPrefix(words[i], "-") || isAssignment(words[i])) {
				if words[i] == "-u" || words[i] == "-C" || words[i] == "-S" {
					i++
				}
				i++
			}
		case w == "nice" || w == "timeout":
			i++
			for i < len(words) && strings.HasPrefix(words[i], "-") {
				if words[i] == "-n" || words[i] == "-s" || words[i] == "-k" {
					i++
				}
				i++
			}
			if w == "timeout" && i < len(words) {
				i++ // the duration
			}
		case w == "RUN":
			i++
			for i < len(words) && strings.HasPrefix(words[i], "--") { // RUN --mount=...
				i++
			}
		case w == "time" || w == "nohup" || w == "exec" || w == "command" || w == "builtin" ||
			w == "then" || w == "do" || w == "else" || w == "!" || w == "{" || w == "xargs" || w == "stdbuf":
			i++
			for w == "xargs" && i < len(words) && strings.HasPrefix(words[i], "-") {
				i++
			}
		default:
			return i
		}
	}
	return i
}

func isAssignment(w string) bool {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 {
		return false
	}
	for k := 0; k < eq; k++ {
		c := w[k]
		if !(c == '_' || isAlnum(c)) || (k == 0 && isDigit(c)) {
			return false
		}
	}
	return true
}

// toolName is the lower-cased base name of a program without ".exe".
func toolName(prog string) string {
	t := strings.ToLower(baseName(prog))
	return strings.TrimSuffix(t, ".exe")
}

// isPipProgram: pip, pip3, pip3.11.
func isPipProgram(t string) bool {
	rest, ok := strings.CutPrefix(t, "pip")
	if !ok {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isDigit(rest[i]) && rest[i] != '.' {
			return false
		}
	}
	return true
}

// isPythonProgram: python, python3, python3.11, py, pypy3.
func isPythonProgram(t string) bool {
	var rest string
	switch {
	case t == "py":
		return true
	case strings.HasPrefix(t, "python"):
		rest = t[len("python"):]
	case strings.HasPrefix(t, "pypy"):
		rest = t[len("pypy"):]
	default:
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !isDigit(rest[i]) && rest[i] != '.' {
			return false
		}
	}
	return true
}

// pythonModule finds "-m module" in an interpreter's arguments.
func pythonModule(args []string) (mod string, rest []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-m" && i+1 < len(args):
			return strings.ToLower(args[i+1]), args[i+2:], true
		case strings.HasPrefix(a, "-m") && len(a) > 2:
			return strings.ToLower(a[2:]), args[i+1:], true
		case a == "-c" || !strings.HasPrefix(a, "-"):
			return "", nil, false // code string or script
		case a == "-X" || a == "-W" || a == "-Q":
			i++
		}
	}
	return "", nil, false
}

// subcommand returns the first positional argument and the words after it,
// skipping global options (and the values of those known to take one).
func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return strings.ToLower(a), args[i+1:]
		}
		if !strings.Contains(a, "=") && (valueOptions[a] || reqOptions[a]) && a != "-m" {
			i++
		}
	}
	return "", nil
}

type argStyle int

const (
	pep508Style argStyle = iota // pip, uv: PEP 508 and URLs
	toolStyle                   // poetry, pdm, pipx, uv tool: also name@version
	condaStyle                  // conda MatchSpec: name=version, name==version
)

func addArgPins(pins *pinList, args []string, style argStyle) {
	pos, reqs := argsOf(args)
	addPositionalPins(pins, pos, style)
	addReqOptionPins(pins, reqs)
}

func addReqOptionPins(pins *pinList, reqs []string) {
	for _, r := range reqs {
		for _, part := range strings.Split(r, ",") { // uvx --with a,b
			addPositionalPins(pins, []string{part}, toolStyle)
		}
	}
}

// addToolRunPins: uvx/pipx run take --from/--spec/--with; without --from or
// --spec the first positional is the tool spec.
func addToolRunPins(pins *pinList, args []string) {
	pos, reqs := argsOf(args)
	from := false
	for _, a := range args {
		if a == "--from" || a == "--spec" || strings.HasPrefix(a, "--from=") || strings.HasPrefix(a, "--spec=") {
			from = true
		}
	}
	if !from && len(pos) > 0 {
		addPositionalPins(pins, pos[:1], toolStyle)
	}
	addReqOptionPins(pins, reqs)
}

func addPositionalPins(pins *pinList, args []string, style argStyle) {
	for _, a := range args {
		if pins.full() {
			return
		}
		a = strings.TrimSpace(a)
		if a == "" || a == "." || a == ".." || strings.ContainsAny(a[:1], "$`") {
			continue
		}
		var r requirement
		var ok bool
		switch style {
		case condaStyle:
			r, ok = parseCondaSpec(a)
		case toolStyle:
			r, ok = parseToolSpec(a)
		default:
			r, ok = parseRequirement(a)
		}
		if ok {
			pins.add(Pin{Name: r.name, Version: r.version, Spec: a})
		}
	}
}

// parseToolSpec accepts PEP 508 and Poetry/uvx "name@version" (exact when
// the part after "@" is a plain version; "name@^1.80", "@latest" are not).
func parseToolSpec(s string) (requirement, bool) {
	if at := strings.IndexByte(s, '@'); at > 0 && !strings.Contains(s, "://") && !strings.ContainsAny(s[:at], " ") {
		name, c := s[:at], strings.TrimSpace(s[at+1:])
		base, _, _ := strings.Cut(name, "[")
		if validName(base) {
			return requirement{name: NormalizeName(base), version: poetryExact(c), spec: s}, true
		}
	}
	return parseRequirement(s)
}

// parseCondaSpec parses a conda MatchSpec as typed on a command line:
// "litellm=1.82.7", "litellm==1.82.7", "litellm=1.82.7=py_0",
// "conda-forge::litellm=1.82.7", "litellm>=1.80", "litellm 1.82.7".
// "=X" is taken as exact unless X holds a wildcard.
func parseCondaSpec(s string) (requirement, bool) {
	spec := s
	if i := strings.LastIndex(spec, "::"); i >= 0 {
		spec = spec[i+2:]
	}
	i := 0
	for i < len(spec) && (isAlnum(spec[i]) || spec[i] == '.' || spec[i] == '_' || spec[i] == '-') {
		i++
	}
	name := spec[:i]
	if !validName(name) {
		return requirement{}, false
	}
	rest := strings.TrimSpace(spec[i:])
	r := requirement{name: NormalizeName(name), spec: s}
	switch {
	case rest == "":
	case strings.HasPrefix(rest, "=="):
		v, _, _ := strings.Cut(rest[2:], "=")
		if validVersion(v) {
			r.version = v
		}
	case strings.HasPrefix(rest, "="):
		v, _, _ := strings.Cut(rest[1:], "=")
		if validVersion(v) {
			r.version = v
		}
	case isDigit(rest[0]): // "litellm 1.82.7"
		v, _, _ := strings.Cut(rest, " ")
		if validVersion(v) {
			r.version = v
		}
	case strings.ContainsAny(rest[:1], "<>!~[*"):
	default:
		return requirement{}, false
	}
	return r, true
}
