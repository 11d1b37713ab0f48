package credentials

import (
	"crypto/ecdh"
	"encoding/base64"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// parseKeyword reads the small service files the harvester took, where one
// keyword introduces a password: msmtp, postfix sasl_passwd, LDAP client and
// server configuration, gsutil's .boto, s3cmd's .s3cfg, rclone.conf and the
// cryptocurrency node configs (rpcpassword).
func parseKeyword(r *results, p string, data []byte) {
	switch base := path.Base(p); base {
	case ".msmtprc", "msmtprc":
		keywordLines(r, data, map[string]string{"password": KindGenericSecret}, "")
	case "ldap.conf", "slapd.conf":
		keywordLines(r, data, map[string]string{"bindpw": KindGenericSecret, "rootpw": KindGenericSecret}, "LDAP bind password")
	case "sasl_passwd":
		parseSASLPasswd(r, data)
	case ".boto", ".s3cfg", "rclone.conf":
		parseKeyINI(r, data)
	default: // bitcoin.conf and its kin
		eachINI(data, func(e iniEntry) bool {
			if e.key != "rpcpassword" || e.value == "" || isPlaceholder(e.value) {
				return true
			}
			return r.add(Found{Kind: KindGenericSecret, Detail: "line " + strconv.Itoa(e.line) + ": rpcpassword", Note: "node RPC password"}, e.value)
		})
	}
	scanText(r, data, scanOpts{})
}

// keywordLines reads "keyword value" lines (case-insensitive keyword).
// Values in braces ({SSHA}...) are hashes and skipped.
func keywordLines(r *results, data []byte, keys map[string]string, note string) {
	eachLine(data, func(n int, l []byte) bool {
		args := redisArgs(string(l))
		if len(args) < 2 || strings.HasPrefix(args[0], "#") {
			return true
		}
		k := strings.ToLower(args[0])
		kind, ok := keys[k]
		v := args[1]
		if !ok || v == "" || strings.HasPrefix(v, "{") || isPlaceholder(v) || isReference(v) {
			return true
		}
		return r.add(Found{Kind: kind, Detail: "line " + strconv.Itoa(n) + ": " + k, Note: note}, v)
	})
}

// parseSASLPasswd reads postfix's "[host]:port user:password" map.
func parseSASLPasswd(r *results, data []byte) {
	eachLine(data, func(n int, l []byte) bool {
		args := redisArgs(string(l))
		if len(args) < 2 || strings.HasPrefix(args[0], "#") {
			return true
		}
		user, pass, ok := strings.Cut(args[1], ":")
		if !ok || pass == "" || isPlaceholder(pass) {
			return true
		}
		host := strings.Trim(args[0], "[]")
		if i := strings.LastIndex(args[0], "]:"); i >= 0 {
			host = strings.Trim(args[0][:i], "[]")
		}
		return r.add(Found{Kind: KindGenericSecret, Owner: ownerAt(user, host), Detail: "line " + strconv.Itoa(n) + ": " + args[0], Note: "SMTP relay password"}, pass)
	})
}

// parseKeyINI reads INI files of cloud tools: secret keys (paired with their
// access key id for the hint), OAuth refresh tokens, rclone's passwords.
func parseKeyINI(r *results, data []byte) {
	type sect struct {
		keyID string
		hits  []iniEntry
	}
	var order []string
	secs := map[string]*sect{}
	eachINI(data, func(e iniEntry) bool {
		s := secs[e.section]
		if s == nil {
			if len(order) >= MaxFound {
				return false
			}
			s = &sect{}
			secs[e.section] = s
			order = append(order, e.section)
		}
		switch e.key {
		case "aws_access_key_id", "access_key", "access_key_id", "gs_access_key_id":
			s.keyID = e.value
		case "aws_secret_access_key", "secret_key", "secret_access_key", "gs_secret_access_key",
			"gs_oauth2_refresh_token", "client_secret", "token", "pass", "password", "session_token":
			if len(s.hits) < MaxFound {
				s.hits = append(s.hits, e)
			}
		}
		return true
	})
	for _, name := range order {
		s := secs[name]
		for _, e := range s.hits {
			v := unquote(e.value)
			if v == "" || isPlaceholder(v) || isReference(v) {
				continue
			}
			f := Found{Kind: KindGenericSecret, Detail: "section [" + name + "] " + e.key}
			switch e.key {
			case "aws_secret_access_key", "secret_key", "secret_access_key":
				f.Kind = KindAWSAccessKey
				if s.keyID != "" {
					f.Hint = redact.Hint(s.keyID)
					r.claim(s.keyID)
				}
			case "gs_secret_access_key":
				f.Kind, f.Note = KindGCPCredentials, "GCS HMAC secret"
				if s.keyID != "" {
					f.Hint = redact.Hint(s.keyID)
				}
			case "gs_oauth2_refresh_token":
				f.Kind, f.Note = KindGCPCredentials, "refresh token"
			case "pass":
				f.Note = "rclone-obscured password (reversible)"
			case "token":
				f.Note = "OAuth token"
			}
			if k, ok := tokenKind(v); ok {
				f.Kind = k
			}
			if !r.add(f, v) {
				return
			}
		}
	}
}

// parseTFVars reads Terraform variable files: name = "value" assignments
// typed like environment variables, and any password/secret/token name as a
// generic secret; .tfvars.json likewise at the top level.
func parseTFVars(r *results, p string, data []byte) {
	if strings.HasSuffix(p, ".json") {
		m := obj(parseJSON(data))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := m[k].(string); ok && !addTFValue(r, k, v, "variable "+k) {
				break
			}
		}
	} else {
		eachLine(data, func(n int, l []byte) bool {
			s := strings.TrimSpace(string(l))
			if s == "" || s[0] == '#' || strings.HasPrefix(s, "//") {
				return true
			}
			k, v, ok := strings.Cut(s, "=")
			if !ok {
				return true
			}
			k = strings.TrimSpace(k)
			v = strings.TrimSpace(v)
			if !validName(k) || !strings.HasPrefix(v, `"`) {
				return true
			}
			end := strings.LastIndexByte(v, '"')
			if end <= 0 {
				return true
			}
			return addTFValue(r, k, unescapeDouble(v[1:end]), "line "+strconv.Itoa(n)+": "+k)
		})
	}
	scanText(r, data, scanOpts{})
}

// tfSecretWords make a Terraform attribute or variable a secret's.
var tfSecretWords = []string{"password", "secret", "token", "private_key", "access_key", "api_key", "apikey"}

func tfSecretName(k string) bool {
	l := strings.ToLower(k)
	for _, s := range [...]string{"_id", "_arn", "_name", "_type", "_version", "_length", "_ttl", "_url", "_path", "_file", "_enabled", "_rotation"} {
		if strings.HasSuffix(l, s) {
			return false
		}
	}
	for _, w := range tfSecretWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

func addTFValue(r *results, name, v, detail string) bool {
	if v == "" || isPlaceholder(v) || isReference(v) || isPublicMaterial(v) {
		return true
	}
	kind, ok := KindForEnv(name, v)
	if !ok {
		if !tfSecretName(name) || !plausibleSecret(normName(name), v) {
			return true
		}
		kind = KindGenericSecret
	}
	return addValue(r, kind, v, Found{Detail: detail})
}

// parseTFState reads terraform.tfstate: resource attributes and sensitive
// outputs whose names are secrets' (password, secret, token, private_key,
// access_key ...), Detail the resource address and attribute.
func parseTFState(r *results, _ string, data []byte) {
	root := obj(parseJSON(data))
	for _, rv := range arr(root["resources"]) {
		res := obj(rv)
		addr := jstr(res, "type") + "." + jstr(res, "name")
		if mod := jstr(res, "module"); mod != "" {
			addr = mod + "." + addr
		}
		for i, iv := range arr(res["instances"]) {
			at := addr
			if i > 0 {
				at += "[" + strconv.Itoa(i) + "]"
			}
			attrs := obj(obj(iv)["attributes"])
			if jstr(res, "type") == "aws_iam_access_key" {
				// An IAM access key resource: secret is the secret access key, id its key id.
				if s := jstr(attrs, "secret"); s != "" && !isPlaceholder(s) {
					f := Found{Kind: KindAWSAccessKey, Detail: at + " secret"}
					if id := jstr(attrs, "id"); id != "" {
						f.Hint, f.KeyID = redact.Hint(id), id
						r.claim(id)
					}
					if !r.add(f, s) {
						return
					}
				}
			}
			if !tfAttributes(r, attrs, at, 0) {
				return
			}
		}
	}
	outs := obj(root["outputs"])
	names := make([]string, 0, len(outs))
	for k := range outs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		o := obj(outs[k])
		if v, ok := o["value"].(string); ok && (o["sensitive"] == true || tfSecretName(k)) && v != "" && !isPlaceholder(v) {
			kind, ok := KindForEnv(k, v)
			if !ok {
				kind = KindGenericSecret
			}
			if !addValue(r, kind, v, Found{Detail: "output " + k}) {
				return
			}
		}
	}
	scanText(r, data, scanOpts{})
}

func tfAttributes(r *results, attrs map[string]any, addr string, depth int) bool {
	if attrs == nil || depth > 4 {
		return true
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := attrs[k].(type) {
		case string:
			if tfSecretName(k) && !addTFValue(r, k, v, addr+" "+k) {
				return false
			}
		case map[string]any:
			if !tfAttributes(r, v, addr, depth+1) {
				return false
			}
		case []any:
			for _, e := range v {
				if !tfAttributes(r, obj(e), addr, depth+1) {
					return false
				}
			}
		}
	}
	return true
}

// parseWireGuard reads /etc/wireguard/*.conf: the interface's PrivateKey
// (Hint its public key, derived with X25519) and peers' PresharedKeys.
func parseWireGuard(r *results, _ string, data []byte) {
	eachINI(data, func(e iniEntry) bool {
		v := firstField(e.value)
		if v == "" || isPlaceholder(v) || isReference(v) {
			return true
		}
		switch e.key {
		case "privatekey":
			return r.add(Found{Kind: KindGenericSecret, Detail: "[" + e.section + "] PrivateKey", Note: "wireguard private key", Hint: wgPublicHint(v)}, v)
		case "presharedkey":
			return r.add(Found{Kind: KindGenericSecret, Detail: "[" + e.section + "] PresharedKey, line " + strconv.Itoa(e.line), Note: "wireguard preshared key"}, v)
		}
		return true
	})
	scanText(r, data, scanOpts{})
}

// wgPublicHint names a WireGuard private key by its public key.
func wgPublicHint(priv string) string {
	b, err := base64.StdEncoding.DecodeString(priv)
	if err != nil || len(b) != 32 {
		return ""
	}
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return ""
	}
	return "wireguard public key " + base64.StdEncoding.EncodeToString(k.PublicKey().Bytes())
}
