package llm

import "net/http"

// Mistral API keys: created and revoked by a human in La Plateforme
// (console.mistral.ai > API keys). Verification: GET /v1/models with a
// bearer key (docs.mistral.ai/api/endpoint/models).
var mistral = func() *service {
	s := &service{name: "mistral", title: "Mistral", base: "https://api.mistral.ai",
		console: "console.mistral.ai > API keys"}
	s.check = simpleCheck(s, "mistral list models", http.MethodGet, "/v1/models", bearer, nil)
	return s
}()
