package credentials

import (
	"strings"
	"testing"
)

// TestParseInline covers shapes too small for a fixture file of their own.
func TestParseInline(t *testing.T) {
	t.Parallel()
	edKey := pemOf(t, "tls_ed25519.pem", "PRIVATE KEY")
	jsonKey := strings.ReplaceAll(edKey, "\n", `\n`)
	cases := []struct {
		name, path, data string
		want             []want
	}{
		{"dotenv with BOM and CRLF", "/app/.env",
			"\ufeffGITHUB_TOKEN=" + vGHPAT + "\r\nOTHER=1\r\n",
			[]want{{KindGitHubToken, vGHPAT, "", "", "line 1: GITHUB_TOKEN", ""}}},
		{"AWS variables paired by prefix", "/app/.env.production",
			"PROD_AWS_ACCESS_KEY_ID=" + vAws1ID + "\nAWS_ACCESS_KEY_ID=" + vAws2ID + "\n" +
				"PROD_AWS_SECRET_ACCESS_KEY=" + vAws1Secret + "\nAWS_SECRET_ACCESS_KEY=" + vAws2Secret + "\n",
			[]want{
				{KindAWSAccessKey, vAws1Secret, "AKIA…MPLE", "", "line 3: PROD_AWS_SECRET_ACCESS_KEY", ""},
				{KindAWSAccessKey, vAws2Secret, "AKIA…MPLE", "", "line 4: AWS_SECRET_ACCESS_KEY", ""},
			}},
		{"AWS key id alone in .env", "/app/.env",
			"AWS_ACCESS_KEY_ID=" + vAws3ID + "\n",
			[]want{{KindAWSAccessKey, vAws3ID, "AKIA…PLE1", "", "line 1: AWS_ACCESS_KEY_ID", "secret access key not in this file"}}},
		{"AWS CLI JSON output", "/home/a/notes.txt",
			`{"AccessKey": {"UserName": "ci", "AccessKeyId": "` + vAws1ID + `", "Status": "Active", "SecretAccessKey": "` + vAws1Secret + `"}}`,
			[]want{{KindAWSAccessKey, vAws1Secret, "AKIA…MPLE", "", "line 1", ""}}},
		{"csh, declare -x and several assignments", "/home/a/.profile",
			"setenv GH_TOKEN " + vGHPAT + "\ndeclare -x HF_TOKEN=" + vHF + "\nexport A=1 NPM_TOKEN=" + vNPM + " B=2\n",
			[]want{
				{KindGitHubToken, vGHPAT, "", "", "line 1: GH_TOKEN", ""},
				{KindHuggingFaceToken, vHF, "", "", "line 2: HF_TOKEN", ""},
				{KindNPMToken, vNPM, "", "", "line 3: NPM_TOKEN", ""},
			}},
		{"shell expansion hides a literal key", "/home/a/.zshrc",
			`export AUTH="Bearer ` + vGHPAT + ` for $USER"` + "\n",
			[]want{{KindGitHubToken, vGHPAT, "", "", "line 1: AUTH", ""}}},
		{"systemd continuation", "/etc/systemd/system/app.service",
			"[Service]\nEnvironment=A=1 \\\n  DB_PASSWORD=" + vDBPW + "\n",
			[]want{{KindDatabasePassword, vDBPW, "", "", "line 2: Environment DB_PASSWORD", ""}}},
		{"docker user-only auth and identity token", "/home/a/.docker/config.json",
			`{"auths": {"reg.example.com": {"auth": "` + b64("robot:") + `", "identitytoken": "` + vIdentityToken + `"}}}`,
			[]want{{KindDockerAuth, vIdentityToken, "", "", "auths reg.example.com identitytoken", ""}}},
		{"bare extraheader bearer", "/home/a/.gitconfig",
			"[http]\n\textraheader = Authorization: Bearer " + vGlpat + "\n",
			[]want{{KindGitLabToken, vGlpat, "", "", "line 2: http.extraheader", "HTTP authorization header"}}},
		{"unterminated key block", "/home/a/.ssh/id_rsa",
			"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n", nil},
		{"key in JSON under any name", "/srv/app/secrets.json",
			`{"signing": "` + jsonKey + `"}`,
			[]want{{KindTLSPrivateKey, edKey, pinTLSEd25519, "", "line 1", ""}}},
		{"JSON kubeconfig", "/srv/x/admin.json",
			`{"kind": "Config", "users": [{"name": "u", "user": {"token": "` + vKUBEToken + `"}}]}`,
			[]want{{KindKubeconfig, vKUBEToken, "", "", "user u", "bearer token"}}},
		{"LiteLLM config under another name", "/srv/proxy.yml",
			"model_list:\n  - model_name: m\n    litellm_params:\n      model: anthropic/claude\n      api_key: FAKEnotAnthropicShapedKeyEXAMPLE\n",
			[]want{{KindAnthropicAPIKey, "FAKEnotAnthropicShapedKeyEXAMPLE", "", "", "model_list[0] m api_key", ""}}},
		{"Claude Code credentials", "/home/a/.claude/.credentials.json",
			`{"claudeAiOauth": {"accessToken": "sk-ant-oat01-FAKEexampleAccessToken0123456789abcdefghijklmnop", "refreshToken": "sk-ant-ort01-FAKEexampleRefreshToken0123456789abcdefghijklmno"}}`,
			[]want{
				{KindAnthropicAPIKey, "sk-ant-oat01-FAKEexampleAccessToken0123456789abcdefghijklmnop", "", "", "line 1", "Claude OAuth access token"},
				{KindAnthropicAPIKey, "sk-ant-ort01-FAKEexampleRefreshToken0123456789abcdefghijklmno", "", "", "line 1", "Claude OAuth refresh token"},
			}},
		{"git credentials with encoded password", "/home/a/.git-credentials",
			"https://bob:p%40ss%3Aw0rd-FAKE@git.example.org\n",
			[]want{{KindGitCredentials, "p@ss:w0rd-FAKE", "", "bob@git.example.org", "line 1: git.example.org", ""}}},
		{"EKS web identity token", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token", vSAJWT,
			[]want{{KindGenericSecret, vSAJWT, "", "system:serviceaccount:default:builder", "service account token",
				"EKS pod web-identity token (exchangeable for AWS credentials)"}}},
		{"kubelet projected token", "/var/run/secrets/kubernetes.io/serviceaccount/..2026_03_24_10_39_24.123/token", vSAJWT,
			[]want{{KindKubeconfig, vSAJWT, "", "system:serviceaccount:default:builder", "service account token", ""}}},
		{"placeholders only", "/app/.env",
			"OPENAI_API_KEY=sk-...\nANTHROPIC_API_KEY=<your-key>\nGITHUB_TOKEN=${GH}\nDB_PASSWORD=changeme\nAPI_KEY=xxxxxxxx\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := Parse(c.path, []byte(c.data))
			diff(t, got(out), c.want)
			for _, f := range out {
				checkFound(t, c.name, f)
			}
		})
	}
}

func TestParseCaches(t *testing.T) {
	t.Parallel()
	cli := `{"ProviderType": "assume-role", "Credentials": {"AccessKeyId": "` + vASIAID + `", "SecretAccessKey": "` + vASIASecret +
		`", "SessionToken": "` + vAWSSession + `", "Expiration": "2026-03-24T12:00:00Z"}}`
	sso := `{"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": "FAKEssoATkEXAMPLE0123",
		"expiresAt": "2026-03-24T18:00:00Z", "clientId": "FAKEclientid", "clientSecret": "FAKEssoCSecEXAMPLE0123", "refreshToken": "FAKEssoRTkEXAMPLE0123"}`
	helm := "apiVersion: \"\"\nrepositories:\n- name: private\n  url: https://charts.example.com\n  username: ci\n  password: FAKEhelmRepoPwEXAMPLE\n"
	cases := []struct {
		path, data string
		want       []want
	}{
		{"/home/a/.aws/cli/cache/0123abcd.json", cli, []want{
			{KindAWSAccessKey, vASIASecret, "ASIA…PLE3", "", "cli cache Credentials", "cached temporary credentials (expire 2026-03-24T12:00:00Z)"},
		}},
		{"/home/a/.aws/sso/cache/0123abcd.json", sso, []want{
			{KindGenericSecret, "FAKEssoRTkEXAMPLE0123", "", "corp.awsapps.com", "sso cache refreshToken", "IAM Identity Center (SSO) refresh token"},
			{KindGenericSecret, "FAKEssoCSecEXAMPLE0123", "", "corp.awsapps.com", "sso cache clientSecret", "IAM Identity Center client registration secret"},
			{KindGenericSecret, "FAKEssoATkEXAMPLE0123", "", "corp.awsapps.com", "sso cache accessToken", "IAM Identity Center (SSO) access token"},
		}},
		{"/home/a/.config/helm/repositories.yaml", helm, []want{
			{KindGenericSecret, "FAKEhelmRepoPwEXAMPLE", "", "ci@charts.example.com", "repository private", "Helm repository password"},
		}},
	}
	for _, c := range cases {
		if !Wanted(c.path) {
			t.Errorf("Wanted(%q) = false", c.path)
		}
		diff(t, got(Parse(c.path, []byte(c.data))), c.want)
	}
}
