package credentials

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// parseDockerFile reads ~/.docker/config.json (also kaniko's and podman's
// auth.json).
func parseDockerFile(r *results, _ string, data []byte) {
	parseDocker(r, data)
	scanText(r, data, scanOpts{})
}

// parseDocker reads auths.<registry>: auth (base64 "user:password"; Secret
// is the auth value as stored, Owner user@registry), identitytoken,
// registrytoken and password. credsStore and credHelpers keep the secrets in
// a helper, not in the file.
func parseDocker(r *results, data []byte) {
	root := obj(parseJSON(data))
	auths := obj(root["auths"])
	regs := make([]string, 0, len(auths))
	for k := range auths {
		regs = append(regs, k)
	}
	sort.Strings(regs) // map order is random; results are not
	for _, reg := range regs {
		a := obj(auths[reg])
		host := hostOf(reg)
		detail := "auths " + reg
		if auth := strings.TrimSpace(jstr(a, "auth")); auth != "" && !isPlaceholder(auth) {
			f := Found{Kind: KindDockerAuth, Detail: detail}
			if raw, err := base64.StdEncoding.DecodeString(auth); err == nil {
				user, pass, _ := strings.Cut(string(raw), ":")
				f.Owner = ownerAt(user, host)
				if k, ok := tokenKind(pass); ok {
					f.Note = "password is a " + k
				}
				if pass == "" {
					f.Kind = "" // "user:" alone: the secret is elsewhere
				}
			}
			if f.Kind != "" && !r.add(f, auth) {
				return
			}
		}
		for _, k := range [...]string{"identitytoken", "registrytoken", "password"} {
			if v := jstr(a, k); v != "" && !isPlaceholder(v) && !isReference(v) {
				if !r.add(Found{Kind: KindDockerAuth, Detail: detail + " " + k, Owner: ownerAt(jstr(a, "username"), host)}, v) {
					return
				}
			}
		}
	}
}

// parseNpmrc reads .npmrc: _authToken, _auth (base64 user:password) and
// _password, scoped to a registry ("//registry.npmjs.org/:_authToken=") or
// not.
func parseNpmrc(r *results, _ string, data []byte) {
	eachLine(data, func(n int, l []byte) bool {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' || s[0] == ';' {
			return true
		}
		key, val, ok := strings.Cut(s, "=")
		if !ok {
			return true
		}
		key = strings.TrimSpace(key)
		val = unquote(strings.TrimSpace(val))
		lk := strings.ToLower(key)
		var note string
		switch {
		case strings.HasSuffix(lk, "_authtoken"):
		case strings.HasSuffix(lk, "_auth"):
			note = "base64 user:password"
		case strings.HasSuffix(lk, "_password"):
			note = "base64 password"
		default:
			return true
		}
		if val == "" || isPlaceholder(val) || isReference(val) {
			return true
		}
		return r.add(Found{Kind: KindNPMToken, Detail: "line " + strconv.Itoa(n) + ": " + key, Note: note}, val)
	})
	scanText(r, data, scanOpts{})
}

// parseYarnrc reads .yarnrc.yml: npmAuthToken and npmAuthIdent at any level.
func parseYarnrc(r *results, _ string, data []byte) {
	eachLine(data, func(n int, l []byte) bool {
		s := strings.TrimSpace(string(l))
		key, val, ok := strings.Cut(s, ":")
		if !ok {
			return true
		}
		key = strings.TrimSpace(key)
		if key != "npmAuthToken" && key != "npmAuthIdent" {
			return true
		}
		val = unquote(strings.TrimSpace(val))
		if val == "" || isPlaceholder(val) || isReference(val) {
			return true
		}
		return r.add(Found{Kind: KindNPMToken, Detail: "line " + strconv.Itoa(n) + ": " + key}, val)
	})
	scanText(r, data, scanOpts{})
}

// parsePypirc reads .pypirc: a section's password is a PyPI token when it
// starts with "pypi-", another password otherwise.
func parsePypirc(r *results, _ string, data []byte) {
	type repo struct{ user, pass, url string }
	var order []string
	repos := map[string]*repo{}
	eachINI(data, func(e iniEntry) bool {
		if e.section == "" || e.section == "distutils" {
			return true
		}
		p := repos[e.section]
		if p == nil {
			if len(order) >= MaxFound {
				return false
			}
			p = &repo{}
			repos[e.section] = p
			order = append(order, e.section)
		}
		switch e.key {
		case "username":
			p.user = e.value
		case "password":
			p.pass = e.value
		case "repository":
			p.url = e.value
		}
		return true
	})
	for _, name := range order {
		p := repos[name]
		if p.pass == "" || isPlaceholder(p.pass) || isReference(p.pass) {
			continue
		}
		kind := KindGenericSecret
		if strings.HasPrefix(p.pass, "pypi-") {
			kind = KindPyPIToken
		}
		host := hostOf(p.url)
		if host == "" {
			host = name
		}
		if !r.add(Found{Kind: kind, Owner: ownerAt(strings.TrimPrefix(p.user, "__token__"), host), Detail: "section " + name}, p.pass) {
			break
		}
	}
	scanText(r, data, scanOpts{})
}

// parseNetrc reads .netrc / _netrc: "machine H login U password P" tokens,
// over any number of lines; macdef bodies are skipped.
func parseNetrc(r *results, _ string, data []byte) {
	toks := netrcTokens(string(data))
	var host, login, pass string
	flush := func() bool {
		if pass == "" || isPlaceholder(pass) || isReference(pass) {
			host, login, pass = "", "", ""
			return true
		}
		kind := KindGenericSecret
		switch h := strings.ToLower(host); {
		case h == "github.com" || h == "api.github.com" || h == "gist.github.com":
			kind = KindGitHubToken
		}
		if k, ok := tokenKind(pass); ok {
			kind = k
		}
		detail := "machine " + host
		if host == "" {
			detail = "default"
		}
		ok := r.add(Found{Kind: kind, Owner: ownerAt(login, host), Detail: detail}, pass)
		host, login, pass = "", "", ""
		return ok
	}
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			if !flush() {
				return
			}
			host = next()
		case "default":
			if !flush() {
				return
			}
		case "login":
			login = next()
		case "password":
			pass = next()
		}
	}
	flush()
	scanText(r, data, scanOpts{})
}

// netrcTokens splits a netrc file into tokens, dropping macro bodies (from
// "macdef NAME" to the next blank line). Quoted tokens keep their spaces.
func netrcTokens(s string) []string {
	var toks []string
	for i := 0; i < len(s) && len(toks) < 16*MaxFound; {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			i++
			continue
		}
		if c == '#' && (i == 0 || s[i-1] == '\n') {
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		var tok string
		if c == '"' {
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			tok, i = b.String(), j+1
		} else {
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n' {
				j++
			}
			tok, i = s[i:j], j
		}
		if tok == "macdef" {
			end := strings.Index(s[i:], "\n\n")
			if end < 0 {
				return toks
			}
			i += end + 2
			continue
		}
		toks = append(toks, tok)
	}
	return toks
}

// parseVault reads ~/.vault-token: the whole file is the token.
func parseVault(r *results, _ string, data []byte) {
	tok := strings.TrimSpace(string(data))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") || len(tok) > 4096 || isPlaceholder(tok) {
		scanText(r, data, scanOpts{})
		return
	}
	r.add(Found{Kind: KindVaultToken, Detail: "token file"}, tok)
}
