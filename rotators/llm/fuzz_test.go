package llm

import (
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// FuzzProviderAnswers feeds arbitrary bytes to every parser of a provider's
// answer (untrusted input): none may panic, and nothing they keep may hold
// a control character.
func FuzzProviderAnswers(f *testing.F) {
	for _, s := range []string{
		`{"object":"list","data":[{"id":"key_1","redacted_value":"sk-abc...def","owner":{"type":"user"}}],"has_more":true,"last_id":"key_1"}`,
		`{"object":"page","data":[{"start_time":1,"end_time":2,"results":[{"num_model_requests":3,"api_key_id":"k","model":"m"}]}],"has_more":false,"next_page":null}`,
		`{"id":"svc_acct_1","api_key":{"value":"sk-x","id":"key_2"}}`,
		`{"data":[{"id":"apikey_1","partial_key_hint":"sk-ant-api03-R2D...igAA","status":"active"}],"has_more":false,"last_id":null}`,
		`{"data":[{"starting_at":"2026-03-01T00:00:00Z","results":[{"api_key_id":"a","uncached_input_tokens":5,"cache_creation":{"ephemeral_1h_input_tokens":1}}]}]}`,
		`{"valid":true,"organization_id":"org\u0007x"}`,
		`{"keys":["abc",{"token":"t","created_at":"2026-03-01T00:00:00.000000"}],"total_pages":2}`,
		`{"error":{"message":"Incorrect API key provided: sk-abc***wxyz"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		clean := func(what, s string) {
			if strings.ContainsAny(s, "\x00\x07\x1b\n\r") {
				t.Fatalf("%s kept a control character: %q", what, s)
			}
		}
		if l, err := parseOpenAIList(b); err == nil {
			for _, d := range l.Data {
				if k, err := parseOpenAIKey(d); err == nil {
					clean("key name", k.Name)
					clean("redacted value", k.RedactedValue)
					hintMatch(k.RedactedValue, redact.Secret{}, "sk-proj-…WXYZ")
				}
			}
		}
		if bs, _, err := parseOpenAIUsage(b, "k"); err == nil {
			for _, bk := range bs {
				if bk.Requests < 0 || bk.Input < 0 || bk.Output < 0 {
					t.Fatal("negative usage")
				}
			}
		}
		_, _, _, _ = parseOpenAIServiceAccountCreated(b)
		if ks, _, _, err := parseAnthropicKeys(b); err == nil {
			for _, k := range ks {
				clean("anthropic hint", k.Hint)
			}
		}
		_, _, _ = parseAnthropicUsage(b, "k")
		if c, err := parseCohereCheck(b); err == nil {
			clean("cohere org", c.OrganizationID)
		}
		_, _, _ = parseLiteLLMKeys(b)
		clean("error message", errorMessage(b))
	})
}

func TestScrubRemovesKeys(t *testing.T) {
	t.Parallel()
	sec := redact.NewSecretString("sk-proj-PLANTEDsecret0123456789abcdefWXYZ")
	cases := []string{
		`Get "https://generativelanguage.googleapis.com/v1beta/models?key=AIzaSyPLANTED0123456789abcdefghij": dial tcp`,
		"Incorrect API key provided: sk-proj-PLANTEDsecret0123456789abcdefWXYZ.",
		"gsk_PLANTEDgroqKEY0123456789abcdef refused",
	}
	for _, c := range cases {
		got := scrub(c, sec)
		if strings.Contains(got, "PLANTED") {
			t.Errorf("scrub(%q) = %q", c, got)
		}
	}
}
