package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
)

// TestPlantedSecretsGoNowhere is the secrets guarantee end to end, with the
// real binary: distinct secrets are planted in a generated host (the
// compromised image, and an app's .env), then an operator's whole incident
// runs: scans, a gateway serving traffic with a virtual key, an OpenAI
// rotation re-routed through the live gateway, an Anthropic rotation, the
// console-free status commands, every export format and an audit verify.
// Then every file Tourniquet wrote (the database, its WAL and shared
// memory, the gateway keystore, every export) and everything it printed
// (each command's stdout and stderr, the gateway's log) is searched for
// every secret value, whole and as any 12-character piece: zero hits.
func TestPlantedSecretsGoNowhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	c := newLLMCLI(t)
	image := filepath.Join(c.dir, "image")
	if err := hostimage.BuildFile(image, "../../collectors/host/testdata/images/compromised.txtar"); err != nil {
		t.Fatal(err)
	}
	oai, provider, _, _ := liveOpenAI(t)
	ant := llmtest.NewAnthropic(t)
	ant.AddAdminKey(e2eAntAdmin)
	ant.AddKey(e2eAntOld, "backend", time.Now().Add(-40*24*time.Hour))
	ant.AddKey(e2eAntNew, "backend-2026-03", time.Now())

	var printed bytes.Buffer
	cli := func(wantCodes []int, extra []string, args ...string) string {
		t.Helper()
		code, out, errs := c.run(extra, args...)
		printed.WriteString(out + errs)
		for _, w := range wantCodes {
			if code == w {
				return out
			}
		}
		t.Fatalf("tourniquet %s: exit %d (want %v)\n%s\n%s", strings.Join(args, " "), code, wantCodes, out, errs)
		return ""
	}
	ok := []int{exitOK}

	// Am I hit, and what leaked: the image and the app's home.
	cli([]int{exitFound}, nil, "scan", "--root", image, "--json")
	cli([]int{exitFound}, nil, "scan", "--root", image) // the table view too
	ids := c.scan()
	if ids["openai-api-key"] == "" || ids["anthropic-api-key"] == "" {
		t.Fatalf("the scan did not find the app's keys: %v", ids)
	}
	cli(ok, nil, "exposure")
	cli(ok, nil, "--json", "exposure")

	// The gateway: the old provider key, a virtual key, live traffic.
	cli(ok, nil, "gateway", "routes", "add", "gpt-4o", "--base-url", provider.URL, "--key-ref", "openai-prod")
	cli(ok, []string{"OLD_KEY=" + e2eOpenAIOld}, "gateway", "provider-key", "set", "openai-prod", "--secret-from", "env:OLD_KEY")
	// The virtual key is printed once, by design, for the app's operator:
	// the only output left out of the search below.
	var vk struct{ Key string }
	code, out, errs := c.run(nil, "--json", "gateway", "keys", "create", "--routes", "gpt-4o")
	if err := json.Unmarshal([]byte(out), &vk); code != exitOK || err != nil || vk.Key == "" {
		t.Fatalf("virtual key: exit %d %v %s", code, err, errs)
	}
	printed.WriteString(errs)
	base, gw, gwLog := startGateway(t, c.bin, c.env[len(c.env)-3:])
	traffic := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
			req.Header.Set("Authorization", "Bearer "+vk.Key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("request through the gateway: %s %s", resp.Status, b)
			}
			printed.Write(b)
		}
	}
	traffic(20)

	// Stop the bleeding: OpenAI rotated and re-routed, Anthropic rotated.
	cli(ok, []string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin, "NEW_KEY=" + e2eOpenAINew},
		"playbook", "run", "llm-openai-key", "--credential", ids["openai-api-key"], "--yes", "--secret-from", "env:NEW_KEY", "--json",
		"--param", "api_base="+provider.URL+"/v1", "--param", "gateway_ref=openai-prod", "--param", "verify_timeout=20s")
	cli(ok, []string{"ANTHROPIC_ADMIN_KEY=" + e2eAntAdmin, "NEW_KEY=" + e2eAntNew},
		"playbook", "run", "llm-anthropic-key", "--credential", ids["anthropic-api-key"], "--yes", "--secret-from", "env:NEW_KEY",
		"--param", "api_base="+ant.URL, "--param", "verify_timeout=10s")
	if oai.KeyWorks(e2eOpenAIOld) {
		t.Error("the old OpenAI key still works")
	}
	traffic(20) // served with the new key
	cli(ok, nil, "gateway", "status")
	cli(ok, nil, "gateway", "keys", "list")
	cli(ok, nil, "playbook", "status")

	// Prove it: the chain and every export format.
	exports := filepath.Join(c.dir, "exports")
	if err := os.MkdirAll(exports, 0o700); err != nil {
		t.Fatal(err)
	}
	cli(ok, nil, "export") // Markdown to stdout
	for _, f := range []string{"md", "json", "html", "timesketch"} {
		cli(ok, nil, "export", "--format", f, "--out", filepath.Join(exports, "pm."+f))
	}
	cli(ok, nil, "audit", "verify")
	cli(ok, nil, "audit", "verify", "--export", filepath.Join(exports, "pm.json"))

	// Stop the gateway (SIGINT flushes its audit batch) and take its log.
	_ = gw.Process.Signal(os.Interrupt)
	_ = gw.Wait()
	printed.WriteString(gwLog.String())

	// The secrets: the image's, the app's old and new keys, the admin keys
	// the operator gave, and the virtual key the gateway issued.
	secrets := append([]string{}, plantedSecrets...)
	secrets = append(secrets, e2eOpenAIOld, e2eOpenAINew, e2eAntOld, e2eAntNew, e2eOAIAdmin, e2eAntAdmin, vk.Key)

	// Every file Tourniquet wrote: all of c.dir but the scanned trees
	// (the image, and the app's home, where the new keys were delivered).
	var files []string
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (p == image || p == filepath.Join(c.dir, "home")) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	searched := map[string]bool{}
	for _, p := range files {
		searched[strings.TrimPrefix(p, c.dir+"/")] = true
	}
	for _, must := range []string{"t.db", "exports/pm.md", "exports/pm.json", "exports/pm.html", "exports/pm.timesketch"} {
		if !searched[must] {
			t.Errorf("%s was not among the files searched %v", must, files)
		}
	}
	if len(files) < 6 {
		t.Errorf("only %d files to search: %v", len(files), files)
	}
	hits := 0
	check := func(where string, data []byte) {
		for _, s := range secrets {
			if piece, found := secretIn(data, s); found {
				hits++
				t.Errorf("%s holds (part of) a planted secret ending %s: %q", where, s[len(s)-4:], piece)
			}
		}
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		check(strings.TrimPrefix(p, c.dir+"/"), b)
	}
	check("stdout, stderr and the gateway log", printed.Bytes())
	// The check itself finds a secret where there is one.
	if _, found := secretIn([]byte("x"+e2eOpenAINew[10:30]+"x"), e2eOpenAINew); !found {
		t.Fatal("secretIn misses a piece of a secret")
	}
	t.Logf("%d secrets searched for in %d files (%s) and %d bytes of output: %d hits", len(secrets), len(files), strings.Join(slices.Sorted(maps.Keys(searched)), ", "), printed.Len(), hits)
}

// secretIn reports whether data holds s, or any 12-character piece of s
// past its public prefix (a truncated copy leaks too; a hint, which keeps
// the prefix and the last four characters, does not).
func secretIn(data []byte, s string) (string, bool) {
	if bytes.Contains(data, []byte(s)) {
		return s, true
	}
	body := s
	for _, prefix := range []string{"sk-proj-", "sk-ant-api03-", "sk-ant-admin01-", "sk-admin-", "ghp_", "tqv-"} {
		body = strings.TrimPrefix(body, prefix)
	}
	for i := 0; i+12 <= len(body); i++ {
		if bytes.Contains(data, []byte(body[i:i+12])) {
			return body[i : i+12], true
		}
	}
	return "", false
}
