package credentials

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// Public-key fingerprints of the testdata keys, as the reference tools print
// them: `ssh-keygen -lf KEY.pub` for SSH keys and
// `openssl pkey -in KEY -pubout -outform DER | openssl dgst -sha256 -binary | base64`
// for the SPKI pins of TLS keys.
const (
	fpEd25519      = "ssh-ed25519 SHA256:2voz/dW5VPX30UkiQ38iQqFODoE29qpn1QoT5QLWwe4" // 256 alice@laptop (ED25519)
	fpEd25519Enc   = "ssh-ed25519 SHA256:w4rJEt6vrvKDlyjU4KHxQfZvupXxUNQblzTKGYGE7Z4" // 256 alice@enc (ED25519)
	fpRSAPEM       = "ssh-rsa SHA256:2/PCeEYknyP0ReGlxCKLWtAKcK/voWnegO0eA2HBWsE"     // 2048 pemrsa (RSA)
	fpECDSA        = "ecdsa-sha2-nistp256 SHA256:EwFcSvMkxvGHVmz2pAITTPa+zlC/JrRN316qXMuhQIY"
	fpECDSAPEM     = "ecdsa-sha2-nistp384 SHA256:z6pLitL3QRMvGFiR4pWl8eRu3Z9JigaYs7bD6xl/1JQ"
	fpRSAPKCS8     = "ssh-rsa SHA256:5ebEMLBUhuzp/fXwdWMdy1FQHKWieIv+tOkDMaKo0e0" // 2048 pkcs8 (RSA)
	fpRSAOpenSSH   = "ssh-rsa SHA256:wminusGGzM2UsNK4VMRtHs1dRU5WGW1TiAFLT3FyJsI" // 3072 rsa-openssh (RSA)
	fpDSA          = "ssh-dss SHA256:KK7j9RRpJ8Q4E2N5HNID3pbMciSm54vcUqCsp8sH9PE" // 1024 (DSA)
	pinTLSRSA      = "RSA-2048 pin-sha256:vg2KGNU9Eu0/SpeCu91bFwrHcJf9BMBJ9sB6p2rKaj0="
	pinTLSEd25519  = "Ed25519 pin-sha256:toYFLZFTrg8zsyZWMo3FV5YEbJfVmvYJothJK8xHIOk="
	pinTLSEC       = "ECDSA-P-256 pin-sha256:Z9JcTutDIoid3+6cqmfYudcwCci3BlqyUwaYrBpl5J4="
	hintWireGuard  = "wireguard public key " + vWGPub // wg pubkey of the planted private key (openssl pkey -text)
	gcpKeyID       = "0123456789abcdef0123456789abcdef0fake000"
	gcloudClientID = "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com"
)

// want is an expected Found, with the secret revealed.
type want struct {
	kind, secret, hint, owner, detail, note string
}

func (w want) String() string {
	s := w.secret
	if len(s) > 40 {
		s = s[:20] + "…" + s[len(s)-12:]
	}
	return fmt.Sprintf("{%s %q hint=%q owner=%q detail=%q note=%q}", w.kind, s, w.hint, w.owner, w.detail, w.note)
}

func got(fs []Found) []want {
	out := make([]want, len(fs))
	for i, f := range fs {
		out[i] = want{f.Kind, string(f.Secret.Reveal()), f.Hint, f.Owner, f.Detail, f.Note}
	}
	return out
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pemOf returns the block labelled label in a testdata file, trimmed: what
// Parse reports as the secret for a key written in a file as is.
func pemOf(t testing.TB, name, label string) string {
	t.Helper()
	s := string(readFixture(t, name))
	i := strings.Index(s, "-----BEGIN "+label+"-----")
	end := "-----END " + label + "-----"
	j := strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no %s block", name, label)
	}
	return s[i : j+len(end)]
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func diff(t *testing.T, gotW, wantW []want) {
	t.Helper()
	n := max(len(gotW), len(wantW))
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(gotW) {
			g = gotW[i].String()
		}
		if i < len(wantW) {
			w = wantW[i].String()
		}
		if i >= len(gotW) || i >= len(wantW) || gotW[i] != wantW[i] {
			t.Errorf("result %d:\n  got  %s\n  want %s", i, g, w)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	ecKey := pemOf(t, "tls_ec.pem", "EC PRIVATE KEY")
	cases := []struct {
		path, file string
		want       []want
	}{
		{"/home/alice/.aws/credentials", "aws_credentials", []want{
			{KindAWSAccessKey, vAws1Secret, "AKIA…MPLE", "", "profile default", ""},
			{KindAWSAccessKey, vAws2Secret, "AKIA…MPLE", "", "profile prod", "session credentials (with a session token)"},
			{KindAWSAccessKey, vAWSTempOnly, "", "", "profile temp-only", "session token only"},
			{KindAWSAccessKey, vAws3ID, "AKIA…PLE1", "", "profile id-only", "secret access key not in this file"},
		}},
		{"/root/.aws/config", "aws_config", []want{
			{KindAWSAccessKey, vAws4Secret, "AKIA…PLE2", "arn:aws:iam::444455556666:role/Deploy", "profile legacy", ""},
		}},
		{"/home/alice/.ssh/id_ed25519", "ssh_id_ed25519", []want{
			{KindSSHPrivateKey, strings.TrimSpace(string(readFixture(t, "ssh_id_ed25519"))), fpEd25519, "", "line 1", ""},
		}},
		{"/home/alice/.ssh/id_ed25519_enc", "ssh_id_ed25519_enc", []want{
			{KindSSHPrivateKey, strings.TrimSpace(string(readFixture(t, "ssh_id_ed25519_enc"))), fpEd25519Enc, "", "line 1", "passphrase-protected"},
		}},
		{"/home/alice/.ssh/id_rsa", "ssh_id_rsa_pem", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_rsa_pem", "RSA PRIVATE KEY"), fpRSAPEM, "", "line 1", ""},
		}},
		{"/home/alice/.ssh/deploy", "ssh_id_rsa_pem_enc", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_rsa_pem_enc", "RSA PRIVATE KEY"), "rsa private key (encrypted)", "", "line 1", "passphrase-protected"},
		}},
		{"/home/bob/.ssh/id_ecdsa", "ssh_id_ecdsa", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_ecdsa", "OPENSSH PRIVATE KEY"), fpECDSA, "", "line 1", ""},
		}},
		{"/home/bob/.ssh/ec_pem", "ssh_id_ecdsa_pem", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_ecdsa_pem", "EC PRIVATE KEY"), fpECDSAPEM, "", "line 1", ""},
		}},
		{"/root/.ssh/pkcs8", "ssh_id_rsa_pkcs8", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_rsa_pkcs8", "PRIVATE KEY"), fpRSAPKCS8, "", "line 1", ""},
		}},
		{"/etc/ssh/ssh_host_rsa_key", "ssh_id_rsa", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_rsa", "OPENSSH PRIVATE KEY"), fpRSAOpenSSH, "", "line 1", ""},
		}},
		{"/home/old/.ssh/id_dsa", "ssh_id_dsa_pem", []want{
			{KindSSHPrivateKey, pemOf(t, "ssh_id_dsa_pem", "DSA PRIVATE KEY"), fpDSA, "", "line 1", ""},
		}},
		{"/etc/ssl/private/server.key", "tls_rsa.key", []want{
			{KindTLSPrivateKey, pemOf(t, "tls_rsa.key", "PRIVATE KEY"), pinTLSRSA, "", "line 1", ""},
		}},
		{"/etc/ssl/private/ed.pem", "tls_ed25519.pem", []want{
			{KindTLSPrivateKey, pemOf(t, "tls_ed25519.pem", "PRIVATE KEY"), pinTLSEd25519, "", "line 1", ""},
		}},
		{"/etc/letsencrypt/live/example.com/privkey.pem", "tls_ec.pem", []want{
			{KindTLSPrivateKey, ecKey, pinTLSEC, "", "line 4", ""},
		}},
		{"/srv/app/certs/enc.key", "tls_enc.key", []want{
			{KindTLSPrivateKey, pemOf(t, "tls_enc.key", "ENCRYPTED PRIVATE KEY"), "encrypted private key", "", "line 1", "passphrase-protected"},
		}},
		{"/home/alice/keys/alice.ppk", "putty.ppk", []want{
			{KindSSHPrivateKey, strings.TrimSpace(strings.ReplaceAll(string(readFixture(t, "putty.ppk")), "\r", "")), fpEd25519, "", "line 1", ""},
		}},
		{"/home/alice/.git-credentials", "git-credentials", []want{
			{KindGitHubToken, vGHPAT, "", "alice@github.com", "line 1: github.com", ""},
			{KindGitLabToken, vGlpat, "", "", "line 2: gitlab.example.com", ""},
			{KindGitCredentials, vGitPW, "", "bob@git.example.org", "line 3: git.example.org", ""},
			{KindGitHubToken, vGHS, "", "", "line 4: github.com", ""},
		}},
		{"/home/alice/.gitconfig", "gitconfig", []want{
			{KindGitHubToken, vGHPat3, "", "", "line 7: github.token", ""},
		}},
		{"/home/runner/work/app/app/.git/config", "git_config_checkout", []want{
			{KindGitHubToken, vGHPat2, "", "alice@github.com", "line 5: remote.origin.url", ""},
			{KindGitHubToken, vGHS, "", "", "line 8: http.https://github.com/.extraheader", "HTTP authorization header"},
		}},
		{"/home/alice/.config/gh/hosts.yml", "gh_hosts.yml", []want{
			{KindGitHubToken, vGHO, "", "alice@github.com", "host github.com", ""},
			{KindGitHubToken, vGHPATBob, "", "bob@github.com", "host github.com user bob", ""},
			{KindGitHubToken, vGHPAT, "", "alice-corp@ghe.corp.example", "host ghe.corp.example", ""},
		}},
		{"/home/alice/.config/glab-cli/config.yml", "glab_config.yml", []want{
			{KindGitLabToken, vGlpat, "", "alice@gitlab.com", "host gitlab.com", ""},
		}},
		{"/home/alice/.kube/config", "kubeconfig", kubeWant(ecKey)},
		{"/etc/kubernetes/admin.conf", "kubeconfig", kubeWant(ecKey)},
		{"/home/alice/work/cluster.yaml", "cluster.yaml", kubeWant(ecKey)}, // sniffed: no known name
		{"/var/run/secrets/kubernetes.io/serviceaccount/token", "sa_token", []want{
			{KindKubeconfig, vSAJWT, "", "system:serviceaccount:default:builder", "service account token", ""},
		}},
		{"/srv/app/.env", "dotenv", []want{
			{KindOpenAIAPIKey, vOpenai, "", "", "line 4: OPENAI_API_KEY", ""},
			{KindAnthropicAPIKey, vAnthropic, "", "", "line 5: ANTHROPIC_API_KEY", ""},
			{KindDatabasePassword, vDBPW, "", "app@db.internal", "line 6: DATABASE_URL", ""},
			{KindLiteLLMMasterKey, vMaster, "", "", "line 14: LITELLM_MASTER_KEY", ""},
			{KindMistralAPIKey, vMistral, "", "", "line 15: MISTRAL_API_KEY", ""},
			{KindGenericSecret, vJWTSecret, "", "", "line 16: JWT_SECRET", ""},
			{KindTLSPrivateKey, pemOf(t, "tls_ed25519.pem", "PRIVATE KEY"), pinTLSEd25519, "", "line 19: SIGNING_KEY", ""},
			{KindAWSAccessKey, vAws2Secret, "AKIA…MPLE", "", "line 8: AWS_SECRET_ACCESS_KEY", ""},
		}},
		{"/home/alice/.bashrc", "bashrc", []want{
			{KindGitHubToken, vGHPAT, "", "", "line 4: GITHUB_TOKEN", ""},
			{KindHuggingFaceToken, vHF, "", "", "line 5: HF_TOKEN", ""},
			{KindGroqAPIKey, vGroq, "", "", "line 8: GROQ_API_KEY", ""},
			{KindDatabasePassword, "pa$$word-FAKE-EXAMPLE", "", "", "line 9: DB_PASSWORD", ""},
			{KindCohereAPIKey, vCohere, "", "", "line 11: COHERE_API_KEY", ""},
		}},
		{"/home/alice/.config/systemd/user/inference.service", "systemd.service", []want{
			{KindOpenAIAPIKey, vOpenai2, "", "", "line 5: Environment OPENAI_API_KEY", ""},
			{KindDatabasePassword, vRedisPW, "", "", "line 6: Environment REDIS_PASSWORD", ""},
			{KindGenericSecret, vCredValue, "", "", "line 8: SetCredential api-token", "systemd credential"},
			{KindSlackToken, vSlack, "", "", "line 9", ""},
		}},
		{"/root/.docker/config.json", "docker_config.json", []want{
			{KindDockerAuth, b64("alice:" + vGHPat2), "", "alice@ghcr.io", "auths ghcr.io", "password is a github-token"},
			{KindDockerAuth, b64("alice:" + vDockerPW), "", "alice@index.docker.io", "auths https://index.docker.io/v1/", ""},
			{KindDockerAuth, vIdentityToken, "", "", "auths registry.example.com identitytoken", ""},
		}},
		{"/kaniko/.docker/config.json", "docker_config.json", nil}, // same file, same results: checked below
		{"/home/alice/.npmrc", "npmrc", []want{
			{KindNPMToken, vNPM, "", "", "line 2: //registry.npmjs.org/:_authToken", ""},
			{KindNPMToken, b64(vNPMAuthUserpass), "", "", "line 5: //npm.acme.example/:_auth", "base64 user:password"},
		}},
		{"/srv/app/.yarnrc.yml", "yarnrc.yml", []want{
			{KindNPMToken, vNPM, "", "", "line 4: npmAuthToken", ""},
		}},
		{"/home/alice/.pypirc", "pypirc", []want{
			{KindPyPIToken, vPypi, "", "", "section pypi", ""},
			{KindGenericSecret, vPypiPrivatePW, "", "deploy@pypi.acme.example", "section private", ""},
		}},
		{"/home/alice/.netrc", "netrc", []want{
			{KindGitHubToken, vGHPAT, "", "alice@api.github.com", "machine api.github.com", ""},
			{KindGenericSecret, vNetrcPW, "", "bob@ftp.example.com", "machine ftp.example.com", ""},
		}},
		{"/root/.vault-token", "vault-token", []want{
			{KindVaultToken, vVault, "", "", "token file", ""},
		}},
		{"/home/alice/.config/gcloud/legacy_credentials/deployer/adc.json", "gcp_sa.json", []want{
			{KindGCPCredentials, pemOf(t, "tls_rsa.key", "PRIVATE KEY"), redact.Hint(gcpKeyID), "deployer@fake-project.iam.gserviceaccount.com",
				"service_account private_key", "key id " + gcpKeyID},
		}},
		{"/srv/deploy/sa-key.json", "gcp_sa.json", nil}, // sniffed; same results: checked below
		{"/root/.config/gcloud/application_default_credentials.json", "gcp_adc.json", []want{
			{KindGCPCredentials, vGCPRefresh, "", gcloudClientID, "authorized_user refresh_token", ""},
		}},
		{"/home/alice/.azure/msal_token_cache.json", "azure_msal.json", []want{
			{KindAzureCredentials, vAZRefresh, "", "alice@contoso.example", "RefreshToken", "refresh token"},
			{KindAzureCredentials, vAZAccess, "", "alice@contoso.example", "AccessToken tenant utid", "access token (short-lived)"},
		}},
		{"/home/alice/.azure/service_principal_entries.json", "azure_sp.json", []want{
			{KindAzureCredentials, vAZSPSecret, "", "11111111-2222-3333-4444-555555555555",
				"client_secret tenant 66666666-7777-8888-9999-000000000000", "service principal secret"},
		}},
		{"/var/lib/postgresql/.pgpass", "pgpass", []want{
			{KindDatabasePassword, vPGPW, "", "app_user@db.internal", "line 2: db.internal:5432/app", ""},
			{KindDatabasePassword, vDBPW, "", "postgres", "line 3: *:*/*", ""},
		}},
		{"/root/.my.cnf", "my.cnf", []want{
			{KindDatabasePassword, vMYPW, "", "root@db.internal", "section [client]", ""},
		}},
		{"/etc/redis/redis.conf", "redis.conf", []want{
			{KindDatabasePassword, vRedisPW, "", "", "line 3: requirepass", ""},
			{KindDatabasePassword, vDBPW, "", "", "line 5: masterauth", ""},
			{KindDatabasePassword, vJWTSecret, "", "app", "line 7: user app", ""},
		}},
		{"/srv/litellm/config.yaml", "litellm_config.yaml", []want{
			{KindLiteLLMMasterKey, vMaster, "", "", "line 40: general_settings.master_key", ""},
			{KindOpenAIAPIKey, vOpenai, "", "", "model_list[0] gpt-4o api_key", ""},
			{KindAzureOpenAIKey, vAzureOAI, "", "", "model_list[2] azure-gpt api_key", ""},
			{KindAWSAccessKey, vAws4Secret, "AKIA…PLE2", "", "model_list[4] bedrock-claude aws_secret_access_key", ""},
			{KindGroqAPIKey, vGroq, "", "", "model_list[5] groq-llama api_key", ""},
			{KindDatabasePassword, vDBPW, "", "litellm@pg.internal", "line 41: general_settings.database_url", ""},
			{KindDatabasePassword, vRedisPW, "", "", "line 37: router_settings.redis_password", ""},
			{KindSlackWebhook, vSlackHook, "", "", "environment_variables.SLACK_WEBHOOK_URL", ""},
			{KindGenericSecret, "sk-lf-FAKEexampleLangfuseSecret", "", "", "environment_variables.LANGFUSE_SECRET_KEY", ""},
		}},
		{"/srv/infra/prod.tfvars", "terraform.tfvars", []want{
			{KindDatabasePassword, vTFPW, "", "", "line 2: db_password", ""},
			{KindOpenAIAPIKey, vOpenai2, "", "", "line 5: openai_api_key", ""},
		}},
		{"/srv/infra/terraform.tfstate", "terraform.tfstate", []want{
			{KindGenericSecret, vTFStatePW, "", "", "aws_db_instance.main password", ""},
			{KindAWSAccessKey, vAws2Secret, "AKIA…PLE1", "", "aws_iam_access_key.ci secret", ""},
			{KindVaultToken, vVault, "", "", "output admin_token", ""},
		}},
		{"/etc/wireguard/wg0.conf", "wg0.conf", []want{
			{KindGenericSecret, vWGPriv, hintWireGuard, "", "[Interface] PrivateKey", "wireguard private key"},
			{KindGenericSecret, vWGPSK, "", "", "[Peer] PresharedKey, line 8", "wireguard preshared key"},
		}},
		{"/home/alice/.msmtprc", "msmtprc", []want{
			{KindGenericSecret, vSMTPPW, "", "", "line 7: password", ""},
		}},
		{"/etc/postfix/sasl_passwd", "sasl_passwd", []want{
			{KindGenericSecret, vSMTPPW, "", "alerts@example.com@smtp.example.com", "line 1: [smtp.example.com]:587", "SMTP relay password"},
		}},
		{"/home/alice/.s3cfg", "s3cfg", []want{
			{KindAWSAccessKey, vASIASecret, "ASIA…PLE3", "", "section [default] secret_key", ""},
		}},
		{"/home/alice/.config/rclone/rclone.conf", "rclone.conf", []want{
			{KindAWSAccessKey, vRcloneSecret, "AKIA…PLE2", "", "section [s3remote] secret_access_key", ""},
			{KindGenericSecret, "FAKErclonePwEXAMPLE0123", "", "", "section [sftp] pass", "rclone-obscured password (reversible)"},
		}},
		{"/home/alice/notes.txt", "notes.txt", notesWant},
		{"/run/secrets/db_password", "db_password", []want{
			{KindDatabasePassword, vSecretFile, "", "", "secret file db_password", ""},
		}},
	}
	byFile := map[string][]want{}
	for _, c := range cases {
		if c.want != nil {
			byFile[c.file] = c.want
		}
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			w := c.want
			if w == nil {
				w = byFile[c.file]
			}
			diff(t, got(Parse(c.path, readFixture(t, c.file))), w)
		})
	}
}

func kubeWant(ecKey string) []want {
	return []want{
		{KindKubeconfig, ecKey, pinTLSEC, "prod-cluster", "user admin@prod-cluster", "client certificate key"},
		{KindKubeconfig, vKUBEToken, "", "dev-cluster", "user dev-user", "bearer token"},
		{KindKubeconfig, vKUBEPW, "", "", "user basic-user", "basic auth password for admin"},
		{KindKubeconfig, vOIDCID, "", "dev-cluster", "user oidc-user", "auth-provider oidc id-token"},
		{KindKubeconfig, vOIDCRefresh, "", "dev-cluster", "user oidc-user", "auth-provider oidc refresh-token"},
	}
}

// notesWant is what a free-text file with planted keys and decoys yields.
var notesWant = []want{
	{KindOpenAIAPIKey, vOpenaiLegacy, "", "", "line 3", ""},
	{KindAnthropicAPIKey, vAnthropic, "", "", "line 4", ""},
	{KindGitHubToken, vGHFine, "", "", "line 5", ""},
	{KindSlackWebhook, vSlackHook, "", "", "line 6", ""},
	{KindGoogleAPIKey, vGoogle, "", "", "line 7", ""},
	{KindNPMToken, vNPM, "", "", "line 8", ""},
	{KindHuggingFaceToken, vHF, "", "", "line 8", ""},
	{KindOpenRouterAPIKey, vOpenrouter, "", "", "line 9", ""},
	{KindAWSAccessKey, vASIASecret, "ASIA…PLE3", "", "line 10", ""},
	{KindDatabasePassword, vDBPW, "", "report@pg.internal", "line 11: postgresql+psycopg2://pg.internal", ""},
	{KindDatabasePassword, vMYPW, "", "svc@cluster0.example.mongodb.net", "line 12: mongodb+srv://cluster0.example.mongodb.net", ""},
}

func TestScanText(t *testing.T) {
	t.Parallel()
	diff(t, got(ScanText(readFixture(t, "notes.txt"))), notesWant)
	if got := ScanText(nil); got != nil {
		t.Errorf("ScanText(nil) = %v", got)
	}
}

// TestSameKeySameSecret: a key embedded in a kubeconfig (base64), a JSON file
// ("\n" escapes), a .env value, indented YAML or flattened onto one line is
// reported with the same bytes as the key file, so that it fingerprints the
// same.
func TestSameKeySameSecret(t *testing.T) {
	t.Parallel()
	key := pemOf(t, "tls_ed25519.pem", "PRIVATE KEY")
	indented := "key: |\n    " + strings.ReplaceAll(key, "\n", "\n    ") + "\n"
	oneLine := `PRIVATE_KEY="` + strings.ReplaceAll(key, "\n", " ") + `"`
	crlf := strings.ReplaceAll(key, "\n", "\r\n") + "\r\n"
	for name, text := range map[string]string{"indented": indented, "one line": oneLine, "crlf": crlf} {
		fs := ScanText([]byte(text))
		if len(fs) != 1 || string(fs[0].Secret.Reveal()) != key || fs[0].Hint != pinTLSEd25519 {
			t.Errorf("%s: got %v", name, got(fs))
		}
	}
	env := Parse("/srv/.env", []byte(oneLine+"\n"))
	if len(env) != 1 || string(env[0].Secret.Reveal()) != key {
		t.Errorf(".env one-line key: got %v", got(env))
	}
}

func TestWanted(t *testing.T) {
	t.Parallel()
	yes := []string{
		"/home/alice/.aws/credentials", "/root/.aws/config", "/home/alice/.ssh/id_ed25519", "/home/alice/.ssh/work/deploy",
		"/etc/ssh/ssh_host_ed25519_key", "/home/alice/.git-credentials", "/home/alice/.config/git/credentials",
		"/home/alice/.gitconfig", "/srv/repo/.git/config", "/home/alice/.config/gh/hosts.yml",
		"/home/alice/.config/glab-cli/config.yml", "/home/alice/.kube/config", "/etc/kubernetes/admin.conf",
		"/etc/kubernetes/kubelet.conf", "/home/alice/prod.kubeconfig", "/var/run/secrets/kubernetes.io/serviceaccount/token",
		"/run/secrets/kubernetes.io/serviceaccount/token", "/var/run/secrets/kubernetes.io/serviceaccount/..2026_03_24_10_39_24.1/token",
		"/run/secrets/db_password", "/var/secrets/api-key", "/app/.env", "/app/.env.production", "/app/.env.local",
		"/etc/environment", "/home/alice/.ssh/environment", "/app/prod.env", "/home/alice/.bashrc", "/root/.zshrc", "/home/a/.profile",
		"/etc/profile.d/proxy.sh", "/etc/profile", "/home/alice/.config/systemd/user/sysmon.service",
		"/etc/systemd/system/app.service", "/etc/systemd/system/app.service.d/override.conf", "/root/.docker/config.json",
		"/kaniko/.docker/config.json", "/run/containers/0/auth.json", "/home/alice/.npmrc", "/app/.yarnrc.yml",
		"/home/alice/.pypirc", "/home/alice/.netrc", "/home/alice/_netrc", "/root/.vault-token",
		"/root/.config/gcloud/application_default_credentials.json", "/home/a/.config/gcloud/credentials.db",
		"/home/a/.config/gcloud/access_tokens.db", "/home/a/.config/gcloud/legacy_credentials/x/adc.json",
		"/home/a/.azure/msal_token_cache.json", "/home/a/.azure/accessTokens.json", "/home/a/.azure/service_principal_entries.json",
		"/home/a/.pgpass", "/var/lib/postgresql/.pgpass", "/root/.my.cnf", "/etc/mysql/my.cnf", "/etc/mysql/debian.cnf",
		"/etc/redis/redis.conf", "/home/a/.mongorc.js", "/srv/litellm/config.yaml", "/srv/proxy/litellm_config.yml",
		"/srv/infra/terraform.tfvars", "/srv/infra/prod.auto.tfvars", "/srv/infra/terraform.tfstate", "/etc/wireguard/wg0.conf",
		"/etc/ssl/private/server.key", "/etc/letsencrypt/live/x/privkey.pem", "/home/a/keys/a.ppk", "/home/a/.msmtprc",
		"/etc/postfix/sasl_passwd", "/etc/ldap/ldap.conf", "/home/a/.bitcoin/bitcoin.conf", "/home/a/.s3cfg",
		"/home/a/.config/rclone/rclone.conf", "/home/a/.boto", "/srv/deploy/gcp-service-account.json", "/home/a/.claude/.credentials.json",
		"/home/a/.config/pip/pip.conf", "/home/a/.aws/cli/cache/0123.json", "/home/a/.aws/sso/cache/0123.json",
		"/home/a/.config/helm/repositories.yaml", "/srv/repo/.gitlab-ci.yml",
		"/var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~projected/kube-api-access-x/..2026_03_24_10_39_24.1/token",
		"/var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~secret/db/..2026_03_24_10_39_24.1/password",
	}
	no := []string{
		"/usr/lib/python3.12/site-packages/litellm/proxy/proxy_server.py", "/usr/lib/python3.12/site-packages/litellm_init.pth",
		"/home/alice/.ssh/id_ed25519.pub", "/home/alice/.ssh/known_hosts", "/home/alice/.ssh/authorized_keys", "/home/alice/.ssh/config",
		"/srv/app/node_modules/ssh2/test/fixtures/id_rsa.key", "/usr/lib/python3/dist-packages/twisted/test/server.pem",
		"/srv/app/node_modules/foo/config.yaml", "/usr/lib/python3/site-packages/foo/credentials.json",
		"/run/secrets/kubernetes.io/serviceaccount/ca.crt", "/run/secrets/kubernetes.io/serviceaccount/namespace",
		"/home/alice/.config/sysmon/sysmon.py", "/etc/passwd", "/usr/bin/python3", "/home/alice/notes.txt", "/", "",
		"/etc/wireguard", "/home/alice/src/app/main.go", "/home/alice/.cache/pip/http/x",
		"/home/alice/.config/systemd/user/", "/home/alice/config", "/home/alice/credentials",
		"/var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~projected/kube-api-access-x/..2026_03_24_10_39_24.1/ca.crt",
		"/var/lib/kubelet/pods/1b2c/volumes/kubernetes.io~configmap/cfg/app.yaml", "/var/lib/kubelet/pods/1b2c/etc-hosts",
	}
	for _, p := range yes {
		if !Wanted(p) {
			t.Errorf("Wanted(%q) = false", p)
		}
	}
	for _, p := range no {
		if Wanted(p) {
			t.Errorf("Wanted(%q) = true", p)
		}
	}
}

func TestKindForEnv(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value, kind string // kind "" means not a secret
	}{
		{"OPENAI_API_KEY", vOpenai, KindOpenAIAPIKey},
		{"OPENAI_API_KEY", vAnthropic, KindAnthropicAPIKey}, // the value's format wins
		{"ANTHROPIC_API_KEY", vAnthropic, KindAnthropicAPIKey},
		{"MISTRAL_API_KEY", vMistral, KindMistralAPIKey},
		{"COHERE_API_KEY", vCohere, KindCohereAPIKey},
		{"CO_API_KEY", vCohere, KindCohereAPIKey},
		{"GROQ_API_KEY", vGroq, KindGroqAPIKey},
		{"OPENROUTER_API_KEY", vOpenrouter, KindOpenRouterAPIKey},
		{"AZURE_OPENAI_API_KEY", vAzureOAI, KindAzureOpenAIKey},
		{"GEMINI_API_KEY", vGoogle, KindGoogleAPIKey},
		{"GOOGLE_API_KEY", "FAKEgoogleKeyWithoutTheAIzaPrefix", KindGoogleAPIKey},
		{"AWS_SECRET_ACCESS_KEY", vAws1Secret, KindAWSAccessKey},
		{"AWS_ACCESS_KEY_ID", vAws1ID, KindAWSAccessKey},
		{"PROD_AWS_SECRET_ACCESS_KEY", vAws1Secret, KindAWSAccessKey},
		{"GITHUB_TOKEN", vGHPAT, KindGitHubToken},
		{"GH_TOKEN", "FAKEenterpriseTokenWithoutPrefix0123", KindGitHubToken},
		{"LITELLM_MASTER_KEY", vMaster, KindLiteLLMMasterKey},
		{"LITELLM_MASTER_KEY", vOpenaiLegacy, KindLiteLLMMasterKey}, // a weak sk- shape loses to the name
		{"MY_OPENAI", vOpenaiLegacy, KindOpenAIAPIKey},
		{"MOONSHOT_API_KEY", vOpenaiLegacy, KindGenericSecret},
		{"CONFIG_BLOB", vOpenaiLegacy, KindOpenAIAPIKey},
		{"DATABASE_URL", "postgres://app:" + vDBPW + "@db/app", KindDatabasePassword},
		{"DATABASE_URL", "postgres://db.internal/app", ""},
		{"DATABASE_URL", "postgres://app:${DB_PASSWORD}@db/app", ""},
		{"HTTPS_PROXY", "http://proxyuser:" + vGitPW + "@proxy:3128", KindGenericSecret},
		{"POSTGRES_PASSWORD", vDBPW, KindDatabasePassword},
		{"MYSQL_ROOT_PASSWORD", vDBPW, KindDatabasePassword},
		{"PGPASSWORD", vDBPW, KindDatabasePassword},
		{"SMTP_PASSWORD", vDBPW, KindGenericSecret},
		{"JWT_SECRET", vJWTSecret, KindGenericSecret},
		{"STRIPE_API_KEY", "FAKEstripeLikeKeyValue0123", KindGenericSecret},
		{"SOME_TOKEN", "FAKEtokenValue0123", KindGenericSecret},
		{"ENCRYPTION_KEY", "FAKEencryptionKey0123", KindGenericSecret},
		{"openai-api-key", vOpenai, KindOpenAIAPIKey},
		{"slack_webhook_url", vSlackHook, KindSlackWebhook},
		{"VAULT_TOKEN", vVault, KindVaultToken},
		{"HF_TOKEN", vHF, KindHuggingFaceToken},
		{"NPM_TOKEN", vNPM, KindNPMToken},
		{"TWINE_PASSWORD", vPypi, KindPyPIToken},
		{"AZURE_CLIENT_SECRET", vAZSPSecret, KindAzureCredentials},
		{"SSH_PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----\nFAKE\n-----END RSA PRIVATE KEY-----", KindSSHPrivateKey},
		{"TLS_KEY", "-----BEGIN PRIVATE KEY-----\nFAKE\n-----END PRIVATE KEY-----", KindTLSPrivateKey},
		{"ANYTHING", vGHPAT, KindGitHubToken},
		// Not secrets.
		{"PATH", "/usr/local/bin:/usr/bin", ""},
		{"HOME", "/home/alice", ""},
		{"AWS_REGION", "us-east-1", ""},
		{"AWS_PROFILE", "prod", ""},
		{"OPENAI_API_KEY", "", ""},
		{"OPENAI_API_KEY", "   ", ""},
		{"OPENAI_API_KEY", "changeme", ""},
		{"OPENAI_API_KEY", "xxx", ""},
		{"OPENAI_API_KEY", "xxxxxxxxxxxxxxxx", ""},
		{"OPENAI_API_KEY", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ""},
		{"OPENAI_API_KEY", "sk-...", ""},
		{"OPENAI_API_KEY", "<your-key>", ""},
		{"OPENAI_API_KEY", "your-openai-api-key", ""},
		{"OPENAI_API_KEY", "${OPENAI_KEY}", ""},
		{"OPENAI_API_KEY", "$OPENAI_KEY", ""},
		{"OPENAI_API_KEY", "$(pass show openai)", ""},
		{"OPENAI_API_KEY", "os.environ/OPENAI_API_KEY", ""},
		{"OPENAI_API_KEY", "{{ .Values.openai }}", ""},
		{"OPENAI_API_KEY", "op://Private/OpenAI/credential", ""},
		{"OPENAI_API_KEY", `"changeme"`, ""},
		{"DB_PASSWORD", "ENC[AES256_GCM,data:FAKE,iv:x,tag:y,type:str]", ""},
		{"MAX_TOKENS", "4096", ""},
		{"OPENAI_MAX_TOKEN", "4096", ""},
		{"USE_AUTH", "true", ""},
		{"SSL_KEY", "/etc/ssl/private/server.key", ""},
		{"TOKEN_URL", "https://auth.example.com/token", ""},
		{"AUTH_TOKEN", "https://auth.example.com/token", ""},
		{"GOOGLE_APPLICATION_CREDENTIALS", "/secrets/gcp.json", ""},
		{"SSH_PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE alice", ""},
		{"DEPLOY_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE alice", ""},
		{"STRIPE_PUBLISHABLE_KEY", "pk_live_FAKE0123456789", ""},
		{"GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D", ""},
		{"AWS_ACCESS_KEY_ID_FILE", "/run/secrets/aws", ""},
		{"KMS_KEY", "arn:aws:kms:us-east-1:111122223333:key/fake", ""},
		{"LANGFUSE_PUBLIC_KEY", "pk-lf-FAKE", ""},
	}
	for _, c := range cases {
		kind, ok := KindForEnv(c.name, c.value)
		if ok != (c.kind != "") || kind != c.kind {
			t.Errorf("KindForEnv(%q, %q) = %q, %v; want %q", c.name, c.value, kind, ok, c.kind)
		}
	}
}

// TestNoSecretInText checks every result of every fixture: Detail, Note and
// Owner share no 8-byte run with the secret, nor does Hint outside its public
// prefix (redact.Hint shows a key's documented prefix, "sk-proj-…").
func TestNoSecretInText(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data := readFixture(t, e.Name())
		for _, p := range fuzzPaths {
			for _, f := range Parse(p, data) {
				n++
				checkFound(t, p+" <- "+e.Name(), f)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d results checked", n)
	}
}

// checkFound asserts the invariants every Found keeps.
func checkFound(t testing.TB, where string, f Found) {
	t.Helper()
	v := string(f.Secret.Reveal())
	if f.Secret.IsZero() || strings.TrimSpace(v) != v {
		t.Fatalf("%s: empty or untrimmed secret", where)
	}
	if !knownKind(f.Kind) {
		t.Fatalf("%s: unknown kind %q", where, f.Kind)
	}
	hint := f.Hint
	if i := strings.Index(hint, "…"); i >= 0 {
		hint = hint[i:] // the documented prefix before the ellipsis is public
	}
	for _, sep := range []string{" SHA256:", " pin-sha256:"} {
		if i := strings.Index(hint, sep); i >= 0 {
			hint = hint[i:] // the key type before a fingerprint is public
		}
	}
	for name, s := range map[string]string{"Detail": f.Detail, "Note": f.Note, "Owner": f.Owner, "Hint": hint} {
		if sub, ok := shares(s, v, 8); ok {
			t.Fatalf("%s: %s %q contains %q of the secret", where, name, s, sub)
		}
		if len(v) >= 4 && len(v) < 8 && strings.Contains(s, v) {
			t.Fatalf("%s: %s %q contains the short secret", where, name, s)
		}
	}
}

// shares reports a run of n bytes of s found in secret.
func shares(s, secret string, n int) (string, bool) {
	for i := 0; i+n <= len(s); i++ {
		if strings.Contains(secret, s[i:i+n]) {
			return s[i : i+n], true
		}
	}
	return "", false
}

func knownKind(k string) bool {
	for _, x := range Kinds() {
		if x == k {
			return true
		}
	}
	return false
}

func TestScrub(t *testing.T) {
	t.Parallel()
	// A user named after her password, a profile named after its key.
	pg := Parse("/home/a/.pgpass", []byte("db:5432:app:Hunter2Hunter2:Hunter2Hunter2xyz\n"))
	if len(pg) != 1 || pg[0].Owner != "" {
		t.Errorf("pgpass owner not scrubbed: %v", got(pg))
	}
	aws := Parse("/home/a/.aws/credentials", []byte("[wJalrXUtnFEMI]\naws_secret_access_key = "+vAws1Secret+"\n"))
	if len(aws) != 1 || aws[0].Detail != withheld {
		t.Errorf("aws detail not scrubbed: %v", got(aws))
	}
	// Control characters and bidi overrides in names are replaced.
	kube := Parse("/home/a/.kube/config", []byte("kind: Config\nusers:\n- name: \"ev\\e[31mil\\u202e\"\n  user:\n    token: "+vKUBEToken+"\n"))
	if len(kube) != 1 || kube[0].Detail != "user ev?[31mil?" {
		t.Errorf("kube user name not cleaned: %v", got(kube))
	}
	pg2 := Parse("/home/a/.pgpass", []byte("db\x1b[31m:5432:app:al\u202eice:FAKEpasswordValue\n"))
	if len(pg2) != 1 || strings.ContainsAny(pg2[0].Owner+pg2[0].Detail, "\x1b\u202e") {
		t.Errorf("control characters kept: %v", got(pg2))
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i < 3*MaxFound; i++ {
		fmt.Fprintf(&b, "ghp_FAKE%032d\n", i)
	}
	if n := len(ScanText([]byte(b.String()))); n != MaxFound {
		t.Errorf("ScanText returned %d results, want %d", n, MaxFound)
	}
	if n := len(Parse("/app/.env", []byte(strings.ReplaceAll(b.String(), "ghp_", "X=ghp_")))); n != MaxFound {
		t.Errorf("Parse(.env) returned %d results, want %d", n, MaxFound)
	}
	// Hostile shapes of 1 MiB must not take quadratic time.
	hostile := map[string]string{
		"sk-":          "sk-",
		"sk-proj-":     "sk-proj-",
		"begin":        "-----BEGIN PRIVATE KEY-----\n",
		"begin-end":    "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"akia":         "AKIAAAAAAAAAAAAAAAAA ",
		"url":          "postgres://a:",
		"at":           "https://u:p@",
		"putty":        "PuTTY-User-Key-File-2: ssh-rsa\n",
		"quote":        `A="`,
		"pypi":         "pypi-AgEIcHlwaS5vcmc",
		"nested-yaml":  "[",
		"nested-json":  `{"a":`,
		"slack":        "xoxb-1-",
		"kind":         "kind: Config users: ",
		"backslash":    "\\",
		"model_list":   "model_list: litellm_params ",
		"gitconfig":    "[http \"https://github.com/\"]\nextraheader = AUTHORIZATION: basic eDp5\n",
		"netrc macdef": "macdef x\n",
	}
	if testing.Short() {
		return
	}
	// One path per parser family; each takes ~50 ms per MiB of these.
	paths := []string{"/home/u/notes.txt", "/app/.env", "/home/u/.bashrc", "/home/u/.kube/config",
		"/srv/litellm/config.yaml", "/home/u/.azure/msal_token_cache.json", "/home/u/.gitconfig", "/run/secrets/x"}
	for name, unit := range hostile {
		data := []byte(strings.Repeat(unit, (1<<19)/len(unit)))
		for _, p := range paths {
			start := time.Now()
			Parse(p, data)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s on %s: %v", name, p, d)
			}
		}
	}
}
