package pyenv

import (
	"bytes"
	"encoding/json"
	"strings"
)

// ParseManifest dispatches on the base file name (requirements*.txt,
// *requirements*.txt, constraints*.txt, *.in except MANIFEST.in,
// pyproject.toml, poetry.lock, uv.lock, pdm.lock, pylock.toml,
// pylock.*.toml, Pipfile.lock, Pipfile); ok=false if the name is not a
// manifest. Names are matched case-insensitively.
func ParseManifest(name string, data []byte) (pins []Pin, ok bool) {
	base := strings.ToLower(baseName(name))
	switch {
	case base == "pyproject.toml":
		return ParsePyproject(data), true
	case base == "poetry.lock":
		return ParsePoetryLock(data), true
	case base == "uv.lock":
		return ParseUVLock(data), true
	case base == "pdm.lock":
		return ParsePDMLock(data), true
	case base == "pylock.toml", strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml"):
		return ParsePylock(data), true
	case base == "pipfile.lock":
		return ParsePipfileLock(data), true
	case base == "pipfile":
		return ParsePipfile(data), true
	case strings.HasSuffix(base, ".txt") && (strings.Contains(base, "requirements") || strings.HasPrefix(base, "constraints")):
		return ParseRequirements(data), true
	case strings.HasSuffix(base, ".in") && base != "manifest.in" && len(base) > len(".in"):
		return ParseRequirements(data), true
	}
	return nil, false
}

// ParsePoetryLock reads poetry.lock: [[package]] name = "..." version = "...".
func ParsePoetryLock(data []byte) []Pin { return parseLockPackages(data, "package") }

// ParseUVLock reads uv.lock, which has the same [[package]] shape.
func ParseUVLock(data []byte) []Pin { return parseLockPackages(data, "package") }

// ParsePDMLock reads pdm.lock, which has the same [[package]] shape.
func ParsePDMLock(data []byte) []Pin { return parseLockPackages(data, "package") }

// ParsePylock reads a PEP 751 pylock.toml: [[packages]] name/version.
func ParsePylock(data []byte) []Pin { return parseLockPackages(data, "packages") }

// parseLockPackages returns one pin per [[table]] entry that has a name.
// Version is the locked version ("" when the entry has none, e.g. a uv
// workspace member); Spec is "name version" as written; Line is the line of
// the name key.
func parseLockPackages(data []byte, table string) []Pin {
	var pins pinList
	var name, version string
	nameLine, block := 0, -1
	flush := func() {
		if name != "" {
			n := strings.TrimSpace(name)
			if validName(n) {
				spec := n
				if version != "" {
					spec += " " + version
				}
				v := strings.TrimSpace(version)
				if !validVersion(v) {
					v = ""
				}
				pins.add(Pin{Name: NormalizeName(n), Version: v, Spec: spec, Line: nameLine})
			}
		}
		name, version, nameLine = "", "", 0
	}
	readTOML(data, func(e tomlEntry) bool {
		if e.block != block {
			flush()
			block = e.block
		}
		if !e.array || len(e.header) != 1 || e.header[0] != table || len(e.key) != 1 || e.val.kind != tomlString {
			return !pins.full()
		}
		switch e.key[0] {
		case "name":
			if name == "" {
				name, nameLine = e.val.str, e.line
			}
		case "version":
			if version == "" {
				version = e.val.str
			}
		}
		return !pins.full()
	})
	flush()
	return nilIfEmpty(pins)
}

// ParsePyproject reads the dependency lists of pyproject.toml: PEP 621
// [project] dependencies and optional-dependencies, [dependency-groups]
// (PEP 735), [build-system] requires, [tool.uv] dev-, constraint- and
// override-dependencies, [tool.pdm.dev-dependencies], and Poetry's
// [tool.poetry.dependencies], [tool.poetry.dev-dependencies] and
// [tool.poetry.group.<g>.dependencies] (litellm = "1.82.7" / "==1.82.7" /
// {version = "..."}; a bare Poetry version is exact). Poetry's "python" key
// is skipped.
func ParsePyproject(data []byte) []Pin {
	var pins pinList
	readTOML(data, func(e tomlEntry) bool {
		path := append(append([]string{}, e.header...), e.key...)
		visitPyproject(&pins, path, e.val, 0)
		return !pins.full()
	})
	return nilIfEmpty(pins)
}

func visitPyproject(pins *pinList, path []string, v tomlValue, depth int) {
	if depth > tomlMaxDepth || pins.full() {
		return
	}
	switch {
	case pathIs(path, "project", "dependencies"),
		pathIs(path, "project", "optional-dependencies", "*"),
		pathIs(path, "dependency-groups", "*"),
		pathIs(path, "build-system", "requires"),
		pathIs(path, "tool", "uv", "dev-dependencies"),
		pathIs(path, "tool", "uv", "constraint-dependencies"),
		pathIs(path, "tool", "uv", "override-dependencies"),
		pathIs(path, "tool", "pdm", "dev-dependencies", "*"):
		if v.kind == tomlArray {
			for _, item := range v.items {
				if item.kind != tomlString {
					continue // {include-group = "..."}
				}
				if r, ok := parseRequirement(item.str); ok {
					pins.add(Pin{Name: r.name, Version: r.version, Spec: r.spec, Line: item.line})
				}
			}
		}
		return
	case pathIs(path, "tool", "poetry", "dependencies", "*"),
		pathIs(path, "tool", "poetry", "dev-dependencies", "*"),
		pathIs(path, "tool", "poetry", "group", "*", "dependencies", "*"):
		name := path[len(path)-1]
		if strings.EqualFold(name, "python") {
			return
		}
		addConstraintPins(pins, name, v, poetryExact)
		return
	}
	if v.kind == tomlTable {
		for _, kv := range v.keys {
			visitPyproject(pins, append(append([]string{}, path...), kv.key...), kv.val, depth+1)
		}
	}
}

// pathIs matches a key path against a pattern where "*" is any one part.
func pathIs(path []string, pattern ...string) bool {
	if len(path) != len(pattern) {
		return false
	}
	for i, p := range pattern {
		if p != "*" && p != path[i] {
			return false
		}
	}
	return true
}

// addConstraintPins adds the pin(s) of a "name = constraint" entry, where the
// value is a string, an inline table with a "version" key (and maybe
// "extras"), or an array of those (Poetry's multiple constraints).
func addConstraintPins(pins *pinList, name string, v tomlValue, exact func(string) string) {
	if !validName(name) {
		return
	}
	switch v.kind {
	case tomlString:
		pins.add(Pin{Name: NormalizeName(name), Version: exact(v.str), Spec: name + " " + strings.TrimSpace(v.str), Line: v.line})
	case tomlTable:
		spec, version := name, ""
		if ex, ok := v.get("extras"); ok && ex.kind == tomlArray {
			var names []string
			for _, it := range ex.items {
				if it.kind == tomlString {
					names = append(names, it.str)
				}
			}
			spec += "[" + strings.Join(names, ",") + "]"
		}
		if ver, ok := v.get("version"); ok && ver.kind == tomlString {
			spec += " " + strings.TrimSpace(ver.str)
			version = exact(ver.str)
		} else {
			for _, k := range []string{"git", "path", "url", "file"} {
				if loc, ok := v.get(k); ok && loc.kind == tomlString {
					spec += " " + k + "=" + loc.str
					break
				}
			}
		}
		pins.add(Pin{Name: NormalizeName(name), Version: version, Spec: spec, Line: v.line})
	case tomlArray:
		for _, it := range v.items {
			if it.kind == tomlString || it.kind == tomlTable {
				addConstraintPins(pins, name, it, exact)
			}
		}
	}
}

// poetryExact: "1.82.7", "==1.82.7" and "=1.82.7" are exact in Poetry.
func poetryExact(c string) string {
	c = strings.TrimSpace(c)
	switch {
	case strings.HasPrefix(c, "=="):
		c = c[2:]
	case strings.HasPrefix(c, "="):
		c = c[1:]
	}
	c = strings.TrimSpace(c)
	if validVersion(c) {
		return c
	}
	return ""
}

// pipfileExact: Pipfile values are PEP 440 specifiers ("==1.82.7", "*").
func pipfileExact(c string) string {
	if v := exactVersion(c); v != "" {
		return v
	}
	if c = strings.TrimSpace(c); validVersion(c) {
		return c // a bare version, tolerated as exact
	}
	return ""
}

// ParsePipfile reads a Pipfile: [packages], [dev-packages] and custom
// package categories (any table but [source], [requires], [scripts] and
// [pipenv]), with "*", "==1.82.7" or {version = "==1.82.7", extras = [...]}.
func ParsePipfile(data []byte) []Pin {
	var pins pinList
	readTOML(data, func(e tomlEntry) bool {
		if len(e.header) != 1 || e.array || len(e.key) == 0 {
			return !pins.full()
		}
		switch e.header[0] {
		case "source", "requires", "scripts", "pipenv":
			return !pins.full()
		}
		if len(e.key) == 1 {
			addConstraintPins(&pins, e.key[0], e.val, pipfileExact)
		}
		return !pins.full()
	})
	return nilIfEmpty(pins)
}

// ParsePipfileLock reads Pipfile.lock (JSON): every top-level section but
// "_meta" ("default", "develop", custom categories) maps package names to
// {"version": "==1.82.7", ...}. Line is the line of the package's key.
// Reading stops at the first JSON error, keeping what was read.
func ParsePipfileLock(data []byte) []Pin {
	var pins pinList
	dec := json.NewDecoder(bytes.NewReader(data))
	lines := lineCounter{data: data, line: 1}
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() && !pins.full() {
		t, err := dec.Token()
		if err != nil {
			break
		}
		section, _ := t.(string)
		if section == "_meta" {
			if skipJSONValue(dec) != nil {
				break
			}
			continue
		}
		if t, err := dec.Token(); err != nil {
			break
		} else if t != json.Delim('{') {
			if d, ok := t.(json.Delim); ok && d == '[' {
				if skipJSONRest(dec, 1) != nil {
					break
				}
			}
			continue
		}
		ok := true
		for dec.More() && !pins.full() {
			off := dec.InputOffset()
			t, err := dec.Token()
			if err != nil {
				ok = false
				break
			}
			name, _ := t.(string)
			var entry struct {
				Version *string `json:"version"`
				Git     string  `json:"git"`
				Path    string  `json:"path"`
				File    string  `json:"file"`
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				ok = false
				break
			}
			if json.Unmarshal(raw, &entry) != nil || !validName(name) {
				continue
			}
			spec, version := name, ""
			if entry.Version != nil {
				spec += " " + *entry.Version
				version = exactVersion(*entry.Version)
			} else {
				for _, loc := range []string{entry.Git, entry.Path, entry.File} {
					if loc != "" {
						spec += " " + loc
						break
					}
				}
			}
			pins.add(Pin{Name: NormalizeName(name), Version: version, Spec: spec, Line: lines.at(keyOffset(data, off))})
		}
		if !ok {
			break
		}
		if _, err := dec.Token(); err != nil { // }
			break
		}
	}
	return nilIfEmpty(pins)
}

// skipJSONValue reads and drops the next value.
func skipJSONValue(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); ok && (d == '{' || d == '[') {
		return skipJSONRest(dec, 1)
	}
	return nil
}

// skipJSONRest drops tokens until depth open delimiters are closed.
func skipJSONRest(dec *json.Decoder, depth int) error {
	for depth > 0 {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

// keyOffset moves from the decoder offset before a key (which may sit on the
// preceding comma or whitespace) to the key's opening quote.
func keyOffset(data []byte, off int64) int64 {
	for off < int64(len(data)) && data[off] != '"' {
		off++
	}
	return off
}

// lineCounter turns increasing byte offsets into 1-based line numbers,
// counting newlines once.
type lineCounter struct {
	data []byte
	off  int64
	line int
}

func (c *lineCounter) at(off int64) int {
	off = min(max(off, c.off), int64(len(c.data)))
	c.line += bytes.Count(c.data[c.off:off], []byte("\n"))
	c.off = off
	return c.line
}

func nilIfEmpty(p pinList) []Pin {
	if len(p) == 0 {
		return nil
	}
	return p
}
