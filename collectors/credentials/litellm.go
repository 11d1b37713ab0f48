package credentials

import (
	"strconv"
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// modelProviders type an api_key by the provider prefix of its model
// ("anthropic/claude-…") when the key's format says nothing.
var modelProviders = map[string]string{
	"openai": KindOpenAIAPIKey, "text-completion-openai": KindOpenAIAPIKey,
	"anthropic": KindAnthropicAPIKey, "azure": KindAzureOpenAIKey, "azure_ai": KindAzureOpenAIKey,
	"groq": KindGroqAPIKey, "mistral": KindMistralAPIKey, "codestral": KindMistralAPIKey,
	"cohere": KindCohereAPIKey, "cohere_chat": KindCohereAPIKey, "openrouter": KindOpenRouterAPIKey,
	"gemini": KindGoogleAPIKey, "huggingface": KindHuggingFaceToken,
}

// parseLiteLLM reads a LiteLLM proxy config.yaml: general_settings.master_key,
// each model_list[i].litellm_params secret (api_key typed by its format, then
// by the model's provider; aws_secret_access_key and the like by name),
// database URLs and other secrets in general_settings, litellm_settings and
// router_settings, and environment_variables. "os.environ/VAR" values name a
// variable, not a secret, and are skipped.
func parseLiteLLM(r *results, data []byte) {
	root := parseYAML(data)
	if root == nil {
		return
	}
	gs := get(root, "general_settings")
	if mk := str(get(gs, "master_key")); mk != "" && !isPlaceholder(mk) && !isReference(mk) {
		r.add(Found{Kind: KindLiteLLMMasterKey, Detail: lineDetail(get(gs, "master_key"), "general_settings.master_key")}, mk)
	}
	for i, m := range items(get(root, "model_list")) {
		if r.full() {
			return
		}
		name := str(get(m, "model_name"))
		params := get(m, "litellm_params")
		model := str(get(params, "model"))
		at := "model_list[" + strconv.Itoa(i) + "] " + name + " "
		keyID := str(get(params, "aws_access_key_id"))
		eachPair(params, func(k string, vn *yamlNode) bool {
			v, ok := scalar(vn)
			if !ok || v == "" || isPlaceholder(v) || isReference(v) {
				return true
			}
			tmpl := Found{Detail: at + k}
			switch k {
			case "api_key":
				kind, ok := tokenKind(v)
				if !ok {
					kind = KindGenericSecret
					if p, _, found := strings.Cut(model, "/"); found {
						if pk, known := modelProviders[p]; known {
							kind = pk
						}
					}
				}
				return addValue(r, kind, v, tmpl)
			case "aws_secret_access_key":
				if keyID != "" && !isReference(keyID) {
					tmpl.Hint = redact.Hint(keyID)
					r.claim(keyID)
				}
				return addValue(r, KindAWSAccessKey, v, tmpl)
			case "aws_access_key_id":
				return true // the hint of the secret above
			}
			kind, ok := KindForEnv(k, v)
			if !ok {
				return true
			}
			return addValue(r, kind, v, tmpl)
		})
	}
	for _, sect := range [...]string{"general_settings", "litellm_settings", "router_settings"} {
		settingsSecrets(r, get(root, sect), sect, 0)
	}
	e := &envEmitter{r: r, prefix: "environment_variables."}
	eachPair(get(root, "environment_variables"), func(k string, vn *yamlNode) bool {
		v, ok := scalar(vn)
		if !ok {
			return true
		}
		return e.add(envVar{name: k, value: v, line: lineOf(vn)})
	})
	e.flush()
}

// settingsSecrets types the scalar settings of a section (two levels deep)
// by their names, as environment variables are: database_url with a
// password, redis_password, slack_webhook_url ...
func settingsSecrets(r *results, m *yamlNode, at string, depth int) {
	eachPair(m, func(k string, vn *yamlNode) bool {
		if at == "general_settings" && k == "master_key" {
			return true
		}
		if v, ok := scalar(vn); ok {
			if kind, ok := KindForEnv(k, v); ok {
				return addValue(r, kind, v, Found{Detail: lineDetail(vn, at+"."+k)})
			}
			return true
		}
		if depth < 1 {
			settingsSecrets(r, vn, at+"."+k, depth+1)
		}
		return !r.full()
	})
}

// lineDetail is "line N: what", or what when the line is unknown.
func lineDetail(n *yamlNode, what string) string {
	if l := lineOf(n); l > 0 {
		return "line " + strconv.Itoa(l) + ": " + what
	}
	return what
}
