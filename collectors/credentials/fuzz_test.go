package credentials

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzPaths are one path per format, chosen by the fuzzer's first byte.
var fuzzPaths = []string{
	"/home/u/.aws/credentials", "/home/u/.ssh/id_ed25519", "/etc/ssl/private/x.key", "/home/u/.git-credentials",
	"/home/u/.gitconfig", "/home/u/.config/gh/hosts.yml", "/home/u/.config/glab-cli/config.yml", "/home/u/.kube/config",
	"/var/run/secrets/kubernetes.io/serviceaccount/token", "/run/secrets/api_key", "/app/.env", "/home/u/.bashrc",
	"/etc/systemd/system/x.service", "/home/u/.docker/config.json", "/home/u/.npmrc", "/app/.yarnrc.yml",
	"/home/u/.pypirc", "/home/u/.netrc", "/home/u/.vault-token", "/home/u/.config/gcloud/application_default_credentials.json",
	"/home/u/.config/gcloud/credentials.db", "/home/u/.azure/msal_token_cache.json", "/home/u/.pgpass", "/home/u/.my.cnf",
	"/etc/redis/redis.conf", "/home/u/.msmtprc", "/etc/postfix/sasl_passwd", "/home/u/.s3cfg", "/srv/x.tfvars",
	"/srv/x.tfvars.json", "/srv/terraform.tfstate", "/etc/wireguard/wg0.conf", "/srv/litellm/config.yaml",
	"/srv/creds/service-account.json", "/home/u/notes.txt", "/home/u/.aws/sso/cache/x.json",
	"/home/u/.config/helm/repositories.yaml", "/home/u/keys/k.ppk", "/home/u/.ssh/environment",
}

func seedFixtures(f *testing.F, add func(data []byte)) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

func FuzzParse(f *testing.F) {
	i := 0
	seedFixtures(f, func(b []byte) {
		f.Add(byte(i), b)
		i++
	})
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		p := fuzzPaths[int(sel)%len(fuzzPaths)]
		out := Parse(p, data)
		checkResults(t, p, out)
		again := got(Parse(p, data))
		if len(again) != len(out) {
			t.Fatalf("%s: %d results, then %d", p, len(out), len(again))
		}
		for i, w := range got(out) {
			if w != again[i] {
				t.Fatalf("%s: result %d differs between runs", p, i)
			}
		}
	})
}

func FuzzScanText(f *testing.F) {
	seedFixtures(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, data []byte) {
		checkResults(t, "ScanText", ScanText(data))
	})
}

func FuzzKindForEnv(f *testing.F) {
	f.Add("OPENAI_API_KEY", vOpenai)
	f.Add("DATABASE_URL", "postgres://u:"+vDBPW+"@h/db")
	f.Add("LITELLM_MASTER_KEY", vOpenaiLegacy)
	f.Add("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----")
	f.Add("PATH", "/usr/bin")
	f.Add("X", "${Y}")
	seedFixtures(f, func(b []byte) {
		eachDotenv(b, func(v envVar) bool {
			f.Add(v.name, v.value)
			return true
		})
	})
	f.Fuzz(func(t *testing.T, name, value string) {
		kind, ok := KindForEnv(name, value)
		if ok != (kind != "") {
			t.Fatalf("KindForEnv(%q, %q) = %q, %v", name, value, kind, ok)
		}
		if ok && !knownKind(kind) {
			t.Fatalf("unknown kind %q", kind)
		}
		if k2, ok2 := KindForEnv(name, value); k2 != kind || ok2 != ok {
			t.Fatal("not deterministic")
		}
	})
}

// checkResults asserts what every Parse and ScanText result keeps.
func checkResults(t *testing.T, where string, out []Found) {
	if len(out) > MaxFound {
		t.Fatalf("%s: %d results", where, len(out))
	}
	seen := map[string]bool{}
	for _, f := range out {
		v := string(f.Secret.Reveal())
		if seen[v] {
			t.Fatalf("%s: duplicate secret", where)
		}
		seen[v] = true
		checkFound(t, where, f)
	}
}

func BenchmarkWanted(b *testing.B) {
	paths := []string{
		"/usr/lib/python3.12/site-packages/litellm/proxy/proxy_server.py",
		"/usr/lib/python3.12/site-packages/litellm-1.82.6.dist-info/RECORD",
		"/usr/lib/python3.12/site-packages/litellm_init.pth",
		"/usr/lib/python3.12/site-packages/numpy/core/tests/data/umath-validation-set-cos.csv",
		"/usr/lib/python3.12/site-packages/certifi/cacert.pem",
		"/home/alice/src/app/node_modules/lodash/lodash.js",
		"/home/alice/src/app/node_modules/@types/node/package.json",
		"/home/alice/src/app/node_modules/ssh2/test/fixtures/id_rsa",
		"/home/alice/src/app/src/index.ts",
		"/home/alice/src/app/.git/objects/pack/pack-0123456789abcdef.pack",
		"/home/alice/src/app/.git/config",
		"/home/alice/src/app/.env",
		"/home/alice/src/app/.env.local",
		"/home/alice/.bashrc",
		"/home/alice/.ssh/id_ed25519",
		"/home/alice/.ssh/known_hosts",
		"/home/alice/.aws/credentials",
		"/home/alice/.kube/config",
		"/home/alice/.docker/config.json",
		"/home/alice/.config/gcloud/configurations/config_default",
		"/home/alice/.cache/pip/http-v2/a/b/c/d/e/0123456789abcdef",
		"/usr/share/doc/bash/README",
		"/usr/bin/python3.12",
		"/etc/ssh/sshd_config",
		"/etc/systemd/system/multi-user.target.wants/ssh.service",
		"/var/lib/dpkg/info/openssl.list",
		"/root/.config/sysmon/sysmon.py",
		"/srv/litellm/config.yaml",
		"/var/log/auth.log",
		"/opt/app/venv/lib/python3.11/site-packages/pip/_vendor/rich/console.py",
	}
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if Wanted(paths[i%len(paths)]) {
			n++
		}
	}
	_ = n
}

func BenchmarkScanText1MiB(b *testing.B) {
	notes := readFixture(b, "notes.txt")
	data := make([]byte, 0, 1<<20)
	for len(data)+len(notes) < 1<<20 {
		data = append(data, notes...)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		ScanText(data)
	}
}

// BenchmarkParseSource is the common case: a MiB of ordinary source text
// (this package's Go files) with no secret in it.
func BenchmarkParseSource(b *testing.B) {
	var data []byte
	files, _ := filepath.Glob("*.go")
	for len(data) < 1<<20 {
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			data = append(data, src...)
		}
	}
	data = data[:1<<20]
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		Parse("/srv/app/notes.txt", data)
	}
}
