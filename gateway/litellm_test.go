package gateway

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/store"
)

func TestParseLiteLLM(t *testing.T) {
	f, err := os.Open("testdata/litellm-config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{"OPENAI_API_KEY": "sk-proj-aaaaaaaaaaaaaaaaaaaaaaaaOPEN", "ANTHROPIC_API_KEY": "sk-ant-api03-bbbbbbbbbbbbbbbbbbbbANTH"}
	imp, err := ParseLiteLLM(f, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	imp.Restrict(NewAllowList(nil))
	want := []store.GatewayRoute{
		{Model: "gpt-4o", Provider: "openai", BaseURL: "https://api.openai.com", KeyRef: "openai-api-key", UpstreamModel: "gpt-4o",
			Timeout: 30 * time.Second, Fallbacks: []string{"gpt-4o~2", "claude-sonnet"}},
		{Model: "gpt-4o~2", Provider: "openai", BaseURL: "http://127.0.0.1:8001", KeyRef: "openai-api-key-backup", UpstreamModel: "gpt-4o"},
		{Model: "claude-sonnet", Provider: "anthropic", BaseURL: "https://api.anthropic.com", KeyRef: "anthropic-api-key", UpstreamModel: "claude-sonnet-4-5", Translate: true},
		{Model: "llama", Provider: "openai", BaseURL: "https://api.groq.com/openai", KeyRef: imp.Routes[3].KeyRef, UpstreamModel: "llama-3.1-70b-versatile"},
	}
	if d := cmp.Diff(want, imp.Routes); d != "" {
		t.Fatalf("routes (-want +got):\n%s", d)
	}
	if !strings.HasPrefix(imp.Routes[3].KeyRef, "groq-") {
		t.Errorf("literal key ref %q", imp.Routes[3].KeyRef)
	}
	// Keys: two from the environment, one literal; the unset backup variable is reported missing.
	if len(imp.Keys) != 3 {
		t.Errorf("keys: %d, want 3", len(imp.Keys))
	}
	if got := string(imp.Keys["openai-api-key"].Reveal()); got != env["OPENAI_API_KEY"] {
		t.Errorf("openai key not read from the environment")
	}
	var missing []string
	for _, s := range imp.KeySources {
		if !s.Found {
			missing = append(missing, s.Ref)
		}
	}
	if d := cmp.Diff([]string{"openai-api-key-backup"}, missing); d != "" {
		t.Errorf("missing keys (-want +got):\n%s", d)
	}
	unmapped := map[string]bool{}
	for _, u := range imp.Unmapped {
		unmapped[u.Where] = true
	}
	for _, w := range []string{
		"model_list[4] (azure-gpt)", "route local", "model_list[2] (claude-sonnet).litellm_params.rpm",
		"router_settings.fallbacks.claude-sonnet", "router_settings.routing_strategy", "litellm_settings.drop_params", "general_settings.master_key",
	} {
		if !unmapped[w] {
			t.Errorf("not reported as unmapped: %s (got %v)", w, imp.Unmapped)
		}
	}
	if len(imp.Warnings) != 2 {
		t.Errorf("warnings: %q", imp.Warnings)
	}
	// The report never carries a key.
	b, _ := json.Marshal(imp)
	for _, v := range []string{env["OPENAI_API_KEY"], env["ANTHROPIC_API_KEY"], "gsk_literalliteralliteral0123", "sk-1234"} {
		if bytes.Contains(b, []byte(v)) {
			t.Errorf("report contains a secret: %s", b)
		}
	}
	// With the internal host allowed, the local route is kept.
	f.Seek(0, 0)
	imp, _ = ParseLiteLLM(f, func(k string) string { return env[k] })
	imp.Restrict(NewAllowList([]string{"models.internal.example"}))
	if len(imp.Routes) != 5 {
		t.Errorf("with --allow-host: %d routes, want 5", len(imp.Routes))
	}
}

func TestParseLiteLLMErrors(t *testing.T) {
	for name, tc := range map[string]struct{ in, want string }{
		"empty":      {"", "empty"},
		"not yaml":   {"model_list: [", "litellm config"},
		"no models":  {"general_settings: {}\n", "no model_list"},
		"wrong type": {"model_list: 3\n", "litellm config"},
		"huge":       {"model_list:\n" + strings.Repeat("#", MaxLiteLLMConfig), "larger than"},
		"aliases":    {"a: &a [" + strings.Repeat("x,", 100) + "x]\nb: &b [" + strings.Repeat("*a,", 100) + "*a]\nc: &c [" + strings.Repeat("*b,", 100) + "*b]\nd: &d [" + strings.Repeat("*c,", 100) + "*c]\nmodel_list: [{model_name: [*d]}]\n", "litellm config"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseLiteLLM(strings.NewReader(tc.in), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseLiteLLM(f *testing.F) {
	seed, _ := os.ReadFile("testdata/litellm-config.yaml")
	f.Add(seed)
	f.Add([]byte("model_list:\n - model_name: x\n   litellm_params: {model: 'anthropic/', api_key: 'os.environ/'}\n"))
	f.Add([]byte("model_list: [{model_name: a, litellm_params: {model: a, api_key: k, timeout: '1e9'}}]\nrouter_settings: {fallbacks: [{a: [a, 3]}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		imp, err := ParseLiteLLM(bytes.NewReader(b), func(string) string { return "sk-test-value-1234567890" })
		if err != nil {
			return
		}
		imp.Restrict(NewAllowList(nil))
		names := map[string]bool{}
		for _, r := range imp.Routes {
			if err := NewAllowList(nil).ValidateRoute(r); err != nil {
				t.Fatalf("kept a route the allow-list refuses: %v", err)
			}
			names[r.Model] = true
		}
		for _, r := range imp.Routes {
			for _, fb := range r.Fallbacks {
				if !names[fb] {
					t.Fatalf("route %s falls back to missing %s", r.Model, fb)
				}
			}
			if _, ok := imp.Keys[r.KeyRef]; !ok && r.KeyRef == "" {
				t.Fatalf("route %s without a key reference", r.Model)
			}
		}
		if out, err := json.Marshal(imp); err != nil || bytes.Contains(out, []byte("sk-test-value-1234567890")) {
			t.Fatalf("report: %v %s", err, out)
		}
	})
}
