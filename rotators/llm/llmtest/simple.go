package llmtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Simple fakes the key-check endpoint of a provider whose keys only a human
// creates, as each provider documents it: the path, the header the key goes
// in, and how a refused key is answered.
type Simple struct {
	URL      string
	Provider string // gemini, azure, mistral, cohere, groq, openrouter, litellm

	mu    sync.Mutex
	valid map[string]bool
	calls []string
	// VirtualKeys are LiteLLM virtual keys: hashed token -> created time.
	VirtualKeys map[string]time.Time
}

// NewSimple starts a fake for provider.
func NewSimple(t testing.TB, provider string) *Simple {
	f := &Simple{Provider: provider, valid: map[string]bool{}, VirtualKeys: map[string]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Allow makes key valid; Revoke makes it refused.
func (f *Simple) Allow(key string)  { f.mu.Lock(); f.valid[key] = true; f.mu.Unlock() }
func (f *Simple) Revoke(key string) { f.mu.Lock(); delete(f.valid, key); f.mu.Unlock() }

// KeyWorks reports whether key is accepted.
func (f *Simple) KeyWorks(key string) bool { f.mu.Lock(); defer f.mu.Unlock(); return f.valid[key] }

// Calls lists "METHOD path" of every request.
func (f *Simple) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *Simple) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	bearer := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	type route struct {
		method, path, key string
	}
	var want route
	switch f.Provider {
	case "gemini":
		want = route{"GET", "/v1beta/models", r.Header.Get("x-goog-api-key")}
	case "azure":
		want = route{"GET", "/openai/models", r.Header.Get("api-key")}
		if r.URL.Query().Get("api-version") == "" {
			writeJSON(w, 404, map[string]any{"error": map[string]any{"code": "404", "message": "Resource not found"}})
			return
		}
	case "mistral":
		want = route{"GET", "/v1/models", bearer}
	case "cohere":
		want = route{"POST", "/v1/check-api-key", bearer}
	case "groq":
		want = route{"GET", "/openai/v1/models", bearer}
	case "openrouter":
		want = route{"GET", "/api/v1/key", bearer}
	case "litellm":
		want = route{"GET", "/key/list", bearer}
	}
	if r.Method != want.method || r.URL.Path != want.path {
		writeJSON(w, 404, map[string]any{"error": map[string]any{"message": "not found: " + r.Method + " " + r.URL.Path}})
		return
	}
	ok := want.key != "" && f.valid[want.key]
	switch f.Provider {
	case "gemini":
		if !ok {
			writeJSON(w, 400, map[string]any{"error": map[string]any{"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
				"details": []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}}}})
			return
		}
		writeJSON(w, 200, map[string]any{"models": []any{map[string]any{"name": "models/gemini-2.5-flash"}}})
	case "cohere":
		if want.key == "" {
			writeJSON(w, 401, map[string]any{"message": "no api key supplied"})
			return
		}
		writeJSON(w, 200, map[string]any{"valid": ok, "organization_id": "org-123", "owner_id": "user-1"})
	case "litellm":
		if !ok {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"message": "Authentication Error, Invalid proxy server token passed.", "type": "auth_error", "code": "401"}})
			return
		}
		var keys []any
		for tok, c := range f.VirtualKeys {
			keys = append(keys, map[string]any{"token": tok, "key_name": "sk-...." + tok[len(tok)-4:], "key_alias": "alias-" + tok[:4], "created_at": c.UTC().Format("2006-01-02T15:04:05.000000")})
		}
		writeJSON(w, 200, map[string]any{"keys": keys, "total_count": len(keys), "current_page": 1, "total_pages": 1})
	default:
		if !ok {
			writeJSON(w, 401, map[string]any{"error": map[string]any{"message": "Invalid API Key", "code": 401}})
			return
		}
		writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{"id": "model-1", "object": "model"}}})
	}
}
