package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/gateway/gatewaytest"
	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

const (
	openaiKey    = "sk-proj-UPSTREAMopenaiKEY0123456789abcdefghij"
	anthropicKey = "sk-ant-api03-UPSTREAManthropicKEY0123456789abcdefghijklmnopqrstuvwxyz"
)

type env struct {
	t      testing.TB
	st     *store.Store
	ks     *keystore.Store
	srv    *Server
	http   *httptest.Server
	oa, an *gatewaytest.Upstream
	vkey   string // may use every route
	cancel context.CancelFunc
}

func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ks, err := keystore.Open(filepath.Join(dir, "ks.age"), filepath.Join(dir, "ks.id"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, ks: ks, oa: gatewaytest.New(t, openaiKey), an: gatewaytest.New(t, anthropicKey)}
	if err := ks.Put(ctx, "openai", redact.NewSecretString(openaiKey)); err != nil {
		t.Fatal(err)
	}
	if err := ks.Put(ctx, "anthropic", redact.NewSecretString(anthropicKey)); err != nil {
		t.Fatal(err)
	}
	backup := gatewaytest.New(t, openaiKey)
	routes := []store.GatewayRoute{
		{Model: "gpt-4o", Provider: "openai", BaseURL: e.oa.URL, KeyRef: "openai", Fallbacks: []string{"gpt-4o-backup"}},
		{Model: "gpt-4o-backup", Provider: "openai", BaseURL: backup.URL, KeyRef: "openai"},
		{Model: "text-embedding-3-small", Provider: "openai", BaseURL: e.oa.URL, KeyRef: "openai"},
		{Model: "claude-sonnet", Provider: "anthropic", BaseURL: e.an.URL, KeyRef: "anthropic", UpstreamModel: "claude-sonnet-4-5"},
		{Model: "claude-via-openai", Provider: "anthropic", BaseURL: e.an.URL, KeyRef: "anthropic", Translate: true, UpstreamModel: "claude-sonnet-4-5"},
		{Model: "evil", Provider: "openai", BaseURL: "https://exfil.example.com", KeyRef: "openai"},
	}
	var key string
	err = st.Update(ctx, func(tx *store.Tx) error {
		for _, r := range routes {
			if err := tx.PutGatewayRoute(ctx, r); err != nil {
				return err
			}
		}
		k, id, hash, err := NewVirtualKey()
		if err != nil {
			return err
		}
		key = k
		if err := tx.CreateGatewayKey(ctx, store.GatewayKey{ID: id, Hash: hash, Hint: keyHint(k)}); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.vkey = key
	o := Options{Store: st, Keys: ks, Poll: 50 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	rctx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	go srv.Run(rctx)
	t.Cleanup(cancel)
	e.http = httptest.NewServer(srv)
	t.Cleanup(e.http.Close)
	return e
}

func (e *env) key(models []string, budget int64, rpm int) string {
	e.t.Helper()
	ctx := context.Background()
	var key string
	err := e.st.Update(ctx, func(tx *store.Tx) error {
		k, id, hash, err := NewVirtualKey()
		if err != nil {
			return err
		}
		key = k
		return tx.CreateGatewayKey(ctx, store.GatewayKey{ID: id, Hash: hash, Hint: keyHint(k), Models: models, BudgetTokens: budget, RPM: rpm})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.srv.reload(ctx); err != nil {
		e.t.Fatal(err)
	}
	return key
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(method, path, key string, body string, hdr map[string]string) reply {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

const chat = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`

func TestPassThroughAndUsageAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "/v1/chat/completions", e.vkey, chat, nil)
	if r.status != 200 || !strings.Contains(r.body, "hello from the fake") {
		t.Fatalf("chat: %d %s", r.status, r.body)
	}
	got := e.oa.Requests()
	last := got[len(got)-1]
	if last.Auth != "Bearer "+openaiKey {
		t.Errorf("upstream saw Authorization %q, want the provider key", redact.Hint(last.Auth))
	}
	r = e.do("POST", "/v1/embeddings", e.vkey, `{"model":"text-embedding-3-small","input":"x"}`, nil)
	if r.status != 200 || !strings.Contains(r.body, `"embedding"`) {
		t.Fatalf("embeddings: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/v1/models", e.vkey, "", nil)
	if r.status != 200 || !strings.Contains(r.body, `"claude-sonnet"`) {
		t.Fatalf("models: %d %s", r.status, r.body)
	}
	e.cancel()
	time.Sleep(100 * time.Millisecond)
	e.srv.audit.flush(context.Background())
	evs, _ := e.st.AuditEvents(context.Background(), 0, 0)
	var req map[string]any
	for _, ev := range evs {
		if ev.Kind == "gateway.requests" {
			var batch struct {
				Count    int              `json:"count"`
				Requests []map[string]any `json:"requests"`
			}
			_ = json.Unmarshal(ev.Data, &batch)
			if batch.Count != len(batch.Requests) || batch.Count == 0 {
				t.Errorf("batch event %s: count %d, %d requests", ev.Subject, batch.Count, len(batch.Requests))
			}
			req = batch.Requests[0]
			break
		}
	}
	if req["route"] != "gpt-4o" || req["prompt_tokens"] != float64(5) || req["completion_tokens"] != float64(4) || req["body_sha256"] == "" || req["body"] != nil {
		t.Errorf("audited request %v", req)
	}
	for _, ev := range evs {
		if strings.Contains(string(ev.Data), "hi\"}]") || strings.Contains(string(ev.Data), openaiKey) {
			t.Error("content or the provider key reached the audit log")
		}
	}
}

func TestStreamingPassesThroughEventByEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.http.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+e.vkey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			n++
		}
	}
	if n != 24+2 {
		t.Errorf("%d events, want 26", n)
	}
}

func TestAnthropicAndTranslation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "/v1/messages", "", `{"model":"claude-sonnet","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"x-api-key": e.vkey, "anthropic-version": "2023-06-01"})
	if r.status != 200 || !strings.Contains(r.body, `"type":"message"`) {
		t.Fatalf("messages: %d %s", r.status, r.body)
	}
	got := e.an.Requests()
	last := got[len(got)-1]
	if last.APIKey != anthropicKey || last.Body["model"] != "claude-sonnet-4-5" {
		t.Errorf("upstream saw key %s model %v", redact.Hint(last.APIKey), last.Body["model"])
	}
	// OpenAI format in, Anthropic upstream, OpenAI format out.
	r = e.do("POST", "/v1/chat/completions", e.vkey, `{"model":"claude-via-openai","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"stop":"END"}`, nil)
	if r.status != 200 || !strings.Contains(r.body, `"object":"chat.completion"`) || !strings.Contains(r.body, `"finish_reason":"stop"`) || !strings.Contains(r.body, `"total_tokens":9`) {
		t.Fatalf("translated: %d %s", r.status, r.body)
	}
	got = e.an.Requests()
	last = got[len(got)-1]
	if last.Path != "/v1/messages" || last.Body["system"] != "be brief" || last.Body["max_tokens"] != float64(1024) {
		t.Errorf("translated upstream request %+v", last)
	}
	r = e.do("POST", "/v1/chat/completions", e.vkey, `{"model":"claude-via-openai","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if r.status != 200 || strings.Count(r.body, "chat.completion.chunk") != 24+2 || !strings.HasSuffix(strings.TrimSpace(r.body), "data: [DONE]") {
		t.Errorf("translated stream: %d\n%s", r.status, r.body)
	}
}

func TestFallbackOnUpstreamFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.oa.FailNext(503)
	r := e.do("POST", "/v1/chat/completions", e.vkey, chat, nil)
	if r.status != 200 {
		t.Fatalf("with a fallback route: %d %s", r.status, r.body)
	}
	e.oa.FailNext(429)
	r = e.do("POST", "/v1/embeddings", e.vkey, `{"model":"text-embedding-3-small","input":"x"}`, nil)
	if r.status != 429 {
		t.Errorf("no fallback configured: %d, want the upstream's 429", r.status)
	}
}

func TestSecurity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	scoped := e.key([]string{"claude-sonnet"}, 0, 0)
	tiny := e.key(nil, 5, 0)
	slow := e.key(nil, 0, 2)
	cases := []struct {
		name   string
		key    string
		path   string
		body   string
		hdr    map[string]string
		status int
	}{
		{"no key", "", "/v1/chat/completions", chat, nil, 401},
		{"wrong key", "tqv-NOTAKEY0000000000000000000000000000000000", "/v1/chat/completions", chat, nil, 401},
		{"the provider key itself", openaiKey, "/v1/chat/completions", chat, nil, 401},
		{"other route's model", scoped, "/v1/chat/completions", chat, nil, 403},
		{"oversize body", e.vkey, "/v1/chat/completions", `{"model":"gpt-4o","x":"` + strings.Repeat("A", 5<<20) + `"}`, nil, 413},
		{"upstream not on the allow-list", e.vkey, "/v1/chat/completions", `{"model":"evil","messages":[]}`, nil, 404},
		{"unknown endpoint", e.vkey, "/v1/admin", "{}", nil, 404},
		{"not JSON", e.vkey, "/v1/chat/completions", "nope", nil, 400},
	}
	for _, tc := range cases {
		if r := e.do("POST", tc.path, tc.key, tc.body, tc.hdr); r.status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.status)
		}
	}
	// Budget: the first call spends 9 tokens of 5, the next is refused.
	if r := e.do("POST", "/v1/chat/completions", tiny, chat, nil); r.status != 200 {
		t.Fatalf("first call on a small budget: %d", r.status)
	}
	r := e.do("POST", "/v1/chat/completions", tiny, chat, nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("over budget: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Rate limit of 2 per minute.
	for i := 0; i < 2; i++ {
		if r := e.do("POST", "/v1/chat/completions", slow, chat, nil); r.status != 200 {
			t.Fatalf("call %d within the rate limit: %d", i, r.status)
		}
	}
	r = e.do("POST", "/v1/chat/completions", slow, chat, nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Errorf("over the rate limit: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	// Header smuggling: the client's Authorization, cookies and forwarding
	// headers never reach the provider; only the gateway's key does.
	e.do("POST", "/v1/messages", "", `{"model":"claude-sonnet","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`, map[string]string{
		"x-api-key": e.vkey, "Authorization": "Bearer smuggled-token", "Cookie": "session=steal", "X-Forwarded-For": "6.6.6.6"})
	got := e.an.Requests()
	last := got[len(got)-1]
	if last.Auth != "" || last.Cookie != "" || last.Forwarded != "" || last.APIKey != anthropicKey {
		t.Errorf("headers reached the upstream: %+v", last)
	}
	for _, u := range append(e.oa.Requests(), got...) {
		if strings.Contains(u.Auth+u.APIKey, "tqv-") {
			t.Error("a virtual key reached an upstream")
		}
	}
	if err := NewAllowList(nil).ValidateRoute(store.GatewayRoute{Model: "m", Provider: "openai", BaseURL: "http://api.openai.com", KeyRef: "k"}); err == nil {
		t.Error("plain http to a public host was accepted")
	}
}

// TestVerifiedReroutingUnderLoad: while requests stream through a route,
// the provider key is replaced in the keystore; the gateway switches only
// after its canary passes, no request fails, and a bad key is refused.
func TestVerifiedReroutingUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	const newKey = "sk-proj-ROTATEDopenaiKEY0123456789abcdefghijkl"
	var stop atomic.Bool
	var total, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest("POST", e.http.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("Authorization", "Bearer "+e.vkey)
				resp, err := http.DefaultClient.Do(req)
				total.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(b, []byte("[DONE]")) {
					failed.Add(1)
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	// A bad key first: the canary fails, the route keeps the working key.
	if err := e.ks.Put(ctx, "openai", redact.NewSecretString("sk-proj-BADkey0123456789abcdefghijklmnopqrst")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { v := e.route("gpt-4o").lastVerify.Load(); return v != nil && !v.OK })
	if c := e.route("gpt-4o").cred.Load(); c.fp != redact.Fingerprint([]byte(openaiKey)) {
		t.Fatal("the route moved to a key that failed its canary")
	}
	// The provider issues the rotated key; the playbook delivers it.
	e.oa.Accept(newKey)
	if err := e.ks.Put(ctx, "openai", redact.NewSecretString(newKey)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.route("gpt-4o").cred.Load().fp == redact.Fingerprint([]byte(newKey)) })
	time.Sleep(200 * time.Millisecond)
	e.oa.Refuse(openaiKey) // the old key is revoked at the provider
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 || total.Load() < 20 {
		t.Errorf("%d of %d requests failed during the rotation", failed.Load(), total.Load())
	}
	e.cancel()
	time.Sleep(100 * time.Millisecond)
	e.srv.audit.flush(ctx)
	evs, _ := e.st.AuditEvents(ctx, 0, 0)
	kinds := map[string]int{}
	for _, ev := range evs {
		kinds[ev.Kind]++
		if strings.Contains(string(ev.Data), newKey) || strings.Contains(string(ev.Data), openaiKey) {
			t.Error("a provider key reached the audit log")
		}
	}
	if kinds["gateway.canary_failed"] < 1 || kinds["gateway.route_switched"] < 1 {
		t.Errorf("audit kinds %v", kinds)
	}
	fs, _ := e.st.Findings(ctx, "default")
	if len(fs) == 0 || fs[0].Rule != "canary-failed" {
		t.Errorf("no finding for the failed canary: %+v", fs)
	}
}

func (e *env) route(model string) *route { return e.srv.cur.Load().routes[model] }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }

// TestRequestEventCanonical: the request event is hashed as encoded, so
// its encoding must be what store.CanonicalJSON makes of it, whatever the
// strings hold.
func TestRequestEventCanonical(t *testing.T) {
	for _, ev := range []requestEvent{
		{Model: "gpt-4o", Status: 200, BodySHA256: "ab", Started: "2026-04-02T09:00:00.123Z", PromptTokens: 5, CompletionTokens: 7},
		{Model: "<script>&\u2028\"\\\x1b", KeyID: "vk-1", Note: "fallback from a&b", Route: "r", Provider: "openai", Body: "{\"x\":\"<>\"}", Stream: true, LatencyMS: -1, Status: 502},
	} {
		raw := ev.canonical()
		raw = requestsEvent([]json.RawMessage{raw, raw})
		canon, err := store.CanonicalJSON(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, canon) {
			t.Errorf("not canonical:\n got %s\nwant %s", raw, canon)
		}
	}
}
