package credentials

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// KindForEnv types a NAME=value pair (an environment variable, a .env line,
// a shell export, a systemd Environment= entry): by the value's format first
// (a provider key, a private key, a URL with a password), then by the name.
// ok=false means not a secret: an ordinary variable (PATH, HOME, AWS_REGION),
// an empty value, a placeholder ("changeme", "xxx", "<your-key>"), a
// reference to a value held elsewhere ("${VAR}", "$(cmd)", "os.environ/VAR",
// "op://vault/item"), a path, a number, a boolean or public key material.
// A name wins over a value format that is weak on its own: a bare "sk-" and
// 48 characters is OpenAI's legacy shape, but also other providers' (Moonshot)
// and a common LiteLLM master key shape, so it is OpenAI's only under a
// name that says OpenAI or under no name that says anything.
func KindForEnv(name, value string) (kind string, ok bool) {
	value = unquote(strings.TrimSpace(value))
	if value == "" || isPlaceholder(value) || isReference(value) || isPublicMaterial(value) {
		return "", false
	}
	n := normName(name)
	byName := nameKind(n)
	if k, weak, ok := valueKind(n, value); ok {
		if weak && byName != "" && !strings.Contains(n, "OPENAI") {
			return byName, true
		}
		return k, true
	}
	if byName == "" || !plausibleSecret(n, value) {
		return "", false
	}
	return byName, true
}

// normName upper-cases a variable name and makes '-' and '.' underscores, so
// that "openai-api-key" and "openai.api_key" read as OPENAI_API_KEY.
func normName(name string) string {
	name = strings.TrimSpace(name)
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c == '-' || c == '.':
			b[i] = '_'
		}
	}
	return string(b)
}

// envNames are the variables that name their provider.
var envNames = map[string]string{
	"OPENAI_API_KEY": KindOpenAIAPIKey, "OPENAI_KEY": KindOpenAIAPIKey, "OPENAI_ADMIN_KEY": KindOpenAIAPIKey,
	"ANTHROPIC_API_KEY": KindAnthropicAPIKey, "ANTHROPIC_AUTH_TOKEN": KindAnthropicAPIKey,
	"ANTHROPIC_ADMIN_KEY": KindAnthropicAPIKey, "CLAUDE_API_KEY": KindAnthropicAPIKey,
	"CLAUDE_CODE_OAUTH_TOKEN": KindAnthropicAPIKey,
	"MISTRAL_API_KEY":         KindMistralAPIKey, "CODESTRAL_API_KEY": KindMistralAPIKey,
	"COHERE_API_KEY": KindCohereAPIKey, "CO_API_KEY": KindCohereAPIKey,
	"GROQ_API_KEY":         KindGroqAPIKey,
	"OPENROUTER_API_KEY":   KindOpenRouterAPIKey,
	"AZURE_OPENAI_API_KEY": KindAzureOpenAIKey, "AZURE_OPENAI_KEY": KindAzureOpenAIKey,
	"AZURE_API_KEY": KindAzureOpenAIKey, "AZURE_AI_API_KEY": KindAzureOpenAIKey,
	"GEMINI_API_KEY": KindGoogleAPIKey, "GOOGLE_API_KEY": KindGoogleAPIKey,
	"GOOGLE_GENERATIVE_AI_API_KEY": KindGoogleAPIKey, "GOOGLE_AI_API_KEY": KindGoogleAPIKey,
	"PALM_API_KEY":          KindGoogleAPIKey,
	"AWS_SECRET_ACCESS_KEY": KindAWSAccessKey, "AWS_ACCESS_KEY_ID": KindAWSAccessKey,
	"AWS_SESSION_TOKEN": KindAWSAccessKey, "AWS_SECURITY_TOKEN": KindAWSAccessKey,
	"AWS_SECRET_KEY": KindAWSAccessKey, "AWS_ACCESS_KEY": KindAWSAccessKey,
	"GITHUB_TOKEN": KindGitHubToken, "GH_TOKEN": KindGitHubToken, "GITHUB_PAT": KindGitHubToken,
	"GH_ENTERPRISE_TOKEN": KindGitHubToken, "GITHUB_ENTERPRISE_TOKEN": KindGitHubToken,
	"GITHUB_API_TOKEN": KindGitHubToken, "GITHUB_ACCESS_TOKEN": KindGitHubToken,
	"HOMEBREW_GITHUB_API_TOKEN": KindGitHubToken, "GITHUB_OAUTH_TOKEN": KindGitHubToken,
	"GITLAB_TOKEN": KindGitLabToken, "GL_TOKEN": KindGitLabToken, "GITLAB_PRIVATE_TOKEN": KindGitLabToken,
	"GITLAB_ACCESS_TOKEN": KindGitLabToken, "CI_JOB_TOKEN": KindGitLabToken,
	"HF_TOKEN": KindHuggingFaceToken, "HUGGING_FACE_HUB_TOKEN": KindHuggingFaceToken,
	"HUGGINGFACE_TOKEN": KindHuggingFaceToken, "HUGGINGFACEHUB_API_TOKEN": KindHuggingFaceToken,
	"HUGGINGFACE_API_KEY": KindHuggingFaceToken, "HF_API_TOKEN": KindHuggingFaceToken,
	"SLACK_TOKEN": KindSlackToken, "SLACK_BOT_TOKEN": KindSlackToken, "SLACK_APP_TOKEN": KindSlackToken,
	"SLACK_USER_TOKEN": KindSlackToken, "SLACK_API_TOKEN": KindSlackToken,
	"SLACK_WEBHOOK_URL": KindSlackWebhook, "SLACK_WEBHOOK": KindSlackWebhook,
	"NPM_TOKEN": KindNPMToken, "NODE_AUTH_TOKEN": KindNPMToken, "NPM_AUTH_TOKEN": KindNPMToken,
	"PYPI_TOKEN": KindPyPIToken, "PYPI_API_TOKEN": KindPyPIToken, "PYPI_PASSWORD": KindPyPIToken,
	"TWINE_PASSWORD": KindPyPIToken, "UV_PUBLISH_TOKEN": KindPyPIToken, "UV_PUBLISH_PASSWORD": KindPyPIToken,
	"POETRY_PYPI_TOKEN_PYPI": KindPyPIToken, "FLIT_PASSWORD": KindPyPIToken,
	"VAULT_TOKEN":        KindVaultToken,
	"LITELLM_MASTER_KEY": KindLiteLLMMasterKey, "LITELLM_PROXY_MASTER_KEY": KindLiteLLMMasterKey,
	"PGPASSWORD": KindDatabasePassword, "MYSQL_PWD": KindDatabasePassword, "REDISCLI_AUTH": KindDatabasePassword,
	"AZURE_CLIENT_SECRET": KindAzureCredentials, "ARM_CLIENT_SECRET": KindAzureCredentials,
	"AZURE_STORAGE_KEY": KindAzureCredentials, "AZURE_STORAGE_ACCOUNT_KEY": KindAzureCredentials,
	"AZURE_STORAGE_CONNECTION_STRING": KindAzureCredentials, "AZURE_STORAGE_SAS_TOKEN": KindAzureCredentials,
	"ARM_ACCESS_KEY": KindAzureCredentials, "AZURE_DEVOPS_EXT_PAT": KindAzureCredentials,
	"GOOGLE_APPLICATION_CREDENTIALS_JSON": KindGCPCredentials, "GCP_SERVICE_ACCOUNT_KEY": KindGCPCredentials,
	"GOOGLE_CREDENTIALS": KindGCPCredentials, "GCLOUD_SERVICE_KEY": KindGCPCredentials,
	"GOOGLE_CLOUD_KEYFILE_JSON": KindGCPCredentials,
	"DOCKER_PASSWORD":           KindDockerAuth, "DOCKERHUB_TOKEN": KindDockerAuth, "DOCKER_HUB_TOKEN": KindDockerAuth,
	"DOCKER_AUTH_CONFIG": KindDockerAuth, "DOCKERHUB_PASSWORD": KindDockerAuth, "REGISTRY_PASSWORD": KindDockerAuth,
	"KUBE_TOKEN": KindKubeconfig, "K8S_TOKEN": KindKubeconfig, "KUBERNETES_TOKEN": KindKubeconfig,
	"KUBE_BEARER_TOKEN": KindKubeconfig,
}

// notSecretNames hold identifiers, paths and public values whose names look
// like secrets'.
var notSecretNames = map[string]bool{
	"GPG_KEY": true, "GPG_TTY": true, "SSH_AUTH_SOCK": true, "KUBECONFIG": true,
	"GOOGLE_APPLICATION_CREDENTIALS": true, "AWS_PROFILE": true, "AWS_SHARED_CREDENTIALS_FILE": true,
	"AWS_CONFIG_FILE": true, "PASSWORD_STORE_DIR": true, "NPM_CONFIG_USERCONFIG": true,
	"PRIMARY_KEY": true, "FOREIGN_KEY": true, "SORT_KEY": true, "HOTKEY": true,
	"TOKENIZERS_PARALLELISM": true,
}

var notSecretSuffixes = []string{
	"_PUBLIC_KEY", "_PUBLISHABLE_KEY", "_PUB_KEY", "_SITE_KEY", "_KEY_ID", "_SORT_KEY",
	"_PARTITION_KEY", "_PRIMARY_KEY", "_CACHE_KEY", "_HOTKEY", "_FINGERPRINT", "_GPG_KEY",
	"_IDEMPOTENCY_KEY", "_SHORTCUT_KEY",
}

// secretSuffixes make a name a secret's; dbWords make a password a
// database's.
var secretSuffixes = []string{
	"_PASSWORD", "_PASSWD", "_PASS", "_PWD", "_SECRET", "_TOKEN", "_KEY", "_APIKEY",
	"_CREDENTIALS", "_CREDS", "_AUTH", "_KEY_BASE", "_WEBHOOK", "_WEBHOOK_URL",
}

var secretNames = map[string]bool{
	"PASSWORD": true, "PASSWD": true, "SECRET": true, "TOKEN": true, "API_KEY": true, "APIKEY": true,
	"SECRET_KEY": true, "ACCESS_TOKEN": true, "AUTH_TOKEN": true, "PRIVATE_KEY": true, "MASTER_KEY": true,
	"REFRESH_TOKEN": true, "CLIENT_SECRET": true, "BEARER_TOKEN": true,
}

var dbWords = map[string]bool{
	"DB": true, "DATABASE": true, "POSTGRES": true, "POSTGRESQL": true, "PG": true, "PGSQL": true,
	"PSQL": true, "MYSQL": true, "MARIADB": true, "MONGO": true, "MONGODB": true, "REDIS": true,
	"SQL": true, "MSSQL": true, "ORACLE": true, "CASSANDRA": true, "CLICKHOUSE": true,
	"COUCHDB": true, "NEO4J": true, "INFLUXDB": true, "ELASTIC": true, "ELASTICSEARCH": true,
	"RDS": true, "SUPABASE": true,
}

// nameKind types a normalised name, or "" when the name says nothing.
func nameKind(n string) string {
	if k, ok := envNames[n]; ok {
		return k
	}
	if notSecretNames[n] {
		return ""
	}
	for _, s := range notSecretSuffixes {
		if strings.HasSuffix(n, s) {
			return ""
		}
	}
	if strings.HasSuffix(n, "SECRET_ACCESS_KEY") && strings.Contains(n, "AWS") {
		return KindAWSAccessKey
	}
	secret := secretNames[n]
	if !secret {
		for _, s := range secretSuffixes {
			if strings.HasSuffix(n, s) {
				secret = true
				break
			}
		}
	}
	if !secret {
		return ""
	}
	if isPasswordName(n) {
		for w := range strings.SplitSeq(n, "_") {
			if dbWords[w] {
				return KindDatabasePassword
			}
		}
	}
	return KindGenericSecret
}

func isPasswordName(n string) bool {
	return n == "PASSWORD" || strings.HasSuffix(n, "_PASSWORD") || strings.HasSuffix(n, "_PASSWD") ||
		strings.HasSuffix(n, "_PASS") || strings.HasSuffix(n, "_PWD")
}

// valueKind types a value by its own format.
func valueKind(n, v string) (kind string, weak, ok bool) {
	if m, ok := firstToken(v); ok {
		return m.kind, m.weak, true
	}
	if i := strings.Index(v, pemBegin); i >= 0 {
		if label, _, ok := pemLabel([]byte(v), i+len(pemBegin)); ok && privateLabel(label) {
			switch {
			case label == "PGP PRIVATE KEY BLOCK":
				return KindGenericSecret, false, true
			case label == "OPENSSH PRIVATE KEY" || strings.Contains(n, "SSH"):
				return KindSSHPrivateKey, false, true
			}
			if k := nameKind(n); k != "" && k != KindGenericSecret {
				return k, false, true // a GCP or kube key in PEM is that credential
			}
			return KindTLSPrivateKey, false, true
		}
	}
	if c, ok := urlCredIn(v); ok {
		return c.kind, false, true
	}
	if strings.HasPrefix(v, "{") && strings.Contains(v, `"private_key"`) && strings.Contains(v, "service_account") {
		return KindGCPCredentials, false, true
	}
	return "", false, false
}

// urlCredIn finds the first URL with a password in v.
func urlCredIn(v string) (urlCred, bool) {
	data := []byte(v)
	for off := 0; ; {
		k := bytes.Index(data[off:], []byte("://"))
		if k < 0 {
			return urlCred{}, false
		}
		if c, ok := urlCredAt(data, off+k); ok {
			return c, true
		}
		off += k + 3
	}
}

// plausibleSecret rejects values that a secret-sounding name still does not
// make secret: short values, numbers, booleans, paths, plain URLs, ARNs.
func plausibleSecret(n, v string) bool {
	if len(v) < 4 {
		return false
	}
	switch strings.ToLower(v) {
	case "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "enabled", "disabled", "auto":
		return false
	}
	digits := true
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			digits = false
			break
		}
	}
	if digits && len(v) < 10 {
		return false
	}
	if looksLikePath(v) || strings.HasPrefix(v, "arn:") {
		return false
	}
	if strings.Contains(v, "://") && !strings.Contains(n, "WEBHOOK") {
		return false // a URL without a password (those were typed by valueKind)
	}
	return true
}

// looksLikePath reports a file path; a base64 secret may start with '/'
// too, but it has no dot, mixes case and digits, or carries '+' or '='.
func looksLikePath(v string) bool {
	if !(strings.HasPrefix(v, "/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") ||
		strings.HasPrefix(v, "~/") || len(v) > 2 && v[1] == ':' && (v[2] == '\\' || v[2] == '/')) {
		return false
	}
	if strings.ContainsAny(v, " \t+=") {
		return false
	}
	upper, digit := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		}
	}
	return !(upper && digit && !strings.Contains(v, "."))
}

// placeholders are values people write instead of a secret.
var placeholders = map[string]bool{
	"changeme": true, "change_me": true, "change-me": true, "changeit": true, "replaceme": true,
	"replace_me": true, "replace-me": true, "todo": true, "tbd": true, "fixme": true, "placeholder": true,
	"secret": true, "password": true, "passwd": true, "pass": true, "pwd": true, "token": true,
	"apikey": true, "api_key": true, "api-key": true, "key": true, "null": true, "none": true, "nil": true,
	"undefined": true, "empty": true, "redacted": true, "[redacted]": true, "<redacted>": true,
	"dummy": true, "example": true, "sample": true, "default": true, "notset": true, "not-set": true,
	"not_set": true, "unset": true, "n/a": true, "na": true, "foo": true, "bar": true, "baz": true,
	"foobar": true, "test": true, "testing": true, "fake": true, "mysecret": true, "mypassword": true,
	"secret123": true, "password123": true, "s3cr3t": true, "xxx": true,
}

// isPlaceholder reports values that stand for a secret without being one.
func isPlaceholder(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	l := strings.ToLower(v)
	if placeholders[l] {
		return true
	}
	if strings.HasPrefix(l, "<") && strings.HasSuffix(l, ">") {
		return true
	}
	if strings.HasSuffix(l, "...") || strings.HasSuffix(l, "…") {
		return true
	}
	for _, w := range [...]string{"your_", "your-", "your ", "yourkey", "yourtoken", "yoursecret",
		"yourpassword", "yourapi", "replace_me", "replace-me", "replaceme", "change_me", "changeme",
		"insert_", "insert-", "put_your", "put-your", "paste_", "paste-", "<your", "_here", "-here", " here"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	// A known prefix followed by filler only: "sk-xxxxxxxx", "ghp_****", "AKIAXXXXXXXXXXXXXXXX".
	body := l
	for _, p := range [...]string{"sk-proj-", "sk-ant-", "sk-", "ghp_", "github_pat_", "glpat-", "akia", "aiza", "xoxb-", "hf_", "gsk_", "npm_", "pypi-"} {
		if strings.HasPrefix(body, p) {
			body = body[len(p):]
			break
		}
	}
	filler := true
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case 'x', '*', '.', '-', '_', '#', '?':
		default:
			filler = false
		}
		if !filler {
			break
		}
	}
	return filler
}

// isReference reports values that name a secret held elsewhere: shell and
// template expansions, LiteLLM's os.environ/, secret-manager references,
// SOPS-encrypted values.
func isReference(v string) bool {
	switch {
	case strings.Contains(v, "${"), strings.Contains(v, "$("), strings.Contains(v, "{{"),
		strings.Contains(v, "%("), strings.Contains(v, "<%"), strings.ContainsRune(v, '`'):
		return true
	case len(v) > 1 && v[0] == '$' && (v[1] == '_' || v[1] >= 'A' && v[1] <= 'Z' || v[1] >= 'a' && v[1] <= 'z'):
		return true
	}
	l := strings.ToLower(v)
	for _, p := range [...]string{"os.environ/", "op://", "vault:", "vault://", "env:", "secret:",
		"awssm:", "sm://", "gcpsm://", "azkv://", "ssm:", "enc["} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// isPublicMaterial reports public keys and certificates.
func isPublicMaterial(v string) bool {
	for _, p := range [...]string{"ssh-rsa ", "ssh-ed25519 ", "ssh-dss ", "ecdsa-sha2-", "sk-ssh-ed25519@", "sk-ecdsa-sha2-"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	if strings.Contains(v, "-----BEGIN ") && !strings.Contains(v, "PRIVATE KEY") {
		return true
	}
	return false
}

// unquote strips one pair of matching surrounding quotes.
func unquote(v string) string {
	if len(v) >= 2 {
		if q := v[0]; (q == '"' || q == '\'' || q == '`') && v[len(v)-1] == q {
			return v[1 : len(v)-1]
		}
	}
	return v
}

// envVar is one NAME=value assignment in a file.
type envVar struct {
	name, value string
	line        int
	dynamic     bool   // the value has an unresolved shell expansion
	label       string // prefix for Detail ("Environment")
}

// envEmitter adds assignments as Founds, pairing each set of AWS variables
// of a file (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or
// the same with a common prefix or suffix: PROD_AWS_...) into one access key.
type envEmitter struct {
	r          *results
	aws        []*awsVars
	owner      string // Owner for every Found (the file names one)
	prefix     string // Detail prefix, e.g. "environment_variables."
	lineDetail bool   // Detail "line N: NAME" (else prefix+NAME)
}

// awsVars is one set of AWS variables sharing a prefix and suffix.
type awsVars struct {
	group              string
	id, secret, token  envVar
	haveID, haveSecret bool
	haveToken          bool
}

// awsVarNames are the AWS variables paired, and their role.
var awsVarNames = [...]struct{ name, role string }{
	{"AWS_SECRET_ACCESS_KEY", "secret"}, {"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SESSION_TOKEN", "token"},
	{"AWS_SECURITY_TOKEN", "token"}, {"AWS_SECRET_KEY", "secret"}, {"AWS_ACCESS_KEY", "id"},
}

// awsRole finds an AWS variable inside a normalised name: its role and the
// name with it cut out (the group).
func awsRole(n string) (role, group string) {
	for _, a := range awsVarNames {
		if i := strings.Index(n, a.name); i >= 0 {
			rest := n[i+len(a.name):]
			if rest != "" && rest[0] != '_' {
				continue // AWS_ACCESS_KEY_IDS, AWS_SECRET_KEYRING ...
			}
			if strings.HasSuffix(rest, "_FILE") || strings.HasSuffix(rest, "_PATH") {
				return "", ""
			}
			return a.role, n[:i] + "*" + rest
		}
	}
	return "", ""
}

func (e *envEmitter) awsGroup(g string) *awsVars {
	for _, a := range e.aws {
		if a.group == g {
			return a
		}
	}
	a := &awsVars{group: g}
	e.aws = append(e.aws, a)
	return a
}

func (e *envEmitter) detail(v envVar) string {
	name := v.name
	if v.label != "" {
		name = v.label + " " + name
	}
	if e.lineDetail {
		return "line " + strconv.Itoa(v.line) + ": " + name
	}
	return e.prefix + name
}

// add handles one assignment; false once the file's results are full.
func (e *envEmitter) add(v envVar) bool {
	if e.r.full() {
		return false
	}
	val := strings.TrimSpace(v.value)
	if v.dynamic {
		// "$HOME/x" or "$(pass show k)": only a literal provider key in it counts.
		if m, ok := firstToken(val); ok && m.kind != KindAWSAccessKey {
			return e.r.add(Found{Kind: m.kind, Detail: e.detail(v), Note: m.note, Owner: e.owner}, val[m.start:m.end])
		}
		return true
	}
	if val == "" || isPlaceholder(val) || isReference(val) {
		return true
	}
	v.value = unquote(val)
	if role, group := awsRole(normName(v.name)); role != "" && len(e.aws) < MaxFound {
		a := e.awsGroup(group)
		switch role {
		case "id":
			a.id, a.haveID = v, true
		case "secret":
			a.secret, a.haveSecret = v, true
		case "token":
			a.token, a.haveToken = v, true
		}
		return true
	}
	kind, ok := KindForEnv(v.name, v.value)
	if !ok {
		return true
	}
	return addValue(e.r, kind, v.value, Found{Detail: e.detail(v), Owner: e.owner})
}

// flush adds the file's AWS access keys.
func (e *envEmitter) flush() {
	for _, a := range e.aws {
		f := Found{Kind: KindAWSAccessKey, Owner: e.owner}
		if a.haveID {
			f.Hint = redact.Hint(a.id.value)
			if a.haveSecret || a.haveToken {
				e.r.claim(a.id.value)
			}
		}
		var ok bool
		switch {
		case a.haveSecret:
			f.Detail = e.detail(a.secret)
			if a.haveToken {
				f.Note = "session credentials (with a session token)"
			}
			ok = e.r.add(f, a.secret.value)
		case a.haveToken:
			f.Detail = e.detail(a.token)
			f.Note = "session token only"
			ok = e.r.add(f, a.token.value)
		default:
			f.Detail = e.detail(a.id)
			f.Note = "secret access key not in this file"
			ok = e.r.add(f, a.id.value)
		}
		if !ok {
			return
		}
	}
}

// addValue adds a typed value: the provider key inside it, the password of
// a URL, the private key block, or the whole value. tmpl carries Detail and
// Owner.
func addValue(r *results, kind, v string, tmpl Found) bool {
	tmpl.Kind = kind
	if strings.Contains(v, pemBegin) {
		kk := kind
		if kk == KindGenericSecret {
			kk = ""
		}
		detail := tmpl.Detail
		if n := scanKeyBlocks(r, []byte(v), keyOpts{kind: kk, owner: tmpl.Owner, detail: func(int) string { return detail }}); n > 0 {
			return !r.full()
		}
	}
	if m, ok := firstToken(v); ok {
		if m.kind == KindAWSAccessKey {
			tmpl.Hint = redact.Hint(v[m.start:m.end])
			if s := awsSecretNear([]byte(v), m.start, m.end); s != "" {
				r.claim(v[m.start:m.end])
				return r.add(tmpl, s)
			}
		}
		if tmpl.Note == "" {
			tmpl.Note = m.note
		}
		return r.add(tmpl, v[m.start:m.end])
	}
	if c, ok := urlCredIn(v); ok {
		if tmpl.Owner == "" {
			tmpl.Owner = c.owner()
		}
		return r.add(tmpl, c.pass)
	}
	return r.add(tmpl, v)
}

// parseDotenv reads .env files and /etc/environment: KEY=VALUE lines, with
// optional "export", quotes (double quotes take \n escapes and may span
// lines) and # comments.
func parseDotenv(r *results, _ string, data []byte) {
	e := &envEmitter{r: r, lineDetail: true}
	eachDotenv(data, e.add)
	e.flush()
	scanText(r, data, scanOpts{})
}

// eachDotenv calls fn for every assignment in a dotenv file.
func eachDotenv(data []byte, fn func(envVar) bool) {
	c := cursor{data: data}
	for !c.eof() {
		line := c.lineNo()
		c.skipBlanks()
		if c.eof() {
			return
		}
		if c.peek() == '#' || c.peek() == '\n' {
			c.skipLine()
			continue
		}
		c.skipWord("export")
		name := c.name()
		c.skipBlanks()
		if name == "" || !c.eat('=') {
			c.skipLine()
			continue
		}
		c.skipBlanks()
		var v string
		switch q := c.peek(); q {
		case '"', '\'', '`':
			val, ok := c.quoted(q)
			if !ok {
				c.skipLine()
				continue
			}
			v = val
			if q == '"' {
				v = unescapeDouble(v)
			}
			c.skipLine()
		default:
			raw := c.restOfLine()
			if i := commentStart(raw); i >= 0 {
				raw = raw[:i]
			}
			v = strings.TrimSpace(raw)
		}
		if !fn(envVar{name: name, value: v, line: line}) {
			return
		}
	}
}

// commentStart finds " #" in an unquoted value.
func commentStart(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') {
			return i
		}
	}
	return -1
}

func unescapeDouble(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '"', '\\', '$', '`':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// parseShell reads shell start-up files: assignments at the start of a line
// (after "export", "declare -x", "typeset -x", "readonly", "local", or csh's
// "setenv NAME value"), several per line. Values with an unresolved
// expansion count only for a literal provider key inside them.
func parseShell(r *results, _ string, data []byte) {
	e := &envEmitter{r: r, lineDetail: true}
	eachShellAssignment(data, e.add)
	e.flush()
	scanText(r, data, scanOpts{})
}

func eachShellAssignment(data []byte, fn func(envVar) bool) {
	c := cursor{data: data}
	for !c.eof() {
		line := c.lineNo()
		c.skipBlanks()
		if c.eof() {
			return
		}
		if c.peek() == '#' || c.peek() == '\n' {
			c.skipLine()
			continue
		}
		csh := false
		switch {
		case c.skipWord("export"), c.skipWord("readonly"), c.skipWord("local"):
		case c.skipWord("declare"), c.skipWord("typeset"):
			for c.peek() == '-' {
				c.skipToken()
				c.skipBlanks()
			}
		case c.skipWord("setenv"):
			csh = true
		}
		for !c.eof() && c.peek() != '\n' {
			name := c.name()
			if name == "" {
				break
			}
			if csh {
				c.skipBlanks()
			} else if !c.eat('=') {
				break
			}
			v, dyn, ok := c.shellWord()
			if !ok {
				break
			}
			if !fn(envVar{name: name, value: v, line: line, dynamic: dyn}) {
				return
			}
			c.skipBlanks()
			if csh {
				break
			}
		}
		c.skipLine()
	}
}

// parseSystemd reads unit files and drop-ins: Environment= (one or more
// NAME=VALUE, quoted or not) and SetCredential=ID:VALUE.
func parseSystemd(r *results, _ string, data []byte) {
	e := &envEmitter{r: r, lineDetail: true}
	eachLogicalLine(data, func(n int, line string) bool {
		line = strings.TrimSpace(line)
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return true
		}
		switch strings.TrimSpace(key) {
		case "Environment":
			for _, w := range systemdWords(val) {
				name, v, ok := strings.Cut(w, "=")
				if !ok || !validName(name) {
					continue
				}
				if !e.add(envVar{name: name, value: v, line: n, label: "Environment"}) {
					return false
				}
			}
		case "SetCredential":
			id, v, ok := strings.Cut(strings.TrimSpace(val), ":")
			if !ok || v == "" || isPlaceholder(v) {
				return true
			}
			kind, ok := KindForEnv(id, v)
			if !ok {
				kind = KindGenericSecret
			}
			return addValue(r, kind, v, Found{Detail: "line " + strconv.Itoa(n) + ": SetCredential " + id, Note: "systemd credential"})
		}
		return true
	})
	e.flush()
	scanText(r, data, scanOpts{})
}

// eachLogicalLine joins backslash-continued lines (systemd, INI-like files).
func eachLogicalLine(data []byte, fn func(n int, line string) bool) {
	var cont strings.Builder
	start := 0
	eachLine(data, func(n int, l []byte) bool {
		if cont.Len() == 0 {
			start = n
		}
		if bytes.HasSuffix(l, []byte{'\\'}) && cont.Len() < 64<<10 {
			cont.Write(l[:len(l)-1])
			cont.WriteByte(' ')
			return true
		}
		if cont.Len() > 0 {
			cont.Write(l)
			s := cont.String()
			cont.Reset()
			return fn(start, s)
		}
		return fn(n, string(l))
	})
	if cont.Len() > 0 {
		fn(start, cont.String())
	}
}

// systemdWords splits an Environment= value into words: whitespace
// separated, double or single quotes grouping, backslash escapes.
func systemdWords(s string) []string {
	var words []string
	var b strings.Builder
	in := false
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == '\\' && i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			} else if c == q {
				q = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			q, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			in = true
		default:
			b.WriteByte(c)
			in = true
		}
		if len(words) > MaxFound {
			break
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words
}

func validName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}
