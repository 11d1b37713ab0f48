package credentials

import (
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// parseAWSCache reads the AWS CLI's caches: ~/.aws/cli/cache/*.json hold
// assumed-role credentials (AccessKeyId, SecretAccessKey, SessionToken), and
// ~/.aws/sso/cache/*.json IAM Identity Center tokens (accessToken, and
// refreshToken with the client secret of the registration).
func parseAWSCache(r *results, _ string, data []byte) {
	root := parseJSON(data)
	walkObjects(root, func(_ []string, m map[string]any) bool {
		if s := jstr(m, "SecretAccessKey"); s != "" {
			f := Found{Kind: KindAWSAccessKey, Detail: "cli cache Credentials", Note: "cached temporary credentials"}
			if id := jstr(m, "AccessKeyId"); id != "" {
				f.Hint, f.KeyID = redact.Hint(id), id
				r.claim(id)
			}
			if exp := jstr(m, "Expiration"); exp != "" {
				f.Note += " (expire " + exp + ")"
			}
			return r.add(f, s)
		}
		if jstr(m, "startUrl") == "" && jstr(m, "clientId") == "" {
			return true
		}
		owner := hostOf(jstr(m, "startUrl"))
		keys := make([]string, 0, 3)
		for _, k := range [...]string{"refreshToken", "clientSecret", "accessToken"} {
			if jstr(m, k) != "" {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			note := "IAM Identity Center (SSO) " + strings.ToLower(strings.TrimSuffix(k, "Token")) + " token"
			if k == "clientSecret" {
				note = "IAM Identity Center client registration secret"
			}
			if !r.add(Found{Kind: KindGenericSecret, Owner: owner, Detail: "sso cache " + k, Note: note}, jstr(m, k)) {
				return false
			}
		}
		return true
	})
	scanText(r, data, scanOpts{})
}

// parseHelmRepos reads Helm's repositories.yaml: each repository's password
// (Owner username@host).
func parseHelmRepos(r *results, _ string, data []byte) {
	if root := parseYAML(data); root != nil {
		for _, e := range items(get(root, "repositories")) {
			pw := str(get(e, "password"))
			if pw == "" || isPlaceholder(pw) || isReference(pw) {
				continue
			}
			f := Found{Kind: KindGenericSecret, Owner: ownerAt(str(get(e, "username")), hostOf(str(get(e, "url")))),
				Detail: "repository " + str(get(e, "name")), Note: "Helm repository password"}
			if k, ok := tokenKind(pw); ok {
				f.Kind = k
			}
			if !r.add(f, pw) {
				break
			}
		}
	}
	scanText(r, data, scanOpts{})
}
