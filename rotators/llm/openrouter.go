package llm

import "net/http"

// OpenRouter API keys (sk-or-v1-...): created and deleted by a human at
// openrouter.ai/settings/keys. Verification: GET /api/v1/key ("Get current
// API key", openrouter.ai/docs/api/api-reference/api-keys/get-current-key),
// which answers 401 for a deleted or disabled key. OpenRouter also has a
// management-key API for creating and deleting keys; it is not used here.
var openrouter = func() *service {
	s := &service{name: "openrouter", title: "OpenRouter", base: "https://openrouter.ai",
		console: "openrouter.ai/settings/keys"}
	s.check = simpleCheck(s, "openrouter current key", http.MethodGet, "/api/v1/key", bearer, nil)
	return s
}()
