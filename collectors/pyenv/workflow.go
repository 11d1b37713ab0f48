package pyenv

import (
	"strings"
)

// Use is one `uses:` reference in a GitHub Actions workflow (or composite
// action).
type Use struct {
	Action string // "owner/repo", lower-cased
	Path   string // sub-directory ("owner/repo/sub@ref"), as written; "" if none
	Ref    string // tag, branch or SHA as written; "" if the reference has no "@"
	Line   int    // 1-based
	Raw    string // the value as written (unquoted), cut to 4 KiB
}

// ParseWorkflowUses finds every `uses:` key in a workflow file, line by
// line, so that a file YAML would reject still yields its references.
// Action is "owner/repo" (lower-cased), Path the sub-directory if any
// ("owner/repo/sub@ref"), Ref as written (tag, branch or SHA). Local "./"
// and "docker://" uses are skipped, as are values that are not owner/repo
// references (expressions). Quotes, trailing comments, the `- uses:` list
// form, `uses:` inside steps and flow mappings (`- {uses: a/b@v1}`) are
// handled; the content of block scalars (`run: |`) is not read. At most
// 10,000 uses are returned.
func ParseWorkflowUses(data []byte) []Use {
	var out []Use
	blockIndent := -1 // >= 0 while inside a block scalar whose key is at this column
	eachLine(data, func(n int, line string) bool {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		trimmed := strings.TrimSpace(line)
		if blockIndent >= 0 {
			if trimmed == "" || indent > blockIndent {
				return true
			}
			blockIndent = -1
		}
		if trimmed == "" || trimmed[0] == '#' {
			return true
		}
		// Strip list markers: "- - key: value".
		body, col := line[indent:], indent
		for strings.HasPrefix(body, "- ") || body == "-" {
			rest := strings.TrimLeft(body[1:], " ")
			col += len(body) - len(rest)
			body = rest
		}
		if v, ok := cutUsesKey(body); ok {
			if u, ok := parseUse(v, n, false); ok {
				out = append(out, u)
			}
		} else if strings.HasPrefix(body, "{") || strings.Contains(body, ": {") || strings.Contains(body, ":{") {
			for _, v := range flowUses(body) {
				if u, ok := parseUse(v, n, true); ok && len(out) < maxUses {
					out = append(out, u)
				}
			}
		}
		if isBlockScalarKey(body) {
			blockIndent = col
		}
		return len(out) < maxUses
	})
	if len(out) > maxUses {
		out = out[:maxUses]
	}
	return out
}

// cutUsesKey returns the value after a leading `uses:` (or "uses": / 'uses':).
func cutUsesKey(body string) (string, bool) {
	for _, k := range []string{"uses", `"uses"`, "'uses'"} {
		if rest, ok := strings.CutPrefix(body, k); ok {
			rest = strings.TrimLeft(rest, " \t")
			if strings.HasPrefix(rest, ":") && (len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t') {
				return rest[1:], true
			}
		}
	}
	return "", false
}

// flowUses finds `uses:` keys right after "{" or "," in a flow mapping,
// outside quoted strings.
func flowUses(body string) []string {
	var vals []string
	var quote byte
	for i := 0; i < len(body); i++ {
		c := body[i]
		if quote != 0 {
			if c == quote {
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'':
			quote = c
		case '{', ',':
			if v, ok := cutUsesKey(strings.TrimLeft(body[i+1:], " \t")); ok {
				vals = append(vals, v)
			}
		}
	}
	return vals
}

// isBlockScalarKey reports "key: |" / "key: >-" and the like.
func isBlockScalarKey(body string) bool {
	_, v, ok := strings.Cut(body, ":")
	if !ok {
		return false
	}
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	if v == "" || (v[0] != '|' && v[0] != '>') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !isDigit(v[i]) && v[i] != '-' && v[i] != '+' {
			return false
		}
	}
	return true
}

// parseUse reads a scalar value (plain, 'single' or "double" quoted, with an
// optional trailing comment; in a flow mapping a plain value also ends at
// "," or "}") and splits it into owner/repo[/path]@ref.
func parseUse(v string, line int, flow bool) (Use, bool) {
	v = strings.TrimLeft(v, " \t")
	var raw string
	switch {
	case strings.HasPrefix(v, `"`):
		end := strings.IndexByte(v[1:], '"')
		if end < 0 {
			return Use{}, false
		}
		raw = v[1 : 1+end]
	case strings.HasPrefix(v, "'"):
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return Use{}, false
		}
		raw = v[1 : 1+end]
	default:
		raw = v
		if i := strings.Index(raw, " #"); i >= 0 {
			raw = raw[:i]
		}
		if flow {
			if i := strings.IndexAny(raw, ",}"); i >= 0 {
				raw = raw[:i]
			}
		}
		raw = strings.TrimSpace(raw)
	}
	if raw == "" || strings.HasPrefix(raw, ".") || strings.HasPrefix(strings.ToLower(raw), "docker://") {
		return Use{}, false
	}
	ref := ""
	target := raw
	if at := strings.IndexByte(raw, '@'); at >= 0 {
		target, ref = raw[:at], raw[at+1:]
	}
	parts := strings.SplitN(target, "/", 3)
	if len(parts) < 2 || !validOwnerRepo(parts[0]) || !validOwnerRepo(parts[1]) {
		return Use{}, false
	}
	u := Use{
		Action: strings.ToLower(parts[0] + "/" + parts[1]),
		Ref:    clipString(ref),
		Line:   line,
		Raw:    clipString(raw),
	}
	if len(parts) == 3 {
		u.Path = clipString(parts[2])
	}
	return u, true
}

// validOwnerRepo accepts GitHub owner and repository names.
func validOwnerRepo(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
