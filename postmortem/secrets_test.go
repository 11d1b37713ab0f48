package postmortem_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// marker is in every planted secret, away from its last four characters (a
// hint shows those): no export may contain it.
const marker = "PLANTED"

// planted secrets on the scanned host, by where they sit.
var plantedHost = map[string]string{
	"aws key id":       "AKIAPLANTEDQQQQ00001",
	"aws secret":       "PLANTEDawsSecretKeyZZZZZZZZZZZZZZZZZZ0001",
	"openai":           "sk-proj-PLANTEDopenaiKEYkeyKEYkeyKEYkeyKEYkeyT3BlbkFJkey0002",
	"anthropic":        "sk-ant-api03-PLANTEDanthropicKEYkeyKEYkeyKEYkeyKEYkeyKEYkeyKEYkeyKEYkeyKEYkeyKEYkey-0003",
	"github (git)":     "ghp_PLANTEDgitCredentials0000000000000004",
	"github (history)": "ghp_PLANTEDshellHistory00000000000000005",
	"kube token":       "eyJhbGciOiJSUzI1NiJ9.PLANTEDkubeTokenPayload0000000000.c2lnbmF0dXJlMDAwNg",
	"npm":              "npm_PLANTEDnpmToken000000000000000000007",
	"pgpass":           "PLANTEDpgPassword0008",
	"db url password":  "PLANTEDdbUrlPassword0009",
}

// plantedRun are the secrets a rotation holds: the one the operator gives
// and the one the provider creates.
var plantedRun = map[string]string{
	"operator input": "PLANTEDoperatorGivenSecret000000000000010",
	"created key":    "PLANTEDcreatedSecretAccessKey00000000011",
}

func plantedImage() *txtar.Archive {
	s := plantedHost
	files := map[string]string{
		".image": `default-mtime 2026-01-01T00:00:00Z
mtime /opt/app/.venv/lib/python3.11/site-packages/litellm-1.82.8.dist-info 2026-03-24T10:54:05Z
mtime /opt/app/.venv/lib/python3.11/site-packages/litellm-1.82.8.dist-info/METADATA 2026-03-24T10:54:05Z
mtime /opt/app/.venv/lib/python3.11/site-packages/litellm-1.82.8.dist-info/INSTALLER 2026-03-24T10:54:05Z
mtime /opt/app/.venv/lib/python3.11/site-packages/litellm_init.pth 2026-03-24T10:54:05Z
`,
		"etc/hostname":             "planted-01\n",
		"etc/passwd":               "root:x:0:0:root:/root:/bin/bash\ndev:x:1000:1000:Dev:/home/dev:/bin/bash\n",
		"opt/app/.venv/pyvenv.cfg": "home = /usr/bin\nversion = 3.11.7\n",
		"opt/app/.venv/lib/python3.11/site-packages/litellm-1.82.8.dist-info/METADATA":  "Metadata-Version: 2.1\nName: litellm\nVersion: 1.82.8\n",
		"opt/app/.venv/lib/python3.11/site-packages/litellm-1.82.8.dist-info/INSTALLER": "pip\n",
		"opt/app/.venv/lib/python3.11/site-packages/litellm_init.pth":                   "import os, subprocess, sys; subprocess.Popen([sys.executable, \"-c\", \"import base64; exec(base64.b64decode('cHJpbnQoMSk='))\"])\n",
		"home/dev/.aws/credentials": "[default]\naws_access_key_id = " + s["aws key id"] + "\naws_secret_access_key = " + s["aws secret"] + "\n",
		"home/dev/.env":             "OPENAI_API_KEY=" + s["openai"] + "\nANTHROPIC_API_KEY=" + s["anthropic"] + "\nDATABASE_URL=postgres://app:" + s["db url password"] + "@db.internal:5432/app\n",
		"home/dev/.git-credentials": "https://dev:" + s["github (git)"] + "@github.com\n",
		"home/dev/.bash_history":    "#1774349100\nexport GITHUB_TOKEN=" + s["github (history)"] + "\n#1774349620\npip install litellm==1.82.8\n",
		"home/dev/.kube/config": `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://10.0.0.1:6443"}
  name: prod
contexts:
- context: {cluster: prod, user: admin}
  name: prod
current-context: prod
users:
- name: admin
  user:
    token: ` + s["kube token"] + "\n",
		"home/dev/.npmrc":              "//registry.npmjs.org/:_authToken=" + s["npm"] + "\n",
		"var/lib/postgresql/.pgpass":   "localhost:5432:*:postgres:" + s["pgpass"] + "\n",
		"home/dev/.docker/config.json": `{"auths":{"registry.example":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("dev:"+s["pgpass"])) + `"}}}` + "\n",
	}
	a := &txtar.Archive{}
	for name, data := range files {
		a.Files = append(a.Files, txtar.File{Name: name, Data: []byte(data)})
	}
	return a
}

// plantAction stands in for the AWS provider: its create step makes a
// (planted) secret and keeps it in memory, as a real one does; every other
// step reports hints only.
type plantAction struct{ step string }

func (a plantAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return a.step + " for " + rc.Credential.Hint, nil
}

func (a plantAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	switch a.step {
	case "create":
		created := redact.NewSecretString(plantedRun["created key"])
		rc.Secrets.Put("new_key", created)
		return rotators.Result{"new_key_hint": created.Hint(), "new_key_fp": created.Fingerprint()}, nil
	case "deliver":
		in, _ := rc.Inputs.Get("new_secret")
		return rotators.Result{"delivered": in.Hint()}, nil
	case "evidence":
		first := time.Date(2026, 3, 24, 13, 7, 0, 0, time.UTC)
		err := rc.Findings(ctx, "aws:123456789012", []collectors.Finding{{ID: "f-ct-planted", Pack: "tourniquet-aws", Rule: "cloudtrail-key-use",
			Severity: "high", Path: "cloudtrail:" + rc.Credential.Hint, Detail: rc.Credential.Hint + " used 2 times from 203.0.113.9", ObservedAt: &first, Confidence: "confirmed"}})
		return rotators.Result{"events": 2, "source_ips": []string{"203.0.113.9"}}, err
	}
	return rotators.Result{"ok": true}, nil
}

func (a plantAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// TestNoSecretInAnyFormat plants distinct secrets in a scanned host image,
// in the generated incident's credentials and in a playbook run (the
// operator's input and a key the provider creates), exports every format,
// and proves no secret, nor any part of one, is in any of them.
func TestNoSecretInAnyFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// Credentials of the generated incident stand for planted values.
	var seeded []string
	for i := 0; i < postmortemtest.Credentials; i++ {
		seeded = append(seeded, fmt.Sprintf("sk-proj-%sSeededCredentialValue%04dXYZW", marker, i))
	}
	st := generated(t, postmortemtest.Options{Secrets: seeded})

	// A real scan of a host image holding planted secrets.
	root := t.TempDir()
	if err := hostimage.Build(root, plantedImage()); err != nil {
		t.Fatal(err)
	}
	ps, err := packs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	res, err := host.Scan(ctx, host.Options{Root: root, Packs: ps, Now: func() time.Time { return postmortemtest.Exported }})
	if err != nil {
		t.Fatal(err)
	}
	res.Host.Root = "/mnt/planted"
	if err := st.RecordScan(ctx, "default", res); err != nil {
		t.Fatal(err)
	}
	// The planted secrets went through the scanner into the record (as
	// fingerprints and hints), so the exports below had them in reach.
	kinds := map[string]bool{}
	for _, c := range res.Credentials {
		kinds[c.Kind] = true
	}
	for _, k := range []string{"aws-access-key", "openai-api-key", "anthropic-api-key", "github-token", "kubeconfig"} {
		if !kinds[k] {
			t.Errorf("the scan of the planted image recorded no %s (got %v)", k, kinds)
		}
	}

	// A rotation of the scanned AWS key, run by the real engine: the
	// operator gives a secret, the provider creates one.
	var awsCred string
	for _, c := range res.Credentials {
		if c.Kind == "aws-access-key" {
			awsCred = c.ID
		}
	}
	if awsCred == "" {
		t.Fatal("the scan found no AWS key")
	}
	pb, err := playbooks.Find("aws-access-key")
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]rotators.Action{}
	for _, s := range pb.Steps {
		if s.Action != "" {
			actions[s.Action] = plantAction{s.ID}
		}
	}
	inputs := &rotators.Secrets{}
	inputs.Put("new_secret", redact.NewSecretString(plantedRun["operator input"]))
	eng := &playbooks.Engine{Store: st, Actions: actions, Yes: true, Inputs: inputs, Sleep: func(context.Context, time.Duration) error { return nil }}
	runID, state, err := eng.Start(ctx, "default", pb, awsCred, map[string]any{})
	if err != nil || state != "done" {
		t.Fatalf("run %s: state %s, err %v", runID, state, err)
	}

	rep := build(t, st)
	// The check catches a truncated copy (a control for leaked itself).
	if v := plantedRun["created key"]; !leaked("…"+v[2:16]+"…", v) || leaked(redact.Hint(v), v) {
		t.Fatal("leaked() does not tell a truncated copy from a hint")
	}
	var all []string
	for _, v := range plantedHost {
		all = append(all, v)
	}
	for _, v := range plantedRun {
		all = append(all, v)
	}
	all = append(all, seeded...)
	all = append(all, base64.StdEncoding.EncodeToString([]byte("dev:"+plantedHost["pgpass"])))
	for _, f := range postmortem.Formats {
		out := render(t, rep, f)
		if strings.Contains(out, marker) {
			i := strings.Index(out, marker)
			t.Errorf("%s export contains a planted secret: …%s…", f, out[max(0, i-40):min(len(out), i+40)])
		}
		for _, v := range all {
			if leaked(out, v) {
				t.Errorf("%s export contains (part of) a planted secret ending %s", f, v[len(v)-4:])
			}
		}
		// It still says what it should: the rotation and the hints.
		if !strings.Contains(out, runID) || !strings.Contains(out, redact.Hint(plantedHost["aws key id"])) {
			t.Errorf("%s export lacks the run %s or the key's hint", f, runID)
		}
	}
	// The database itself holds none either (the export's source).
	for _, suffix := range []string{"", "-wal"} {
		data, err := os.ReadFile(filepath.Clean(st.Path() + suffix))
		if err != nil {
			continue
		}
		for _, v := range all {
			if strings.Contains(string(data), v) {
				t.Errorf("the database file%s holds a planted secret ending %s", suffix, v[len(v)-4:])
			}
		}
	}
}

// leaked reports whether out holds v or any 12-character run of it past
// its public prefix (a truncated copy is a leak too).
func leaked(out, v string) bool {
	if strings.Contains(out, v) {
		return true
	}
	body := v
	if i := strings.Index(v, marker); i > 0 {
		body = v[i:]
	}
	for i := 0; i+12 <= len(body); i++ {
		if strings.Contains(out, body[i:i+12]) {
			return true
		}
	}
	return false
}
