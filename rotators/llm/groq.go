package llm

import "net/http"

// Groq API keys (gsk_...): created and deleted by a human in the Groq console
// (console.groq.com/keys). Verification: GET /openai/v1/models with a bearer
// key (Groq's OpenAI-compatible API).
var groq = func() *service {
	s := &service{name: "groq", title: "Groq", base: "https://api.groq.com",
		console: "console.groq.com/keys"}
	s.check = simpleCheck(s, "groq list models", http.MethodGet, "/openai/v1/models", bearer, nil)
	return s
}()
