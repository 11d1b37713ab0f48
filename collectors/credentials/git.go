package credentials

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
)

// conventionalUsers are the user names that stand in front of a token in a
// URL and name nobody.
var conventionalUsers = map[string]bool{
	"": true, "x-access-token": true, "oauth2": true, "x-oauth-basic": true, "token": true,
	"gitlab-ci-token": true, "private-token": true, "git": true, "pat": true, "x-token-auth": true,
	"oauth": true, "ghp": true, "user": true, "username": true,
}

func ownerAt(user, host string) string {
	if conventionalUsers[strings.ToLower(user)] || host == "" {
		return ""
	}
	return user + "@" + host
}

// gitURLCred reads "https://user:token@host/..." (or a token alone as the
// user, "https://ghp_…@github.com"). It returns the secret and who it is.
func gitURLCred(s string) (user, secret, host string, ok bool) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err == nil && u.User != nil && u.Host != "" {
		host = strings.ToLower(u.Hostname())
		user = u.User.Username()
		if p, set := u.User.Password(); set && p != "" {
			return user, p, host, true
		}
		if _, isTok := tokenKind(user); isTok {
			return "", user, host, true
		}
		return "", "", "", false
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if c, ok := urlCredAt([]byte(s), i); ok {
			return c.user, c.pass, c.host, true
		}
	}
	return "", "", "", false
}

// parseGitCredentials reads git's credential store (~/.git-credentials,
// ~/.config/git/credentials): one URL with credentials a line.
func parseGitCredentials(r *results, _ string, data []byte) {
	eachLine(data, func(n int, l []byte) bool {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' || !strings.Contains(s, "://") {
			return true
		}
		user, secret, host, ok := gitURLCred(s)
		if !ok || isPlaceholder(secret) || isReference(secret) {
			return true
		}
		f := Found{
			Kind:   kindForHostToken(host, secret, KindGitCredentials),
			Owner:  ownerAt(user, host),
			Detail: "line " + strconv.Itoa(n) + ": " + host,
		}
		return r.add(f, secret)
	})
	scanText(r, data, scanOpts{})
}

// parseGitConfig reads ~/.gitconfig, ~/.config/git/config and a
// repository's .git/config: http.extraheader authorization headers (what
// actions/checkout persists), remote URLs with credentials, and
// github.token / hub.oauthtoken style keys.
func parseGitConfig(r *results, _ string, data []byte) {
	section, sub := "", ""
	eachLine(data, func(n int, l []byte) bool {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' || s[0] == ';' {
			return true
		}
		if s[0] == '[' {
			section, sub = gitSection(s)
			return true
		}
		key, val, ok := strings.Cut(s, "=")
		if !ok {
			return true
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = gitValue(val)
		name := section
		if sub != "" {
			name += "." + sub
		}
		detail := "line " + strconv.Itoa(n) + ": " + name + "." + key
		switch {
		case key == "extraheader":
			user, secret, ok := authHeader(val)
			if !ok {
				return true
			}
			host := hostOf(sub)
			return r.add(Found{Kind: kindForHostToken(host, secret, KindGitCredentials), Owner: ownerAt(user, host),
				Detail: detail, Note: "HTTP authorization header"}, secret)
		case key == "url" || key == "pushurl" || key == "insteadof":
			user, secret, host, ok := gitURLCred(val)
			if !ok || isPlaceholder(secret) || isReference(secret) {
				return true
			}
			return r.add(Found{Kind: kindForHostToken(host, secret, KindGitCredentials), Owner: ownerAt(user, host), Detail: detail}, secret)
		case key == "token" || key == "oauthtoken" || key == "password" || key == "apitoken":
			if val == "" || isPlaceholder(val) || isReference(val) || !plausibleSecret("TOKEN", val) {
				return true
			}
			kind, ok := tokenKind(val)
			if !ok {
				kind = KindGitCredentials
				if section == "github" || section == "hub" {
					kind = KindGitHubToken
				}
			}
			return r.add(Found{Kind: kind, Detail: detail}, val)
		}
		return true
	})
	scanText(r, data, scanOpts{})
}

// gitSection reads `[section "sub"]` or `[section.sub]`.
func gitSection(s string) (section, sub string) {
	s = strings.TrimPrefix(s, "[")
	if i := strings.IndexByte(s, ']'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return strings.ToLower(s[:i]), strings.Trim(strings.TrimSpace(s[i:]), `"`)
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return strings.ToLower(s[:i]), s[i+1:]
	}
	return strings.ToLower(s), ""
}

// gitValue unquotes a git config value and drops a trailing comment.
func gitValue(v string) string {
	v = strings.TrimSpace(v)
	var b strings.Builder
	inQ := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			inQ = !inQ
		case c == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(v[i])
			}
		case (c == '#' || c == ';') && !inQ:
			return strings.TrimSpace(b.String())
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// authHeader reads "AUTHORIZATION: basic <base64 user:pass>" or
// "Authorization: Bearer <token>".
func authHeader(v string) (user, secret string, ok bool) {
	rest := v
	if name, after, found := strings.Cut(v, ":"); found && strings.EqualFold(strings.TrimSpace(name), "authorization") {
		rest = after
	}
	rest = strings.TrimSpace(rest)
	scheme, cred, found := strings.Cut(rest, " ")
	if !found {
		return "", "", false
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", "", false
		}
		u, p, ok := strings.Cut(string(raw), ":")
		if !ok || p == "" {
			return "", "", false
		}
		return u, p, true
	case "bearer", "token":
		if cred == "" || isPlaceholder(cred) || isReference(cred) {
			return "", "", false
		}
		return "", cred, true
	}
	return "", "", false
}

// hostOf is the host of a URL-ish string ("https://github.com/", "ghcr.io").
func hostOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 && !strings.ContainsRune(s[:i], '/') {
		s = s[i+1:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s, "]") {
		s = s[:i]
	}
	return strings.ToLower(s)
}

// parseGH reads the GitHub CLI's ~/.config/gh/hosts.yml: per host an
// oauth_token with its user, and (gh 2.40+) per-account tokens under users.
func parseGH(r *results, _ string, data []byte) {
	parseHostsYAML(r, data, "oauth_token", KindGitHubToken)
	scanText(r, data, scanOpts{})
}

// parseGlab reads the GitLab CLI's config.yml: hosts.<host>.token.
func parseGlab(r *results, _ string, data []byte) {
	root := parseYAML(data)
	if root != nil {
		if hosts := get(root, "hosts"); hosts != nil {
			parseHostsNode(r, hosts, "token", KindGitLabToken)
		}
		if tok := str(get(root, "token")); tok != "" {
			addHostToken(r, tok, "", "", KindGitLabToken, "token")
		}
	}
	scanText(r, data, scanOpts{})
}

func parseHostsYAML(r *results, data []byte, tokenKey, kind string) {
	if root := parseYAML(data); root != nil {
		parseHostsNode(r, root, tokenKey, kind)
	}
}

func parseHostsNode(r *results, hosts *yamlNode, tokenKey, kind string) {
	eachPair(hosts, func(host string, h *yamlNode) bool {
		user := str(get(h, "user"))
		if tok := str(get(h, tokenKey)); tok != "" {
			if !addHostToken(r, tok, host, user, kind, "host "+host) {
				return false
			}
		}
		return eachPair(get(h, "users"), func(name string, u *yamlNode) bool {
			tok := str(get(u, tokenKey))
			if tok == "" {
				return true
			}
			return addHostToken(r, tok, host, name, kind, "host "+host+" user "+name)
		})
	})
}

func addHostToken(r *results, tok, host, user, kind, detail string) bool {
	if isPlaceholder(tok) || isReference(tok) {
		return true
	}
	if k, ok := tokenKind(tok); ok {
		kind = k
	}
	return r.add(Found{Kind: kind, Owner: ownerAt(user, host), Detail: detail}, tok)
}
