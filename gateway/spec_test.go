package gateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
)

// validating sends a copy of every request the gateway makes to an
// OpenAI-format upstream to Prism, serving OpenAI's OpenAPI description,
// before passing it on: the gateway must not corrupt what it forwards.
type validating struct {
	prism  *llmtest.Prism
	hosts  map[string]bool
	mu     sync.Mutex
	seen   []string
	errors []string
}

func (v *validating) RoundTrip(r *http.Request) (*http.Response, error) {
	if v.hosts[r.URL.Host] {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		// The description's paths are relative to https://api.openai.com/v1.
		path := strings.TrimPrefix(r.URL.RequestURI(), "/v1")
		err := v.prism.Validate(r.Method, path, r.Header, body)
		v.mu.Lock()
		v.seen = append(v.seen, r.Method+" "+path)
		if err != nil {
			v.errors = append(v.errors, err.Error())
		}
		v.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestUpstreamRequestsMatchOpenAISpec: chat (plain and streamed),
// embeddings and the canary, as the gateway sends them upstream, are valid
// requests by OpenAI's description (Prism answers 4xx otherwise).
func TestUpstreamRequestsMatchOpenAISpec(t *testing.T) {
	prism := llmtest.StartPrism(t)
	v := &validating{prism: prism, hosts: map[string]bool{}}
	e := newEnv(t, func(o *Options) { o.Transport = v })
	for _, u := range []string{e.oa.URL} {
		v.hosts[strings.TrimPrefix(u, "http://")] = true
	}
	// The canary of the first load ran before the hosts were set: replay it.
	rt := e.srv.cur.Load().routes["gpt-4o"]
	if err := e.srv.canary(t.Context(), rt, rt.cred.Load().secret); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"temperature":0.2}`},
		{"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`},
		{"/v1/embeddings", `{"model":"text-embedding-3-small","input":["a","b"]}`},
	} {
		if r := e.do("POST", c.path, e.vkey, c.body, nil); r.status != 200 {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	want := []string{"GET /models", "POST /chat/completions", "POST /chat/completions", "POST /embeddings"}
	if strings.Join(v.seen, ",") != strings.Join(want, ",") {
		t.Errorf("validated %v, want %v", v.seen, want)
	}
	for _, e := range v.errors {
		t.Error(e)
	}
	// A corrupted request is caught: Prism does validate.
	hdr := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-x"}}
	for path, body := range map[string]string{"/embeddings": `{"input":3}`, "/chat/completions": `{"messages":"nope"}`} {
		if err := prism.Validate("POST", path, hdr, []byte(body)); err == nil {
			t.Errorf("Prism accepted an invalid request to %s: it is not validating", path)
		}
	}
}
