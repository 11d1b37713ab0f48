package credentials

import (
	"strconv"
	"strings"
)

// parsePgpass reads .pgpass: host:port:database:user:password lines, with
// "\:" and "\\" escapes. Owner is user@host.
func parsePgpass(r *results, _ string, data []byte) {
	eachLine(data, func(n int, l []byte) bool {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' {
			return true
		}
		f := pgpassFields(s)
		if len(f) != 5 || f[4] == "" || isPlaceholder(f[4]) || isReference(f[4]) {
			return true
		}
		owner := ownerAt(f[3], f[0])
		if f[0] == "*" {
			owner = f[3]
		}
		return r.add(Found{
			Kind:   KindDatabasePassword,
			Owner:  owner,
			Detail: "line " + strconv.Itoa(n) + ": " + f[0] + ":" + f[1] + "/" + f[2],
		}, f[4])
	})
	scanText(r, data, scanOpts{})
}

// pgpassFields splits on unescaped colons; the fifth field takes the rest.
func pgpassFields(s string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == ':' && len(out) < 4:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
}

// parseMyCnf reads MySQL option files: password= in client sections
// ([client], [mysql], [mysqldump], [client-server] ...), Owner user@host
// from the same section.
func parseMyCnf(r *results, _ string, data []byte) {
	type sect struct{ user, host, pass string }
	var order []string
	secs := map[string]*sect{}
	eachINI(data, func(e iniEntry) bool {
		name := strings.ToLower(e.section)
		if strings.HasPrefix(name, "mysqld") || strings.HasPrefix(name, "mariadbd") {
			return true
		}
		s := secs[name]
		if s == nil {
			if len(order) >= MaxFound {
				return false
			}
			s = &sect{}
			secs[name] = s
			order = append(order, name)
		}
		v := unquote(e.value)
		switch e.key {
		case "password":
			s.pass = v
		case "user":
			s.user = v
		case "host":
			s.host = v
		}
		return true
	})
	for _, name := range order {
		s := secs[name]
		if s.pass == "" || isPlaceholder(s.pass) || isReference(s.pass) {
			continue
		}
		owner := s.user
		if s.host != "" && s.user != "" {
			owner = s.user + "@" + s.host
		}
		if !r.add(Found{Kind: KindDatabasePassword, Owner: owner, Detail: "section [" + name + "]"}, s.pass) {
			break
		}
	}
	scanText(r, data, scanOpts{})
}

// parseRedis reads redis.conf (and sentinel.conf): requirepass, masterauth,
// "sentinel auth-pass MASTER PW", and ACL "user NAME ... >password" rules
// (#<sha256> rules are hashes, not passwords).
func parseRedis(r *results, _ string, data []byte) {
	eachLine(data, func(n int, l []byte) bool {
		args := redisArgs(string(l))
		if len(args) < 2 || strings.HasPrefix(args[0], "#") {
			return true
		}
		detail := "line " + strconv.Itoa(n) + ": "
		add := func(v, owner, what string) bool {
			if v == "" || isPlaceholder(v) || isReference(v) {
				return true
			}
			return r.add(Found{Kind: KindDatabasePassword, Owner: owner, Detail: detail + what}, v)
		}
		switch strings.ToLower(args[0]) {
		case "requirepass", "masterauth":
			return add(args[1], "", strings.ToLower(args[0]))
		case "sentinel":
			if len(args) >= 4 && strings.EqualFold(args[1], "auth-pass") {
				return add(args[3], "", "sentinel auth-pass "+args[2])
			}
		case "user":
			for _, a := range args[2:] {
				if strings.HasPrefix(a, ">") && !add(a[1:], args[1], "user "+args[1]) {
					return false
				}
			}
		}
		return true
	})
	scanText(r, data, scanOpts{})
}

// redisArgs splits a redis.conf line into arguments, with "..." and '...'
// quoting.
func redisArgs(s string) []string {
	var out []string
	for i := 0; i < len(s) && len(out) < 256; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
			i++
		}
		if i == len(s) {
			break
		}
		var b strings.Builder
		if q := s[i]; q == '"' || q == '\'' {
			i++
			for i < len(s) && s[i] != q {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' {
				b.WriteByte(s[i])
				i++
			}
		}
		out = append(out, b.String())
	}
	return out
}
