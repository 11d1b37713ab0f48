// Package gatewaytest is a fake LLM provider for the gateway's tests and
// benchmarks: OpenAI-style and Anthropic-style endpoints, key checks,
// streaming, programmable failures, and a record of what it received.
package gatewaytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Upstream is a fake provider.
type Upstream struct {
	*httptest.Server
	mu       sync.Mutex
	keys     map[string]bool
	fail     []int // statuses to answer with, one per request, before normal service
	Received []Received
	// Chunks is how many content events a streamed answer has (default 24).
	Chunks int
}

// Received is what one request carried that tests check.
type Received struct {
	Path, Auth, APIKey, Cookie, Forwarded string
	Body                                  map[string]any
}

// New starts a fake provider accepting the given keys.
func New(t testing.TB, keys ...string) *Upstream {
	u := &Upstream{keys: map[string]bool{}, Chunks: 24}
	for _, k := range keys {
		u.keys[k] = true
	}
	u.Server = httptest.NewServer(http.HandlerFunc(u.serve))
	if t != nil {
		t.Cleanup(u.Close)
	}
	return u
}

// Accept and Refuse change which keys work (a provider-side rotation).
func (u *Upstream) Accept(k string) { u.mu.Lock(); u.keys[k] = true; u.mu.Unlock() }
func (u *Upstream) Refuse(k string) { u.mu.Lock(); delete(u.keys, k); u.mu.Unlock() }

// FailNext answers the next requests with these statuses.
func (u *Upstream) FailNext(statuses ...int) {
	u.mu.Lock()
	u.fail = append(u.fail, statuses...)
	u.mu.Unlock()
}

// Requests returns what was received so far.
func (u *Upstream) Requests() []Received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Received(nil), u.Received...)
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if k := r.Header.Get("X-Api-Key"); k != "" {
		key = k
	}
	var body map[string]any
	b, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	_ = json.Unmarshal(b, &body)
	u.mu.Lock()
	rec := Received{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), APIKey: r.Header.Get("X-Api-Key"),
		Cookie: r.Header.Get("Cookie"), Forwarded: r.Header.Get("X-Forwarded-For"), Body: body}
	if len(u.Received) < 10000 {
		u.Received = append(u.Received, rec)
	}
	ok := u.keys[key]
	var fail int
	if len(u.fail) > 0 && r.URL.Path != "/v1/models" {
		fail, u.fail = u.fail[0], u.fail[1:]
	}
	chunks := u.Chunks
	u.mu.Unlock()
	anthropic := r.URL.Path == "/v1/messages" || r.Header.Get("X-Api-Key") != ""
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		if anthropic {
			fmt.Fprint(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`)
		} else {
			fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		}
		return
	}
	if fail != 0 {
		w.WriteHeader(fail)
		fmt.Fprintf(w, `{"error":{"message":"injected %d","type":"server_error"}}`, fail)
		return
	}
	model, _ := body["model"].(string)
	stream, _ := body["stream"].(bool)
	switch r.URL.Path {
	case "/v1/models":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"fake-model","object":"model","created":1,"owned_by":"fake"}]}`)
	case "/v1/embeddings":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":%q,"usage":{"prompt_tokens":3,"total_tokens":3}}`, model)
	case "/v1/chat/completions":
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			fl := w.(http.Flusher)
			for i := 0; i < chunks; i++ {
				fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"},\"finish_reason\":null}]}\n\n", model, i)
				fl.Flush()
			}
			fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-fake\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n", model, chunks, chunks+5)
			fmt.Fprint(w, "data: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-fake","object":"chat.completion","created":1,"model":%q,"choices":[{"index":0,"message":{"role":"assistant","content":"hello from the fake"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`, model)
	case "/v1/messages":
		if stream {
			w.Header().Set("Content-Type", "text/event-stream")
			fl := w.(http.Flusher)
			fmt.Fprintf(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_fake\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":%q,\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n", model)
			fmt.Fprint(w, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n")
			for i := 0; i < chunks; i++ {
				fmt.Fprintf(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tok%d \"}}\n\n", i)
				fl.Flush()
			}
			fmt.Fprint(w, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n")
			fmt.Fprintf(w, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%d}}\n\n", chunks)
			fmt.Fprint(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"msg_fake","type":"message","role":"assistant","model":%q,"content":[{"type":"text","text":"hello from the fake"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":4}}`, model)
	default:
		http.NotFound(w, r)
	}
}
