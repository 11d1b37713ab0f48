package credentials

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"strings"
)

// parseKubeFile reads a kubeconfig (~/.kube/config, /etc/kubernetes/*.conf,
// *kubeconfig*).
func parseKubeFile(r *results, _ string, data []byte) {
	parseKube(r, data)
	scanText(r, data, scanOpts{keyKind: KindKubeconfig})
}

// parseKube reads the users of a kubeconfig: token, client-key-data (the
// decoded key is the secret), password, and auth-provider tokens. Exec
// plugins, tokenFile and client-key paths hold no secret in the file. Owner is
// the cluster of the first context that uses the user.
func parseKube(r *results, data []byte) {
	root := parseYAML(data)
	if root == nil {
		return
	}
	clusterOf := map[string]string{}
	for _, c := range items(get(root, "contexts")) {
		ctx := get(c, "context")
		user, cluster := str(get(ctx, "user")), str(get(ctx, "cluster"))
		if _, seen := clusterOf[user]; !seen && user != "" {
			clusterOf[user] = cluster
		}
	}
	for _, u := range items(get(root, "users")) {
		if r.full() {
			return
		}
		name := str(get(u, "name"))
		user := get(u, "user")
		owner := clusterOf[name]
		detail := "user " + name
		add := func(v, note string) {
			if v == "" || isPlaceholder(v) || isReference(v) {
				return
			}
			r.add(Found{Kind: KindKubeconfig, Owner: owner, Detail: detail, Note: note}, v)
		}
		add(str(get(user, "token")), "bearer token")
		if kd := str(get(user, "client-key-data")); kd != "" {
			key, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(kd), ""))
			switch {
			case err != nil:
				add(kd, "client-key-data (not base64)")
			case scanKeyBlocks(r, key, keyOpts{kind: KindKubeconfig, owner: owner, note: "client certificate key",
				detail: func(int) string { return detail }}) == 0:
				add(string(key), "client certificate key (not PEM)")
			}
		}
		if pw := str(get(user, "password")); pw != "" {
			note := "basic auth password"
			if un := str(get(user, "username")); un != "" {
				note += " for " + un
			}
			add(pw, note)
		}
		ap := get(user, "auth-provider")
		apName := str(get(ap, "name"))
		eachPair(get(ap, "config"), func(k string, v *yamlNode) bool {
			switch k {
			case "id-token", "refresh-token", "access-token", "client-secret":
				add(str(v), "auth-provider "+apName+" "+k)
			}
			return !r.full()
		})
	}
}

// parseSAToken reads a projected service-account token: Secret the JWT,
// Owner its subject (system:serviceaccount:NS:NAME) when it decodes.
func parseSAToken(r *results, p string, data []byte) {
	tok := strings.TrimSpace(string(data))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") || len(tok) > 64<<10 {
		scanText(r, data, scanOpts{})
		return
	}
	f := Found{Kind: KindKubeconfig, Detail: "service account token", Owner: jwtSubject(tok)}
	if strings.Contains(p, "eks.amazonaws.com") {
		f.Kind, f.Note = KindGenericSecret, "EKS pod web-identity token (exchangeable for AWS credentials)"
	}
	r.add(f, tok)
}

// jwtSubject reads the "sub" claim of a JWT without verifying it: it names
// whom the token is for, which is not secret.
func jwtSubject(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return ""
	}
	return claims.Sub
}

// parseMountedSecret reads a file under /run/secrets, /var/run/secrets or
// /var/secrets: Docker and Kubernetes mount one secret value per file, so a
// one-line file is a secret whatever it looks like, typed by its name and
// format; a longer one is sniffed and scanned.
func parseMountedSecret(r *results, p string, data []byte) {
	v := strings.TrimSpace(string(data))
	if v != "" && !strings.ContainsAny(v, "\r\n") && len(v) <= 8<<10 && !isPlaceholder(v) && !isReference(v) {
		name := path.Base(p)
		kind, ok := KindForEnv(name, v)
		if !ok {
			kind = KindGenericSecret
		}
		addValue(r, kind, v, Found{Detail: "secret file " + name})
		return
	}
	parseText(r, p, data)
}
