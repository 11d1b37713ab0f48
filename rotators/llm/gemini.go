package llm

import (
	"bytes"
	"net/http"
)

// Google Gemini API keys (AIza...). Keys are created and deleted by a human
// in Google AI Studio or the Cloud console (APIs & Services > Credentials);
// nothing here creates or deletes one. Verification lists models
// (GET /v1beta/models, documented at ai.google.dev/api/models#method:-models.list)
// with the key in the x-goog-api-key header rather than ?key=, so that it
// cannot land in a proxy log or a Go URL error.
var gemini = func() *service {
	s := &service{name: "gemini", title: "Google Gemini", base: "https://generativelanguage.googleapis.com",
		console: "Google AI Studio > API keys, or Cloud console > APIs & Services > Credentials"}
	s.check = simpleCheck(s, "gemini list models", http.MethodGet, "/v1beta/models?pageSize=1",
		func(r *http.Request, key string) { r.Header.Set("x-goog-api-key", key) },
		func(status int, body []byte) bool {
			// An invalid key is a 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
			return status == http.StatusBadRequest && (bytes.Contains(body, []byte("API_KEY_INVALID")) || bytes.Contains(body, []byte("API key not valid")))
		})
	return s
}()
