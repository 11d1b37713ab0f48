package credentials

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// Character classes of token bodies.
type charClass uint16

const (
	clsUpper charClass = 1 << iota
	clsLower
	clsDigit
	clsUnderscore
	clsDash
	clsDot
	clsSlash
	clsPlus

	clsAlnum                  = clsUpper | clsLower | clsDigit
	clsAlpha                  = clsUpper | clsLower
	clsAlnumUS                = clsAlnum | clsUnderscore
	clsAlnumDash              = clsAlnum | clsDash
	clsAlnumUSDash            = clsAlnum | clsUnderscore | clsDash
	clsAlnumUSDashD           = clsAlnumUSDash | clsDot
	clsBase64                 = clsAlnum | clsSlash | clsPlus
	clsWebhookPath            = clsAlnumUSDash | clsSlash
	clsHexLower     charClass = 1 << 15 // special-cased: 0-9 a-f
)

// byteClass holds the class bits of every byte value.
var byteClass = func() (t [256]charClass) {
	for c := range t {
		t[c] = classOfSlow(byte(c))
	}
	return t
}()

// classOf returns the class bits of one byte.
func classOf(c byte) charClass { return byteClass[c] }

func classOfSlow(c byte) charClass {
	switch {
	case c >= 'A' && c <= 'Z':
		return clsUpper
	case c >= 'a' && c <= 'z':
		return clsLower
	case c >= '0' && c <= '9':
		return clsDigit
	case c == '_':
		return clsUnderscore
	case c == '-':
		return clsDash
	case c == '.':
		return clsDot
	case c == '/':
		return clsSlash
	case c == '+':
		return clsPlus
	}
	return 0
}

func inClass(c byte, cls charClass) bool {
	if cls == clsHexLower {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
	}
	return classOf(c)&cls != 0
}

func isWord(c byte) bool { return classOf(c)&clsAlnumUS != 0 }

// tokenRule is one provider key format: a literal prefix and a body of
// min..max bytes of one class, bounded on both sides by a non-word byte.
type tokenRule struct {
	prefix string
	kind   string
	cls    charClass
	min    int
	max    int
	note   string
	// check, when set, accepts or rejects the body; weak marks a match
	// whose format alone says little (a legacy "sk-" key).
	check func(body []byte) (ok, weak bool)
}

// tokenRules are the formats ScanText recognises, longest prefix first
// where prefixes overlap. Sources: providers' published formats and the
// gitleaks/trufflehog rules for them; precision over recall.
var tokenRules = []tokenRule{
	{prefix: "sk-ant-api03-", kind: KindAnthropicAPIKey, cls: clsAlnumUSDash, min: 80, max: 300},
	{prefix: "sk-ant-admin01-", kind: KindAnthropicAPIKey, cls: clsAlnumUSDash, min: 80, max: 300, note: "Anthropic admin key"},
	{prefix: "sk-ant-oat01-", kind: KindAnthropicAPIKey, cls: clsAlnumUSDash, min: 40, max: 300, note: "Claude OAuth access token"},
	{prefix: "sk-ant-ort01-", kind: KindAnthropicAPIKey, cls: clsAlnumUSDash, min: 40, max: 300, note: "Claude OAuth refresh token"},
	{prefix: "sk-or-v1-", kind: KindOpenRouterAPIKey, cls: clsHexLower, min: 64, max: 64},
	{prefix: "sk-proj-", kind: KindOpenAIAPIKey, cls: clsAlnumUSDash, min: 40, max: 400},
	{prefix: "sk-svcacct-", kind: KindOpenAIAPIKey, cls: clsAlnumUSDash, min: 40, max: 400, note: "OpenAI service account key"},
	{prefix: "sk-admin-", kind: KindOpenAIAPIKey, cls: clsAlnumUSDash, min: 40, max: 400, note: "OpenAI admin key"},
	{prefix: "sk-", kind: KindOpenAIAPIKey, cls: clsAlnumUSDash, min: 20, max: 400, check: legacyOpenAI},
	{prefix: "github_pat_", kind: KindGitHubToken, cls: clsAlnumUS, min: 22, max: 255},
	{prefix: "ghp_", kind: KindGitHubToken, cls: clsAlnum, min: 36, max: 255},
	{prefix: "gho_", kind: KindGitHubToken, cls: clsAlnum, min: 36, max: 255, note: "GitHub OAuth token"},
	{prefix: "ghu_", kind: KindGitHubToken, cls: clsAlnum, min: 36, max: 255, note: "GitHub App user token"},
	{prefix: "ghs_", kind: KindGitHubToken, cls: clsAlnum, min: 36, max: 255, note: "GitHub App installation token"},
	{prefix: "ghr_", kind: KindGitHubToken, cls: clsAlnum, min: 36, max: 255, note: "GitHub refresh token"},
	{prefix: "glpat-", kind: KindGitLabToken, cls: clsAlnumUSDashD, min: 20, max: 255},
	{prefix: "glptt-", kind: KindGitLabToken, cls: clsAlnumUSDashD, min: 20, max: 255, note: "GitLab pipeline trigger token"},
	{prefix: "gldt-", kind: KindGitLabToken, cls: clsAlnumUSDashD, min: 20, max: 255, note: "GitLab deploy token"},
	{prefix: "glrt-", kind: KindGitLabToken, cls: clsAlnumUSDashD, min: 20, max: 255, note: "GitLab runner token"},
	{prefix: "gloas-", kind: KindGitLabToken, cls: clsAlnumUSDashD, min: 20, max: 255, note: "GitLab OAuth application secret"},
	{prefix: "gsk_", kind: KindGroqAPIKey, cls: clsAlnum, min: 52, max: 52},
	{prefix: "xoxe.xoxp-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody, note: "Slack refresh token"},
	{prefix: "xoxb-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody},
	{prefix: "xoxp-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody},
	{prefix: "xoxa-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody},
	{prefix: "xoxr-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody},
	{prefix: "xoxs-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody},
	{prefix: "xapp-", kind: KindSlackToken, cls: clsAlnumDash, min: 10, max: 255, check: slackBody, note: "Slack app-level token"},
	{prefix: "https://hooks.slack.com/services/", kind: KindSlackWebhook, cls: clsWebhookPath, min: 20, max: 300, check: webhookBody},
	{prefix: "https://hooks.slack.com/workflows/", kind: KindSlackWebhook, cls: clsWebhookPath, min: 20, max: 300, check: webhookBody},
	{prefix: "https://hooks.slack.com/triggers/", kind: KindSlackWebhook, cls: clsWebhookPath, min: 20, max: 300, check: webhookBody},
	{prefix: "https://discord.com/api/webhooks/", kind: KindGenericSecret, cls: clsWebhookPath, min: 20, max: 300, check: webhookBody, note: "Discord webhook"},
	{prefix: "https://discordapp.com/api/webhooks/", kind: KindGenericSecret, cls: clsWebhookPath, min: 20, max: 300, check: webhookBody, note: "Discord webhook"},
	{prefix: "AIza", kind: KindGoogleAPIKey, cls: clsAlnumUSDash, min: 35, max: 35},
	{prefix: "npm_", kind: KindNPMToken, cls: clsAlnum, min: 36, max: 36},
	{prefix: "pypi-AgEIcHlwaS5vcmc", kind: KindPyPIToken, cls: clsAlnumUSDash, min: 50, max: 4096},
	{prefix: "pypi-AgENdGVzdC5weXBpLm9yZw", kind: KindPyPIToken, cls: clsAlnumUSDash, min: 50, max: 4096, note: "TestPyPI token"},
	{prefix: "hf_", kind: KindHuggingFaceToken, cls: clsAlpha, min: 34, max: 34},
	{prefix: "hvs.", kind: KindVaultToken, cls: clsAlnumUSDash, min: 24, max: 512},
	{prefix: "hvb.", kind: KindVaultToken, cls: clsAlnumUSDash, min: 24, max: 512, note: "Vault batch token"},
	{prefix: "dop_v1_", kind: KindGenericSecret, cls: clsHexLower, min: 64, max: 64, note: "DigitalOcean token"},
	{prefix: "sk_live_", kind: KindGenericSecret, cls: clsAlnum, min: 24, max: 255, note: "Stripe live secret key"},
	{prefix: "rk_live_", kind: KindGenericSecret, cls: clsAlnum, min: 24, max: 255, note: "Stripe live restricted key"},
}

// legacyOpenAI accepts the pre-2024 user keys: 48 alphanumerics (weak: other
// providers copied the shape), or any body carrying OpenAI's "T3BlbkFJ"
// marker (base64 of "OpenAI").
func legacyOpenAI(body []byte) (ok, weak bool) {
	if bytes.Contains(body, []byte("T3BlbkFJ")) {
		return true, false
	}
	if len(body) != 48 {
		return false, false
	}
	for _, c := range body {
		if !inClass(c, clsAlnum) {
			return false, false
		}
	}
	return true, true
}

// slackBody wants the dash-separated numeric team/user ids real tokens have.
func slackBody(body []byte) (ok, weak bool) {
	return bytes.IndexByte(body, '-') > 0 && bytes.IndexAny(body, "0123456789") >= 0, false
}

// webhookBody wants a path of two or more segments (T…/B…/secret, id/token).
func webhookBody(body []byte) (ok, weak bool) {
	return bytes.Count(body, []byte("/")) >= 1 && !bytes.HasSuffix(body, []byte("/")), false
}

// rulesByFirst indexes tokenRules by their prefix's first byte.
var rulesByFirst = func() (t [256][]int) {
	for i, r := range tokenRules {
		t[r.prefix[0]] = append(t[r.prefix[0]], i)
	}
	t['A'] = append(t['A'], -1) // AKIA / ASIA: see awsKeyID
	return t
}()

// startsRule marks the bytes some rule's prefix starts with.
var startsRule = func() (t [256]bool) {
	for c, rs := range rulesByFirst {
		t[c] = len(rs) > 0
	}
	return t
}()

// tokenMatch is one format match in a text.
type tokenMatch struct {
	start, end int
	kind       string
	note       string
	weak       bool
}

// runCache remembers the last run of each class, so that a hostile text of
// overlapping prefixes ("sk-sk-sk-...") is still scanned in linear time.
type runCache struct {
	cls        [4]charClass
	start, end [4]int
	n          int
}

// runEnd returns the end of the run of cls starting at i.
func (rc *runCache) runEnd(data []byte, i int, cls charClass) int {
	for k := 0; k < rc.n; k++ {
		if rc.cls[k] == cls && i >= rc.start[k] && i <= rc.end[k] {
			return rc.end[k]
		}
	}
	j := i
	for j < len(data) && inClass(data[j], cls) {
		j++
	}
	k := rc.n
	if k == len(rc.cls) {
		k = int(uint(i) % uint(len(rc.cls)))
	} else {
		rc.n++
	}
	rc.cls[k], rc.start[k], rc.end[k] = cls, i, j
	return j
}

// matchAt tries every rule at position i (whose left neighbour is not a word
// byte). It returns the match, if any.
func matchAt(data []byte, i int, rc *runCache) (tokenMatch, bool) {
	for _, ri := range rulesByFirst[data[i]] {
		if ri < 0 {
			if end, ok := awsKeyID(data, i); ok {
				return tokenMatch{start: i, end: end, kind: KindAWSAccessKey}, true
			}
			continue
		}
		r := &tokenRules[ri]
		if i+1 >= len(data) || data[i+1] != r.prefix[1] || !bytes.HasPrefix(data[i:], []byte(r.prefix)) {
			continue
		}
		b := i + len(r.prefix)
		e := rc.runEnd(data, b, r.cls)
		if r.cls&clsDot != 0 {
			for e > b && data[e-1] == '.' {
				e--
			}
		}
		n := e - b
		if n < r.min || n > r.max {
			continue
		}
		// Right boundary: no word byte, and no dash unless the body allows
		// dashes (then the run has consumed them).
		if e < len(data) && (isWord(data[e]) || data[e] == '-' && r.cls&clsDash == 0) {
			continue
		}
		weak := false
		if r.check != nil {
			ok, w := r.check(data[b:e])
			if !ok {
				continue
			}
			weak = w
		}
		return tokenMatch{start: i, end: e, kind: r.kind, note: r.note, weak: weak}, true
	}
	return tokenMatch{}, false
}

// awsKeyID matches AKIA/ASIA and sixteen upper-case letters or digits.
func awsKeyID(data []byte, i int) (int, bool) {
	if len(data)-i < 20 {
		return 0, false
	}
	p := data[i : i+4]
	if !bytes.Equal(p, []byte("AKIA")) && !bytes.Equal(p, []byte("ASIA")) {
		return 0, false
	}
	for _, c := range data[i+4 : i+20] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return 0, false
		}
	}
	if i+20 < len(data) && isWord(data[i+20]) {
		return 0, false
	}
	return i + 20, true
}

// eachToken calls fn for every provider-format token in data, in order.
// fn returns false to stop.
func eachToken(data []byte, fn func(m tokenMatch) bool) {
	var rc runCache
	for i := 0; i < len(data); i++ {
		if !startsRule[data[i]] || (i > 0 && isWord(data[i-1])) {
			continue
		}
		m, ok := matchAt(data, i, &rc)
		if !ok {
			continue
		}
		if !fn(m) {
			return
		}
		i = m.end - 1
	}
}

// scanOpts tunes scanText for the file it is scanning.
type scanOpts struct {
	keyKind string           // kind for PEM private keys; "" picks by block type
	detail  func(int) string // Detail for a match at a byte offset; nil gives "line N"
}

// scanText adds every token, AWS key, private key block and URL password in
// data to r.
func scanText(r *results, data []byte, o scanOpts) {
	if len(data) < 12 {
		return
	}
	lc := lineCounter{data: data}
	detail := o.detail
	if detail == nil {
		detail = func(off int) string { return "line " + strconv.Itoa(lc.line(off)) }
	}
	scanKeyBlocks(r, data, keyOpts{kind: o.keyKind, detail: detail})
	eachToken(data, func(m tokenMatch) bool {
		tok := string(data[m.start:m.end])
		if isPlaceholder(tok) {
			return true
		}
		if m.kind == KindAWSAccessKey {
			return addAWSFromText(r, data, m, tok, detail(m.start))
		}
		return r.add(Found{Kind: m.kind, Detail: detail(m.start), Note: m.note}, tok)
	})
	scanURLCredentials(r, data, detail)
}

// addAWSFromText records an access key id found in text, with the secret
// access key written next to it when there is one.
func addAWSFromText(r *results, data []byte, m tokenMatch, id, detail string) bool {
	if r.has(id) {
		return true // reported, or the hint of a secret reported already
	}
	f := Found{Kind: KindAWSAccessKey, Hint: redact.Hint(id), KeyID: id, Detail: detail}
	if s := awsSecretNear(data, m.start, m.end); s != "" {
		r.claim(id)
		return r.add(f, s)
	}
	f.Note = "secret access key not found next to the key id"
	return r.add(f, id)
}

// awsSecretNear looks for a 40-character secret access key within a few
// lines after the key id (then before it): a bounded run of base64
// characters with upper case, lower case and a digit, which rules out hex
// digests and upper-case identifiers.
func awsSecretNear(data []byte, start, end int) string {
	const after, before = 400, 300
	hi := min(len(data), end+after)
	if s := secret40(data, end, hi, false); s != "" {
		return s
	}
	lo := max(0, start-before)
	return secret40(data, lo, start, true)
}

// secret40 finds a run of exactly 40 base64 characters starting in
// [lo, hi). It reads at most 41 bytes past hi, so that many key ids in one
// long run of base64 do not each scan the run to its end.
func secret40(data []byte, lo, hi int, last bool) string {
	found := ""
	i := lo
	for i < hi && i > 0 && inClass(data[i-1], clsBase64) && inClass(data[i], clsBase64) {
		i++ // lo fell inside a run: not a run start
	}
	for i < hi {
		if !inClass(data[i], clsBase64) {
			i++
			continue
		}
		j := i
		for j < len(data) && j-i <= 40 && inClass(data[j], clsBase64) {
			j++
		}
		if j-i == 40 && (j == len(data) || data[j] != '=') {
			if cand := data[i:j]; bytes.IndexAny(cand, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") >= 0 &&
				bytes.IndexAny(cand, "abcdefghijklmnopqrstuvwxyz") >= 0 &&
				bytes.IndexAny(cand, "0123456789") >= 0 {
				found = string(cand)
				if !last {
					return found
				}
			}
		}
		for j < hi && inClass(data[j], clsBase64) {
			j++
		}
		i = j
	}
	return found
}

// lineCounter turns byte offsets into 1-based line numbers, in linear time
// over a forward scan (and correctly, if more slowly, otherwise).
type lineCounter struct {
	data []byte
	pos  int
	n    int
}

func (lc *lineCounter) line(off int) int {
	if off < lc.pos {
		lc.pos, lc.n = 0, 0
	}
	off = min(off, len(lc.data))
	lc.n += bytes.Count(lc.data[lc.pos:off], []byte{'\n'})
	lc.pos = off
	return lc.n + 1
}

// dbSchemes are URL schemes whose password is a database password.
var dbSchemes = map[string]bool{
	"postgres": true, "postgresql": true, "mysql": true, "mysql2": true, "mariadb": true,
	"mongodb": true, "redis": true, "rediss": true, "mssql": true, "sqlserver": true,
	"oracle": true, "cockroachdb": true, "clickhouse": true, "amqp": true, "amqps": true,
	"couchdb": true, "neo4j": true, "influxdb": true, "cassandra": true,
}

// otherSchemes may carry a password that is not a database's.
var otherSchemes = map[string]bool{
	"http": true, "https": true, "ftp": true, "ftps": true, "sftp": true, "smtp": true,
	"smtps": true, "ldap": true, "ldaps": true, "git": true, "ssh": true, "socks5": true,
	"socks5h": true, "imap": true, "imaps": true,
}

// urlCred is a password in a URL's userinfo.
type urlCred struct {
	scheme, user, pass, host string
	kind                     string
	end                      int
}

// scanURLCredentials adds "scheme://user:password@host" passwords for
// database schemes and the common network schemes.
func scanURLCredentials(r *results, data []byte, detail func(int) string) {
	sep := []byte("://")
	for off := 0; off < len(data) && !r.full(); {
		k := bytes.Index(data[off:], sep)
		if k < 0 {
			return
		}
		i := off + k
		off = i + len(sep)
		c, ok := urlCredAt(data, i)
		if !ok {
			continue
		}
		r.add(Found{Kind: c.kind, Owner: c.owner(), Detail: detail(i) + ": " + c.scheme + "://" + c.host}, c.pass)
		off = max(off, c.end)
	}
}

func (c urlCred) owner() string {
	if c.user == "" {
		return ""
	}
	return c.user + "@" + c.host
}

// urlCredAt parses a URL whose "://" is at i.
func urlCredAt(data []byte, i int) (urlCred, bool) {
	s := i
	for s > 0 && i-s < 32 {
		c := data[s-1]
		if !(inClass(c, clsAlnum) || c == '+' || c == '.' || c == '-') {
			break
		}
		s--
	}
	for s < i && !(data[s] >= 'a' && data[s] <= 'z' || data[s] >= 'A' && data[s] <= 'Z') {
		s++
	}
	if s == i {
		return urlCred{}, false
	}
	scheme := strings.ToLower(string(data[s:i]))
	family := scheme
	if scheme != "mongodb+srv" {
		if p := strings.LastIndexByte(scheme, '+'); p >= 0 {
			// "postgresql+psycopg2" is a database; "git+https" is https.
			if dbSchemes[scheme[:p]] {
				family = scheme[:p]
			} else {
				family = scheme[p+1:]
			}
		}
	} else {
		family = "mongodb"
	}
	isDB := dbSchemes[family]
	if !isDB && !otherSchemes[family] {
		return urlCred{}, false
	}
	// The authority runs to the first byte that cannot be in it; the
	// userinfo is everything before its last '@' (passwords hold '@').
	b := i + 3
	e := b
	for e < len(data) && e-b < 512 && authorityByte(data[e]) {
		e++
	}
	at := bytes.LastIndexByte(data[b:e], '@')
	if at < 0 {
		return urlCred{}, false
	}
	userinfo := data[b : b+at]
	colon := bytes.IndexByte(userinfo, ':')
	if colon < 0 {
		return urlCred{}, false
	}
	hostPart := data[b+at+1 : e]
	h := 0
	for h < len(hostPart) && (inClass(hostPart[h], clsAlnum) || hostPart[h] == '.' || hostPart[h] == '-' || hostPart[h] == '_') {
		h++
	}
	if h == 0 {
		return urlCred{}, false
	}
	user := unescapeURL(string(userinfo[:colon]))
	pass := unescapeURL(string(userinfo[colon+1:]))
	host := strings.ToLower(string(hostPart[:h]))
	if len(pass) < 3 || pass == user || isPlaceholder(pass) || isReference(pass) {
		return urlCred{}, false
	}
	c := urlCred{scheme: scheme, user: user, pass: pass, host: host, end: e}
	switch {
	case isDB:
		c.kind = KindDatabasePassword
	default:
		c.kind = kindForHostToken(host, pass, KindGenericSecret)
	}
	return c, true
}

// authorityByte reports bytes that may appear in a URL authority as people
// write it (loosely: passwords are often not percent-encoded).
func authorityByte(c byte) bool {
	switch c {
	case '/', '?', '#', ' ', '\t', '\r', '\n', '"', '\'', '`', '<', '>', '\\', '(', ')', '[', ']', '{', '}', ',', ';':
		return false
	}
	return c > 0x20 && c < 0x7f
}

func unescapeURL(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// kindForHostToken types a password sent to host: by the token's own format
// first, then by the host; def otherwise.
func kindForHostToken(host, token, def string) string {
	if k, ok := tokenKind(token); ok {
		return k
	}
	host = strings.ToLower(host)
	switch {
	case host == "github.com" || strings.HasSuffix(host, ".github.com") || host == "ghcr.io":
		return KindGitHubToken
	case host == "gitlab.com" || strings.HasSuffix(host, ".gitlab.com"):
		return KindGitLabToken
	}
	return def
}

// tokenKind types a whole value that is exactly one provider token.
func tokenKind(v string) (string, bool) {
	m, ok := wholeToken(v)
	if !ok {
		return "", false
	}
	return m.kind, true
}

// wholeToken matches v when all of it is one provider token.
func wholeToken(v string) (tokenMatch, bool) {
	v = strings.TrimSpace(v)
	if len(v) < 12 || len(rulesByFirst[v[0]]) == 0 {
		return tokenMatch{}, false
	}
	var rc runCache
	m, ok := matchAt([]byte(v), 0, &rc)
	if !ok || m.end != len(v) {
		return tokenMatch{}, false
	}
	return m, true
}

// firstToken returns the first provider token in v.
func firstToken(v string) (tokenMatch, bool) {
	var out tokenMatch
	found := false
	eachToken([]byte(v), func(m tokenMatch) bool {
		out, found = m, true
		return false
	})
	return out, found
}
