package credentials

import (
	"bytes"
	"path"
	"strings"
)

// parseText sniffs a file of no known name for the structured credential
// files that travel under any name (GCP and Docker JSON, kubeconfig,
// LiteLLM config), then scans it as text.
func parseText(r *results, p string, data []byte) {
	sniff(r, data)
	scanText(r, data, scanOpts{keyKind: keyKindFor(p)})
}

// sniff runs the structured parsers whose markers data carries. The checks
// are substring tests, so that a large text costs no parse.
func sniff(r *results, data []byte) {
	head := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(head) == 0 {
		return
	}
	if head[0] == '{' {
		if bytes.Contains(data, []byte(`"type"`)) && (bytes.Contains(data, []byte("service_account")) ||
			bytes.Contains(data, []byte("authorized_user"))) {
			parseGCP(r, data)
			return
		}
		if bytes.Contains(data, []byte(`"auths"`)) {
			parseDocker(r, data)
			return
		}
	}
	if bytes.Contains(data, []byte("users")) && kindConfig(data) {
		parseKube(r, data)
		return
	}
	if bytes.Contains(data, []byte("model_list")) && bytes.Contains(data, []byte("litellm_params")) ||
		bytes.Contains(data, []byte("general_settings")) && bytes.Contains(data, []byte("master_key")) {
		parseLiteLLM(r, data)
	}
}

// kindConfig reports a `kind: Config` entry (YAML or JSON, quoted or not).
func kindConfig(data []byte) bool {
	for off, n := 0, 0; n < 1000; n++ {
		k := bytes.Index(data[off:], []byte("kind"))
		if k < 0 {
			return false
		}
		i := off + k + len("kind")
		off = i
		for i < len(data) && (data[i] == '"' || data[i] == '\'' || data[i] == ':' || data[i] == ' ' || data[i] == '\t') {
			i++
		}
		if bytes.HasPrefix(data[i:], []byte("Config")) && i > off && data[i-1] != 'd' {
			rest := data[i+len("Config"):]
			if len(rest) == 0 || rest[0] == '"' || rest[0] == '\'' || rest[0] == '\n' || rest[0] == '\r' || rest[0] == ' ' || rest[0] == ',' {
				return true
			}
		}
	}
	return false
}

// keyKindFor types the private keys of a file by where it is: SSH keys in
// .ssh directories, host keys and id_* files; TLS keys in .key/.pem files;
// otherwise by the block (OpenSSH and PuTTY are SSH, the rest TLS).
func keyKindFor(p string) string {
	base := path.Base(p)
	switch {
	case strings.Contains(p, "/.ssh/"), strings.HasPrefix(p, "/etc/ssh/"),
		strings.HasPrefix(base, "id_rsa"), strings.HasPrefix(base, "id_ed25519"),
		strings.HasPrefix(base, "id_ecdsa"), strings.HasPrefix(base, "id_dsa"),
		strings.HasSuffix(base, ".ppk"), strings.Contains(base, "deploy_key"):
		return KindSSHPrivateKey
	case strings.HasSuffix(base, ".key"), strings.HasSuffix(base, ".pem"), strings.HasSuffix(base, ".p8"):
		return KindTLSPrivateKey
	}
	return ""
}

// parseKeyFile reads SSH and TLS key files; any provider key in them is
// found as well.
func parseKeyFile(r *results, p string, data []byte) {
	scanText(r, data, scanOpts{keyKind: keyKindFor(p)})
}

// eachLine calls fn for each line (without its "\n" or "\r\n") with its
// 1-based number; fn returns false to stop.
func eachLine(data []byte, fn func(n int, line []byte) bool) {
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		var l []byte
		if i < 0 {
			l, data = data, nil
		} else {
			l, data = data[:i], data[i+1:]
		}
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if !fn(n, l) {
			return
		}
	}
}

// cursor reads assignment-style files byte by byte.
type cursor struct {
	data []byte
	pos  int
	lc   lineCounter
}

func (c *cursor) eof() bool { return c.pos >= len(c.data) }

func (c *cursor) peek() byte {
	if c.eof() {
		return 0
	}
	return c.data[c.pos]
}

func (c *cursor) lineNo() int {
	if c.lc.data == nil {
		c.lc.data = c.data
	}
	return c.lc.line(c.pos)
}

func (c *cursor) eat(b byte) bool {
	if c.peek() == b && !c.eof() {
		c.pos++
		return true
	}
	return false
}

func (c *cursor) skipBlanks() {
	for !c.eof() && (c.data[c.pos] == ' ' || c.data[c.pos] == '\t' || c.data[c.pos] == '\r') {
		c.pos++
	}
}

func (c *cursor) skipLine() {
	i := bytes.IndexByte(c.data[c.pos:], '\n')
	if i < 0 {
		c.pos = len(c.data)
		return
	}
	c.pos += i + 1
}

func (c *cursor) restOfLine() string {
	i := bytes.IndexByte(c.data[c.pos:], '\n')
	end := len(c.data)
	if i >= 0 {
		end = c.pos + i
	}
	s := string(bytes.TrimSuffix(c.data[c.pos:end], []byte{'\r'}))
	c.pos = end
	return s
}

// skipWord skips w and the blanks after it when w is a whole word here.
func (c *cursor) skipWord(w string) bool {
	rest := c.data[c.pos:]
	if !bytes.HasPrefix(rest, []byte(w)) || len(rest) == len(w) || (rest[len(w)] != ' ' && rest[len(w)] != '\t') {
		return false
	}
	c.pos += len(w)
	c.skipBlanks()
	return true
}

func (c *cursor) skipToken() {
	for !c.eof() && c.data[c.pos] != ' ' && c.data[c.pos] != '\t' && c.data[c.pos] != '\n' {
		c.pos++
	}
}

// name reads a variable name ([A-Za-z_][A-Za-z0-9_.-]*), or "" leaving the
// cursor where it was.
func (c *cursor) name() string {
	s := c.pos
	e := s
	for e < len(c.data) && e-s <= 256 {
		b := c.data[e]
		if b == '_' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || e > s && (b >= '0' && b <= '9' || b == '.' || b == '-') {
			e++
			continue
		}
		break
	}
	if e == s || e-s > 256 {
		return ""
	}
	c.pos = e
	return string(c.data[s:e])
}

// maxValue bounds one quoted value (a private key fits; a runaway quote
// does not swallow the file).
const maxValue = 64 << 10

// quoted reads a value in quotes q starting at the cursor, possibly over
// several lines; in double quotes a backslash escapes the next byte. It
// returns the raw text between the quotes.
func (c *cursor) quoted(q byte) (string, bool) {
	s := c.pos + 1
	limit := min(len(c.data), s+maxValue)
	for i := s; i < limit; i++ {
		switch c.data[i] {
		case '\\':
			if q == '"' {
				i++
			}
		case q:
			c.pos = i + 1
			return string(c.data[s:i]), true
		}
	}
	return "", false
}

// shellWord reads one shell word: quoted and unquoted parts concatenated,
// up to an unquoted blank or operator. dynamic reports a parameter, command
// or arithmetic expansion outside single quotes: the value is not literal.
func (c *cursor) shellWord() (val string, dynamic, ok bool) {
	var b strings.Builder
	start := c.pos
	for !c.eof() && c.pos-start < maxValue {
		ch := c.data[c.pos]
		switch ch {
		case ' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')':
			return b.String(), dynamic, true
		case '\'':
			v, ok := c.quoted('\'')
			if !ok {
				return "", false, false
			}
			b.WriteString(v)
		case '"':
			v, ok := c.quoted('"')
			if !ok {
				return "", false, false
			}
			if expands(v) {
				dynamic = true
			}
			b.WriteString(unescapeDouble(v))
		case '`':
			dynamic = true
			c.pos++
		case '$':
			if c.pos+1 < len(c.data) && expandStart(c.data[c.pos+1]) {
				dynamic = true
			}
			b.WriteByte(ch)
			c.pos++
		case '\\':
			if c.pos+1 < len(c.data) {
				c.pos++
				if c.data[c.pos] != '\n' {
					b.WriteByte(c.data[c.pos])
				}
			}
			c.pos++
		default:
			b.WriteByte(ch)
			c.pos++
		}
	}
	return b.String(), dynamic, true
}

func expandStart(b byte) bool {
	return b == '{' || b == '(' || b == '_' || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9'
}

// expands reports an unescaped $ expansion or backquote in double-quoted text.
func expands(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '`':
			return true
		case '$':
			if i+1 < len(s) && expandStart(s[i+1]) {
				return true
			}
		}
	}
	return false
}
