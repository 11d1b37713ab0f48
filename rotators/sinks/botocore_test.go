package sinks

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Tests that use the real AWS CLI and its botocore as the reference reader.
// They skip when the peer is missing, unless TOURNIQUET_REQUIRE_PEERS=1.

func requirePeer(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("TOURNIQUET_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s is required (TOURNIQUET_REQUIRE_PEERS=1): %v", what, err)
	}
	t.Skipf("skipping: %s is not available (%v); set TOURNIQUET_REQUIRE_PEERS=1 to make this a failure", what, err)
}

// awsGet runs `aws configure get NAME --profile PROFILE` against file.
func awsGet(t *testing.T, file, profile, name string) (string, error) {
	t.Helper()
	cmd := exec.Command("aws", "configure", "get", name, "--profile", profile)
	cmd.Env = append(os.Environ(),
		"AWS_SHARED_CREDENTIALS_FILE="+file,
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_PROFILE=", "AWS_DEFAULT_PROFILE=",
		"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("aws configure get %s --profile %s: %w", name, profile, err)
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// botocoreView is what raw_config_parse returns for a file, or its error.
type botocoreView struct {
	OK       bool                      `json:"ok"`
	Error    string                    `json:"error,omitempty"`
	Sections map[string]map[string]any `json:"sections,omitempty"`
}

const botocoreScript = `
import json, sys
from botocore.configloader import raw_config_parse
out = []
for p in json.load(sys.stdin):
    try:
        out.append({"ok": True, "sections": raw_config_parse(p)})
    except Exception as e:
        out.append({"ok": False, "error": type(e).__name__})
json.dump(out, sys.stdout)
`

// botocoreParse parses every file with the real botocore, in one process.
func botocoreParse(t *testing.T, files [][]byte) []botocoreView {
	t.Helper()
	py, err := exec.LookPath("python3")
	requirePeer(t, "python3", err)
	requirePeer(t, "botocore", exec.Command(py, "-c", "import botocore.configloader").Run())
	dir := t.TempDir()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, fmt.Sprintf("c%d", i))
		if err := os.WriteFile(paths[i], f, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in, _ := json.Marshal(paths)
	cmd := exec.Command(py, "-c", botocoreScript)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Env = append(os.Environ(), "PYTHONUTF8=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore: %v", err)
	}
	var views []botocoreView
	if err := json.Unmarshal(out, &views); err != nil {
		t.Fatal(err)
	}
	return views
}

// ourView is parseINI's reading in raw_config_parse's shape.
func ourView(data []byte) botocoreView {
	f, err := parseINI(data)
	if err != nil {
		return botocoreView{Error: err.Error()}
	}
	v := botocoreView{OK: true, Sections: map[string]map[string]any{}}
	for _, s := range f.sections {
		m := map[string]any{}
		opts := s.options
		if f.defaults != nil {
			opts = append(append([]*iniOption(nil), opts...), f.defaults.options...)
		}
		for _, o := range opts {
			if _, done := m[o.key]; done {
				continue
			}
			val := f.lookup(s, o.key).value()
			if strings.HasPrefix(val, "\n") { // botocore's _parse_nested
				nested := map[string]any{}
				for _, l := range pySplitLines(val) {
					if l = pyStrip(l); l != "" {
						k, v, _ := strings.Cut(l, "=")
						nested[pyStrip(k)] = pyStrip(v)
					}
				}
				m[o.key] = nested
				continue
			}
			m[o.key] = val
		}
		v.Sections[s.name] = m
	}
	return v
}

func sameView(a, b botocoreView) bool {
	if a.OK != b.OK {
		return false
	}
	if !a.OK {
		return true // both refuse; the reasons are worded differently
	}
	if len(a.Sections) == 0 && len(b.Sections) == 0 {
		return true
	}
	return reflect.DeepEqual(a.Sections, b.Sections)
}

// Fragments for generated files: each a line that exercises one rule. Most
// are valid; a few make botocore refuse the file.
var (
	goodFragments = []string{
		"[{s}]", "[{s}]", "[{s}]", "[DEFAULT]", "[profile x]", "[profile  x]", "  [{s}]", "\t[{s}]", "[{s}] trailing", "[a]b]", "[ a ]",
		"{k} = v", "{K}=v", "{k}: v", "{k}:v=w", "{k} = v # not a comment", "{k} = v ; nor this", "  {k} = v", "\t{k}=v", "    deep = 1",
		"{k} =", "{k}=", "{k} = v:w", "{k} = 1", "  {k}: 2",
		"# c", "; c", "  # c", "\t; c", "#", "", "   ", "\t", "\u00a0", "\u3000k = v", "\u00a0k = v", "\x0ck=v", "\x1ck = v",
		"aws_access_key_id = AKIAOLD", "AWS_Access_Key_ID = AKIAOLD", "aws_access_\u212aey_id = AKIAOLD",
		"aws_secret_access_key = old/secret+1", "  aws_secret_access_key = s2", "aws_session_token = tok", "aws_security_token = tok",
		"region = eu-west-1", "s3 =", "  addressing_style = path", "ｋ = v", "k\u0130 = v", "KI = v",
		"v\u0085w = 1", "k = a\u2028b", "[x\u00a0]", "\x00 = 1",
	}
	badFragments = []string{"[]", "[a", "=v", ":v", "junk", "just words", "k", "  bad line", "\ufeff[a]"}
)

var eols = []string{"\n", "\n", "\n", "\r\n", "\r"}

func generated(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		var b strings.Builder
		if r.IntN(4) > 0 {
			b.WriteString("[" + []string{"a", "x", "DEFAULT", "profile x"}[r.IntN(4)] + "]\n")
		}
		lines := 1 + r.IntN(10)
		for j := range lines {
			if r.IntN(40) == 0 {
				b.WriteString(badFragments[r.IntN(len(badFragments))])
			} else {
				l := goodFragments[r.IntN(len(goodFragments))]
				l = strings.ReplaceAll(l, "{s}", []string{"a", "b", "c", "d", "e", "f", "x", "y", "z", "x", "default", "profile x"}[r.IntN(12)])
				k := fmt.Sprintf("key%d", r.IntN(40))
				l = strings.ReplaceAll(strings.ReplaceAll(l, "{k}", k), "{K}", strings.ToUpper(k))
				b.WriteString(l)
			}
			if j < lines-1 || r.IntN(4) > 0 {
				b.WriteString(eols[r.IntN(len(eols))])
			}
		}
		out[i] = []byte(b.String())
	}
	return out
}

// TestParserMatchesBotocore checks parseINI against the real botocore on the
// table inputs and outputs and on generated files: both must refuse the same
// files and read the same sections, keys and values from the others. It then
// checks every successful edit with botocore's own reading: the profile holds
// the new key and no token, and every other section reads as before.
func TestParserMatchesBotocore(t *testing.T) {
	t.Parallel()
	var inputs [][]byte
	for _, c := range editCases {
		inputs = append(inputs, []byte(c.in))
		if c.want != "" {
			inputs = append(inputs, []byte(c.want))
		}
	}
	for _, c := range refusalCases {
		inputs = append(inputs, []byte(c.in))
	}
	inputs = append(inputs, generated(3000)...)

	type editRun struct {
		in      int    // index of the input
		profile string // edited profile
	}
	var edits []editRun
	var outputs [][]byte
	for i, in := range inputs {
		for _, p := range []string{"x", "a", "new"} {
			out, err := setAWSKey(in, p, testKeyID, []byte(testSecret))
			if err != nil {
				continue
			}
			edits = append(edits, editRun{i, p})
			outputs = append(outputs, out)
		}
	}
	views := botocoreParse(t, append(append([][]byte(nil), inputs...), outputs...))
	refused := 0
	for i, in := range inputs {
		ours := ourView(in)
		if !ours.OK {
			refused++
		}
		if !sameView(ours, views[i]) {
			t.Errorf("input %d %q:\n botocore %+v\n ours     %+v", i, in, views[i], ours)
		}
	}
	for j, e := range edits {
		before, after := views[e.in], views[len(inputs)+j]
		if !after.OK {
			t.Errorf("edit of input %d %q for %s: botocore cannot read the result (%s): %q", e.in, inputs[e.in], e.profile, after.Error, outputs[j])
			continue
		}
		prof := after.Sections[e.profile]
		if prof[keyAccessKeyID] != testKeyID || prof[keySecretAccessKey] != testSecret ||
			prof[keySessionToken] != nil || prof[keySecurityToken] != nil {
			t.Errorf("edit of input %d %q for %s: botocore reads the profile as %v", e.in, inputs[e.in], e.profile, prof)
		}
		for name, sec := range after.Sections {
			if a, ok := aliasOf(name); name == e.profile || ok && a == e.profile {
				continue
			}
			if !reflect.DeepEqual(sec, before.Sections[name]) {
				t.Errorf("edit of input %d %q for %s changed section %q: %v -> %v", e.in, inputs[e.in], e.profile, name, before.Sections[name], sec)
			}
		}
	}
	t.Logf("%d inputs (%d refused by both), %d edits read back by botocore", len(inputs), refused, len(edits))
}
