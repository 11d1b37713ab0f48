package llmtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tourniquet-ir/tourniquet/internal/peerproc"
)

const (
	// RequirePeersEnv turns a missing peer from a skip into a failure (CI).
	RequirePeersEnv = "TOURNIQUET_REQUIRE_PEERS"
	// PrismEnv names a prism executable to use.
	PrismEnv = "TOURNIQUET_PRISM"
	// SpecEnv names OpenAI's description (default ../shared/specs/openai-openapi.yaml
	// beside the repository).
	SpecEnv = "TOURNIQUET_OPENAI_SPEC"
)

// OpenAIPaths are the operations the OpenAI client and the gateway send; the description
// Prism serves is trimmed to them (and the components they reach).
var OpenAIPaths = []string{
	"/chat/completions", // the gateway's upstream requests
	"/embeddings",
	"/models",
	"/organization/projects",
	"/organization/projects/{project_id}/api_keys",
	"/organization/projects/{project_id}/api_keys/{api_key_id}",
	"/organization/projects/{project_id}/service_accounts",
	"/organization/projects/{project_id}/service_accounts/{service_account_id}",
	"/organization/usage/completions",
}

// Prism is a running Prism mock server in validation mode: a request that
// does not match the description is answered 4xx.
type Prism struct {
	URL string // http://127.0.0.1:PORT (no /v1: Prism ignores the servers' path)

	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

// SpecPath finds OpenAI's description, or "".
func SpecPath() string {
	if p := os.Getenv(SpecEnv); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", "specs", "openai-openapi.yaml")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// prismBinary finds prism: $TOURNIQUET_PRISM, the GitHub peer's install
// under ~/.cache/tourniquet (scripts/testenv), or PATH.
func prismBinary() string {
	if p := os.Getenv(PrismEnv); p != "" {
		return p
	}
	// The GitHub peer (scripts/testenv/github-peer.sh, run by .ci/run)
	// installs the same Prism 5.16.0: reuse it.
	if d := os.Getenv("TOURNIQUET_GITHUB_PEER"); d != "" {
		if p := filepath.Join(d, "node_modules", ".bin", "prism"); fileExists(p) {
			return p
		}
	}
	home, _ := os.UserHomeDir()
	if dirs, _ := filepath.Glob(filepath.Join(home, ".cache", "tourniquet", "*", "node_modules", ".bin", "prism")); len(dirs) > 0 {
		sort.Strings(dirs)
		return dirs[len(dirs)-1]
	}
	if p, err := exec.LookPath("prism"); err == nil {
		return p
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv(RequirePeersEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; set " + RequirePeersEnv + "=1 to fail instead")
}

var (
	trimOnce sync.Once
	trimPath string
	trimErr  error
)

// StartPrism starts Prism on a free loopback port serving the trimmed OpenAI
// description; the process group is stopped in t.Cleanup. The test is
// skipped, with a message, when the description is absent, and when Prism is
// not installed unless TOURNIQUET_REQUIRE_PEERS=1.
func StartPrism(t testing.TB) *Prism {
	t.Helper()
	spec := SpecPath()
	if spec == "" {
		t.Skip("llmtest: OpenAI's description ../shared/specs/openai-openapi.yaml is absent (set " + SpecEnv + "); Prism validation skipped")
	}
	bin := prismBinary()
	if bin == "" {
		skipOrFail(t, "llmtest: Prism is not installed (scripts/testenv/github-peer.sh installs it; or set "+PrismEnv+")")
	}
	trimOnce.Do(func() { trimPath, trimErr = trimmedSpec(spec) })
	if trimErr != nil {
		t.Fatalf("llmtest: prepare the description: %v", trimErr)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		p, err := startPrism(bin, trimPath)
		if err == nil {
			t.Cleanup(p.stop)
			return p
		}
		lastErr = err
	}
	t.Fatalf("llmtest: start prism: %v", lastErr)
	return nil
}

func startPrism(bin, spec string) (*Prism, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "mock", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "--errors", spec)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	peerproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Prism{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{}), out: out}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(90 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("prism exited: %s", out.String())
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/models", nil)
		req.Header.Set("Authorization", "Bearer sk-ready-probe")
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return p, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("prism did not answer within 90s: %s", out.String())
}

func (p *Prism) stop() {
	_ = peerproc.Stop(p.cmd, p.done, 5*time.Second)
}

// Output is what Prism logged.
func (p *Prism) Output() string { return p.out.String() }

// Validate sends a copy of a request to Prism and returns an error when
// Prism rejects it (any 4xx: the request does not match the description).
func (p *Prism) Validate(method, pathAndQuery string, header http.Header, body []byte) error {
	req, err := http.NewRequest(method, p.URL+pathAndQuery, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return fmt.Errorf("prism rejects %s %s: HTTP %d %s", method, pathAndQuery, resp.StatusCode, b.String())
	}
	return nil
}

// trimmedSpec writes (once per input) the description with only OpenAIPaths
// and the components they reach, as JSON, in the user cache.
func trimmedSpec(spec string) (string, error) {
	raw, err := os.ReadFile(spec)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(raw)
	fmt.Fprintln(h, "v2", OpenAIPaths)
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "tourniquet")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "openai-trimmed-"+hex.EncodeToString(h.Sum(nil))[:16]+".json")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return "", err
	}
	paths, _ := doc["paths"].(map[string]any)
	keep := map[string]any{}
	for _, p := range OpenAIPaths {
		v, ok := paths[p]
		if !ok {
			return "", fmt.Errorf("the description has no path %s", p)
		}
		keep[p] = v
	}
	comps, _ := doc["components"].(map[string]any)
	need := map[string]map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if ref, ok := t["$ref"].(string); ok && strings.HasPrefix(ref, "#/components/") {
				parts := strings.SplitN(strings.TrimPrefix(ref, "#/components/"), "/", 2)
				if len(parts) == 2 {
					if need[parts[0]] == nil {
						need[parts[0]] = map[string]bool{}
					}
					if !need[parts[0]][parts[1]] {
						need[parts[0]][parts[1]] = true
						if sec, ok := comps[parts[0]].(map[string]any); ok {
							walk(sec[parts[1]])
						}
					}
				}
			}
			for k, e := range t {
				if k == "x-oaiMeta" {
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(keep)
	newComps := map[string]any{}
	for sec, names := range need {
		m := map[string]any{}
		src, _ := comps[sec].(map[string]any)
		for n := range names {
			m[n] = src[n]
		}
		newComps[sec] = m
	}
	newComps["securitySchemes"] = comps["securitySchemes"]
	trimmed := map[string]any{"openapi": doc["openapi"], "info": doc["info"], "servers": doc["servers"], "security": doc["security"],
		"paths": keep, "components": newComps}
	compilable(trimmed)
	b, err := json.Marshal(trimmed)
	if err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.tmp-%d", out, os.Getpid())
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", err
	}
	return out, os.Rename(tmp, out)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var errUnsupported = errors.New("process groups are not supported here")

// compilable rewrites what makes Prism's validator fail to compile a schema
// (and then silently skip validation, TESTINFRA.md): `nullable: true`
// without a type becomes anyOf [the schema, {type: null}], and null
// examples are dropped. The schemas mean the same; only then are the
// chat completion bodies actually validated.
func compilable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = compilable(e)
		}
		if ex, ok := t["example"]; ok && ex == nil {
			delete(t, "example")
		}
		if n, _ := t["nullable"].(bool); n {
			if _, typed := t["type"]; !typed {
				delete(t, "nullable")
				inner := map[string]any{}
				outer := map[string]any{}
				for k, e := range t {
					switch k {
					case "description", "default", "deprecated", "title":
						outer[k] = e
					default:
						inner[k] = e
					}
				}
				outer["anyOf"] = []any{inner, map[string]any{"type": "null"}}
				return outer
			}
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = compilable(e)
		}
		return t
	}
	return v
}
