package credentials

import (
	"path"
	"sort"
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// parseGCPFile reads a GCP credentials JSON file.
func parseGCPFile(r *results, _ string, data []byte) {
	parseGCP(r, data)
	scanText(r, data, scanOpts{keyKind: KindGCPCredentials})
}

// parseGCP reads a GCP credential file: service_account (Secret the
// private key, Owner client_email, Hint the key id's hint), authorized_user
// (Secret the refresh token, Owner the account or OAuth client id), and the
// source credentials of impersonated_service_account. external_account files
// hold no secret (they point at one).
func parseGCP(r *results, data []byte) {
	addGCP(r, obj(parseJSON(data)), 0)
}

func addGCP(r *results, m map[string]any, depth int) {
	if m == nil || depth > 2 {
		return
	}
	switch t := jstr(m, "type"); t {
	case "service_account":
		pk := jstr(m, "private_key")
		if pk == "" {
			return
		}
		o := keyOpts{kind: KindGCPCredentials, owner: jstr(m, "client_email"),
			detail: func(int) string { return "service_account private_key" }}
		if id := jstr(m, "private_key_id"); id != "" {
			o.note = "key id " + id
			o.hint = redact.Hint(id)
		}
		if scanKeyBlocks(r, []byte(pk), o) == 0 && !isPlaceholder(pk) {
			r.add(Found{Kind: KindGCPCredentials, Owner: o.owner, Detail: "service_account private_key", Hint: o.hint, Note: o.note}, pk)
		}
	case "authorized_user":
		tok := jstr(m, "refresh_token")
		if tok == "" || isPlaceholder(tok) {
			return
		}
		owner := jstr(m, "account")
		if owner == "" {
			owner = jstr(m, "client_id")
		}
		r.add(Found{Kind: KindGCPCredentials, Owner: owner, Detail: "authorized_user refresh_token"}, tok)
	case "impersonated_service_account":
		addGCP(r, obj(m["source_credentials"]), depth+1)
	}
}

// parseGcloudDB reports gcloud's SQLite credential stores
// (~/.config/gcloud/credentials.db, access_tokens.db) whole: the file is the
// secret, and it is not parsed.
func parseGcloudDB(r *results, p string, data []byte) {
	r.add(Found{Kind: KindGCPCredentials, Detail: path.Base(p), Note: "gcloud credential store"}, string(data))
}

// parseAzure reads the Azure CLI's token caches: msal_token_cache.json
// (AccessToken and RefreshToken entries; Owner the account's username),
// the older accessTokens.json, and service_principal_entries.json (client
// secrets). One Found per distinct secret.
func parseAzure(r *results, _ string, data []byte) {
	root := parseJSON(data)
	users := map[string]string{} // home_account_id -> username
	for _, a := range obj(obj(root)["Account"]) {
		am := obj(a)
		if id, u := jstr(am, "home_account_id"), jstr(am, "username"); id != "" && u != "" {
			users[id] = u
		}
	}
	type hit struct {
		f Found
		v string
	}
	var hits []hit
	add := func(f Found, v string) {
		if v != "" && !isPlaceholder(v) && !isReference(v) && len(hits) < MaxFound {
			f.Kind = KindAzureCredentials
			hits = append(hits, hit{f, v})
		}
	}
	walkObjects(root, func(_ []string, m map[string]any) bool {
		switch ct := jstr(m, "credential_type"); ct {
		case "AccessToken", "AccessToken_With_AuthScheme", "RefreshToken":
			owner := users[jstr(m, "home_account_id")]
			if owner == "" {
				owner = jstr(m, "client_id")
			}
			note := "refresh token"
			if ct != "RefreshToken" {
				note = "access token (short-lived)"
			}
			add(Found{Owner: owner, Detail: ct + tenantDetail(jstr(m, "realm")), Note: note}, jstr(m, "secret"))
			return len(hits) < MaxFound
		}
		sp := jstr(m, "servicePrincipalId")
		owner := firstOf(jstr(m, "userId"), sp, jstr(m, "client_id"), jstr(m, "clientId"), jstr(m, "_clientId"))
		tenant := firstOf(jstr(m, "servicePrincipalTenant"), jstr(m, "tenant"), jstr(m, "tenant_id"), jstr(m, "_authority"))
		for _, k := range [...]string{"refreshToken", "refresh_token"} {
			add(Found{Owner: owner, Detail: k + tenantDetail(tenant), Note: "refresh token"}, jstr(m, k))
		}
		for _, k := range [...]string{"accessToken", "access_token"} {
			note := "access token (short-lived)"
			if sp != "" {
				note = "service principal secret"
			}
			add(Found{Owner: owner, Detail: k + tenantDetail(tenant), Note: note}, jstr(m, k))
		}
		for _, k := range [...]string{"client_secret", "clientSecret"} {
			add(Found{Owner: owner, Detail: k + tenantDetail(tenant), Note: "service principal secret"}, jstr(m, k))
		}
		return len(hits) < MaxFound
	})
	// The walk visits map entries in random order; report in a stable one:
	// refresh tokens and secrets before access tokens, then by detail.
	sort.SliceStable(hits, func(i, j int) bool {
		ai, aj := strings.HasPrefix(hits[i].f.Note, "access"), strings.HasPrefix(hits[j].f.Note, "access")
		if ai != aj {
			return !ai
		}
		if hits[i].f.Detail != hits[j].f.Detail {
			return hits[i].f.Detail < hits[j].f.Detail
		}
		return hits[i].v < hits[j].v
	})
	for _, h := range hits {
		if !r.add(h.f, h.v) {
			break
		}
	}
	scanText(r, data, scanOpts{})
}

func tenantDetail(t string) string {
	if t == "" {
		return ""
	}
	return " tenant " + t
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
