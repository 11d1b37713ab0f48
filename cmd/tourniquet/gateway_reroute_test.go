package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
)

// TestRotateAndRerouteUnderLoad is the gateway's acceptance: an exposed
// OpenAI key that the gateway serves with is rotated by the llm-openai-key
// playbook (new key delivered to the .env file and the gateway keystore,
// old key deleted at the provider) while clients send requests through the
// gateway without pause. The gateway verifies the new key with a canary
// and switches; the playbook deletes the old key only once the gateway has
// switched. Not one request may fail.
func TestRotateAndRerouteUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	c := newLLMCLI(t)
	oai, provider, _, refused := liveOpenAI(t)

	ids := c.scan()
	cred := ids["openai-api-key"]
	if cred == "" {
		t.Fatalf("the scan did not find the key: %v", ids)
	}
	env := []string{"OLD_KEY=" + e2eOpenAIOld}
	mustRun := func(extra []string, args ...string) string {
		t.Helper()
		code, out, errs := c.run(extra, args...)
		if code != 0 {
			t.Fatalf("tourniquet %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	mustRun(nil, "gateway", "routes", "add", "gpt-4o", "--base-url", provider.URL, "--key-ref", "openai-prod")
	mustRun(env, "gateway", "provider-key", "set", "openai-prod", "--secret-from", "env:OLD_KEY")
	var vk struct{ Key string }
	if err := json.Unmarshal([]byte(mustRun(nil, "--json", "gateway", "keys", "create", "--routes", "gpt-4o")), &vk); err != nil {
		t.Fatal(err)
	}
	base, gw, logs := startGateway(t, c.bin, c.env[len(c.env)-3:])
	t.Cleanup(func() { _ = gw.Process.Kill() })

	// Load: 8 clients in a closed loop for the whole rotation.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	var failMu sync.Mutex
	var failures []string
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("Authorization", "Bearer "+vk.Key)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					failMu.Lock()
					failures = append(failures, err.Error())
					failMu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					failMu.Lock()
					failures = append(failures, resp.Status+" "+string(b))
					failMu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	before := ok.Load()

	code, out, errs := c.run([]string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin, "NEW_KEY=" + e2eOpenAINew},
		"playbook", "run", "llm-openai-key", "--credential", cred, "--yes", "--secret-from", "env:NEW_KEY", "--json",
		"--param", "api_base="+provider.URL+"/v1", "--param", "gateway_ref=openai-prod", "--param", "verify_timeout=20s")
	if code != 0 {
		close(stop)
		wg.Wait()
		t.Fatalf("playbook: exit %d\n%s\n%s\ngateway:\n%s", code, out, errs, logs.String())
	}
	time.Sleep(time.Second) // traffic after the old key is gone
	close(stop)
	wg.Wait()

	if oai.KeyWorks(e2eOpenAIOld) {
		t.Error("the old key still works at the provider")
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of %d requests failed during the rotation; first: %v", n, n+ok.Load(), failures[:min(3, len(failures))])
	}
	if ok.Load()-before < 50 {
		t.Errorf("only %d requests during the rotation: the load did not overlap it", ok.Load()-before)
	}
	t.Logf("%d requests, %d during the rotation, %d failed; the provider refused the old key %d times", ok.Load(), ok.Load()-before, failed.Load(), refused.Load())

	// The gateway's status names the new key, and the audit chain has the
	// verified switch.
	status := mustRun(nil, "gateway", "status")
	if !strings.Contains(status, "sk-proj-…QRST") {
		t.Errorf("status does not show the new key active:\n%s", status)
	}
	if strings.Contains(out+errs+status, e2eOpenAINew) || strings.Contains(out+errs+status, e2eOpenAIOld) {
		t.Error("a key was printed")
	}
	c.assertNoSecrets(out+errs+status, e2eOpenAIOld, e2eOpenAINew)
	if audit := mustRun(nil, "--json", "audit", "verify"); !strings.Contains(audit, `"ok": true`) {
		t.Errorf("audit verify: %s", audit)
	}
}

// TestRerouteRefusedKeepsOldKey: when the gateway's canary refuses the new
// key (its upstream does not take it), the rotation stops before revoking
// the old key, and the gateway keeps serving with the old one.
func TestRerouteRefusedKeepsOldKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	c := newLLMCLI(t)
	oai := llmtest.NewOpenAI(t, nil)
	oai.AddAdminKey(e2eOAIAdmin)
	oai.AddProject("proj_app")
	oai.AddUserKey("proj_app", e2eOpenAIOld, "backend", time.Now().Add(-40*24*time.Hour))
	oai.AddUserKey("proj_app", e2eOpenAINew, "backend-2026-03", time.Now())
	oaiURL, _ := url.Parse(oai.URL)
	rest := httputil.NewSingleHostReverseProxy(oaiURL)
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/v1")
		rest.ServeHTTP(w, r)
	}))
	t.Cleanup(admin.Close)
	// The gateway's upstream is another endpoint that takes the old key only.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+e2eOpenAIOld {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/models" {
			io.WriteString(w, `{"object":"list","data":[]}`)
			return
		}
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(upstream.Close)
	cred := c.scan()["openai-api-key"]
	mustRun := func(extra []string, args ...string) string {
		t.Helper()
		code, out, errs := c.run(extra, args...)
		if code != 0 {
			t.Fatalf("tourniquet %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	mustRun(nil, "gateway", "routes", "add", "gpt-4o", "--base-url", upstream.URL, "--key-ref", "openai-prod")
	mustRun([]string{"OLD_KEY=" + e2eOpenAIOld}, "gateway", "provider-key", "set", "openai-prod", "--secret-from", "env:OLD_KEY")
	var vk struct{ Key string }
	if err := json.Unmarshal([]byte(mustRun(nil, "--json", "gateway", "keys", "create", "--routes", "gpt-4o")), &vk); err != nil {
		t.Fatal(err)
	}
	base, gw, _ := startGateway(t, c.bin, c.env[len(c.env)-3:])
	t.Cleanup(func() { _ = gw.Process.Kill() })

	code, out, errs := c.run([]string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin, "NEW_KEY=" + e2eOpenAINew},
		"playbook", "run", "llm-openai-key", "--credential", cred, "--yes", "--secret-from", "env:NEW_KEY",
		"--param", "api_base="+admin.URL+"/v1", "--param", "gateway_ref=openai-prod", "--param", "verify_timeout=10s")
	if code == 0 {
		t.Fatalf("the rotation succeeded although the gateway refused the new key:\n%s\n%s", out, errs)
	}
	if !strings.Contains(out+errs, "canary request with the new key failed") {
		t.Errorf("the failure does not say why:\n%s\n%s", out, errs)
	}
	if !oai.KeyWorks(e2eOpenAIOld) {
		t.Error("the old key was revoked although the gateway still needs it")
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","messages":[]}`))
	req.Header.Set("Authorization", "Bearer "+vk.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the gateway stopped serving: %d", resp.StatusCode)
	}
	if status := mustRun(nil, "gateway", "status"); !strings.Contains(status, "FAILED") || !strings.Contains(status, "sk-proj-…WXYZ") {
		t.Errorf("status should show the old key active and the failed canary:\n%s", status)
	}
}

// liveOpenAI is the OpenAI fake holding the app's old and new keys, behind
// a provider endpoint whose chat completions answer for live keys only (the
// fake's state); the rest (models, the Admin API) is the fake's. It counts
// the completions served and refused.
func liveOpenAI(t *testing.T) (oai *llmtest.OpenAI, provider *httptest.Server, served, refused *atomic.Int64) {
	t.Helper()
	oai = llmtest.NewOpenAI(t, nil)
	oai.AddAdminKey(e2eOAIAdmin)
	oai.AddProject("proj_app")
	oai.AddUserKey("proj_app", e2eOpenAIOld, "backend", time.Now().Add(-40*24*time.Hour))
	oai.AddUserKey("proj_app", e2eOpenAINew, "backend-2026-03", time.Now())
	oaiURL, _ := url.Parse(oai.URL)
	rest := httputil.NewSingleHostReverseProxy(oaiURL)
	served, refused = new(atomic.Int64), new(atomic.Int64)
	provider = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			// The fake's paths are the description's, under an API root
			// that (like https://api.openai.com/v1) ends in /v1.
			r.URL.Path = strings.TrimPrefix(r.URL.Path, "/v1")
			rest.ServeHTTP(w, r)
			return
		}
		if !oai.KeyWorks(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
			return
		}
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(provider.Close)
	return oai, provider, served, refused
}
