package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// MaxLiteLLMConfig bounds the config file read: a real one is a few KiB.
const MaxLiteLLMConfig = 4 << 20

// LiteLLMImport is what a LiteLLM proxy config.yaml turns into.
type LiteLLMImport struct {
	Routes []store.GatewayRoute `json:"routes"`
	// Keys are the provider keys found (environment or literal), by
	// keystore reference. Never marshalled: the report carries hints.
	Keys map[string]redact.Secret `json:"-"`
	// KeySources say where each reference's key came from.
	KeySources []KeySource `json:"keys"`
	// Unmapped lists what could not be carried over, and why.
	Unmapped []Unmapped `json:"unmapped"`
	// Warnings are things carried over that deserve a look.
	Warnings []string `json:"warnings"`
}

// KeySource reports one keystore reference of an import.
type KeySource struct {
	Ref    string `json:"ref"`
	From   string `json:"from"` // "env:VAR" or "literal in config"
	Found  bool   `json:"found"`
	Hint   string `json:"hint,omitempty"`
	FP     string `json:"fingerprint,omitempty"`
	Routes int    `json:"routes"`
}

// Unmapped is one part of the config the gateway cannot represent.
type Unmapped struct {
	Where string `json:"where"`
	Why   string `json:"why"`
}

// litellm providers the gateway can serve: prefix -> (provider, base URL).
// The gateway speaks the OpenAI and Anthropic wire formats; other
// providers are reachable when they expose an OpenAI-compatible API.
var litellmProviders = map[string]struct{ provider, base string }{
	"openai":     {"openai", "https://api.openai.com"},
	"anthropic":  {"anthropic", "https://api.anthropic.com"},
	"groq":       {"openai", "https://api.groq.com/openai"},
	"mistral":    {"openai", "https://api.mistral.ai"},
	"openrouter": {"openai", "https://openrouter.ai/api"},
}

type litellmConfig struct {
	ModelList []struct {
		ModelName     string         `yaml:"model_name"`
		LiteLLMParams map[string]any `yaml:"litellm_params"`
	} `yaml:"model_list"`
	RouterSettings  map[string]any `yaml:"router_settings"`
	LiteLLMSettings map[string]any `yaml:"litellm_settings"`
	GeneralSettings map[string]any `yaml:"general_settings"`
}

// ParseLiteLLM converts a LiteLLM proxy config. getenv resolves
// os.environ/VAR references (as the LiteLLM process would have); a
// reference whose variable is unset still yields the route, with the key
// reported missing.
func ParseLiteLLM(r io.Reader, getenv func(string) string) (*LiteLLMImport, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxLiteLLMConfig+1))
	if err != nil {
		return nil, fmt.Errorf("read litellm config: %w", err)
	}
	if len(b) > MaxLiteLLMConfig {
		return nil, fmt.Errorf("litellm config: larger than %d bytes; not a LiteLLM proxy config", MaxLiteLLMConfig)
	}
	var cfg litellmConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("litellm config: the file is empty")
		}
		return nil, fmt.Errorf("litellm config: %w", err)
	}
	if len(cfg.ModelList) == 0 {
		return nil, errors.New("litellm config: no model_list entries (is this a LiteLLM proxy config.yaml?)")
	}
	out := &LiteLLMImport{Keys: map[string]redact.Secret{}, Unmapped: []Unmapped{}, Warnings: []string{}}
	sources := map[string]*KeySource{}
	byName := map[string]int{} // model_name -> index in Routes of its first deployment
	extra := map[string][]string{}
	for i, m := range cfg.ModelList {
		where := fmt.Sprintf("model_list[%d] (%s)", i, clip(m.ModelName))
		if strings.TrimSpace(m.ModelName) == "" {
			out.Unmapped = append(out.Unmapped, Unmapped{where, "no model_name"})
			continue
		}
		p := m.LiteLLMParams
		model, _ := p["model"].(string)
		prefix, upstream, ok := strings.Cut(model, "/")
		if !ok {
			upstream, prefix = model, "openai"
			if strings.HasPrefix(model, "claude") {
				prefix = "anthropic"
			}
		}
		if upstream == "" {
			out.Unmapped = append(out.Unmapped, Unmapped{where, "litellm_params.model is missing"})
			continue
		}
		prov, ok := litellmProviders[prefix]
		if !ok {
			out.Unmapped = append(out.Unmapped, Unmapped{where, fmt.Sprintf("provider %q speaks its own API; the gateway serves OpenAI- and Anthropic-format upstreams (point an openai/ route at an OpenAI-compatible endpoint instead)", clip(prefix))})
			continue
		}
		rt := store.GatewayRoute{Model: m.ModelName, Provider: prov.provider, BaseURL: prov.base, UpstreamModel: upstream,
			Translate: prov.provider == "anthropic"}
		if base, _ := p["api_base"].(string); base != "" {
			rt.BaseURL = trimVersion(base)
		}
		if t, ok := seconds(p["timeout"]); ok {
			rt.Timeout = t
		}
		ref, src, err := keyRef(p["api_key"], prefix)
		if err != nil {
			out.Unmapped = append(out.Unmapped, Unmapped{where, err.Error()})
			continue
		}
		rt.KeyRef = ref
		ks := sources[ref]
		if ks == nil {
			ks = &KeySource{Ref: ref, From: src}
			sources[ref] = ks
			var sec redact.Secret
			switch {
			case strings.HasPrefix(src, "env:"):
				if v := strings.TrimSpace(getenv(strings.TrimPrefix(src, "env:"))); v != "" {
					sec = redact.NewSecretString(v)
				}
			default:
				sec = redact.NewSecretString(strings.TrimSpace(p["api_key"].(string)))
				out.Warnings = append(out.Warnings, fmt.Sprintf("%s: api_key is written in the config file; it was imported, and it must be rotated: the file sat on the compromised host", where))
			}
			if !sec.IsZero() {
				out.Keys[ref] = sec
				ks.Found, ks.Hint, ks.FP = true, sec.Hint(), sec.Fingerprint()
			}
		}
		ks.Routes++
		for _, k := range sortedKeys(p) {
			switch k {
			case "model", "api_base", "api_key", "timeout":
			default:
				out.Unmapped = append(out.Unmapped, Unmapped{where + ".litellm_params." + clip(k), "not supported by the gateway; ignored"})
			}
		}
		if first, dup := byName[m.ModelName]; dup {
			// LiteLLM load-balances deployments sharing a name; the gateway
			// fails over to them instead.
			n := len(extra[m.ModelName]) + 2
			rt.Model = fmt.Sprintf("%s~%d", m.ModelName, n)
			extra[m.ModelName] = append(extra[m.ModelName], rt.Model)
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s: another deployment of %s; imported as route %s, a fallback of the first (LiteLLM balanced load across them, the gateway fails over)", where, clip(m.ModelName), rt.Model))
			_ = first
		} else {
			byName[m.ModelName] = len(out.Routes)
		}
		out.Routes = append(out.Routes, rt)
	}
	for name, more := range extra {
		i := byName[name]
		out.Routes[i].Fallbacks = append(out.Routes[i].Fallbacks, more...)
	}
	for _, set := range []struct {
		name string
		m    map[string]any
	}{{"router_settings", cfg.RouterSettings}, {"litellm_settings", cfg.LiteLLMSettings}} {
		for _, k := range sortedKeys(set.m) {
			where := set.name + "." + clip(k)
			switch k {
			case "fallbacks":
				out.fallbacks(where, set.m[k], byName)
			case "num_retries", "timeout", "routing_strategy", "drop_params", "set_verbose", "json_logs":
				out.Unmapped = append(out.Unmapped, Unmapped{where, "the gateway has its own bounded retries and per-route timeouts; ignored"})
			default:
				out.Unmapped = append(out.Unmapped, Unmapped{where, "not supported by the gateway; ignored"})
			}
		}
	}
	for _, k := range sortedKeys(cfg.GeneralSettings) {
		where := "general_settings." + clip(k)
		switch k {
		case "master_key":
			out.Unmapped = append(out.Unmapped, Unmapped{where, "not imported: issue scoped virtual keys with `tourniquet gateway keys create`, and rotate the LiteLLM master key (playbook llm-litellm-master-key)"})
		case "database_url":
			out.Unmapped = append(out.Unmapped, Unmapped{where, "not imported: it holds database credentials that sat on the compromised host; rotate them"})
		default:
			out.Unmapped = append(out.Unmapped, Unmapped{where, "not supported by the gateway; ignored"})
		}
	}
	for _, ref := range sortedKeys(sources) {
		out.KeySources = append(out.KeySources, *sources[ref])
	}
	return out, nil
}

// fallbacks reads [{"model": ["fallback", ...]}, ...].
func (out *LiteLLMImport) fallbacks(where string, v any, byName map[string]int) {
	list, ok := v.([]any)
	if !ok {
		out.Unmapped = append(out.Unmapped, Unmapped{where, "expected a list of {model: [fallbacks]}"})
		return
	}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			out.Unmapped = append(out.Unmapped, Unmapped{where, "expected a list of {model: [fallbacks]}"})
			continue
		}
		for _, from := range sortedKeys(m) {
			i, ok := byName[from]
			if !ok {
				out.Unmapped = append(out.Unmapped, Unmapped{where + "." + clip(from), "no imported route of that name"})
				continue
			}
			targets, _ := m[from].([]any)
			for _, t := range targets {
				to, _ := t.(string)
				if _, ok := byName[to]; !ok || to == from {
					out.Unmapped = append(out.Unmapped, Unmapped{where + "." + clip(from), fmt.Sprintf("fallback %q is not an imported route", clip(to))})
					continue
				}
				out.Routes[i].Fallbacks = append(out.Routes[i].Fallbacks, to)
			}
		}
	}
}

// keyRef names the keystore entry for an api_key value: the environment
// variable's name, or for a literal, the provider and the key's
// fingerprint (so that routes sharing a literal share the entry).
func keyRef(v any, prefix string) (ref, src string, err error) {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", errors.New("litellm_params.api_key is missing (LiteLLM would read the provider's default variable; name it: api_key: os.environ/VAR)")
	}
	if name, ok := strings.CutPrefix(s, "os.environ/"); ok {
		if name == "" || strings.ContainsAny(name, " \t\r\n/\\") || len(name) > 100 {
			return "", "", fmt.Errorf("litellm_params.api_key: %q is not an environment variable reference", clip(s))
		}
		return strings.ToLower(strings.ReplaceAll(name, "_", "-")), "env:" + name, nil
	}
	fp := redact.NewSecretString(s).Fingerprint()
	if i := strings.IndexByte(fp, ':'); i >= 0 {
		fp = fp[i+1:]
	}
	if len(fp) > 12 {
		fp = fp[:12]
	}
	return prefix + "-" + fp, "literal in config", nil
}

// trimVersion turns LiteLLM's api_base (".../v1") into the gateway's base
// URL, to which it appends the request's /v1/... path.
func trimVersion(base string) string {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	return strings.TrimSuffix(base, "/v1")
}

func seconds(v any) (time.Duration, bool) {
	var f float64
	switch t := v.(type) {
	case int:
		f = float64(t)
	case float64:
		f = t
	case string:
		var err error
		if f, err = strconv.ParseFloat(t, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if f <= 0 || f > 3600 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// clip bounds names from the file in messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Restrict drops the routes the allow-list refuses (reporting them) and
// the fallbacks and keys that pointed only at them.
func (out *LiteLLMImport) Restrict(allow AllowList) {
	kept := out.Routes[:0]
	dropped := map[string]bool{}
	for _, r := range out.Routes {
		if err := allow.ValidateRoute(r); err != nil {
			out.Unmapped = append(out.Unmapped, Unmapped{"route " + r.Model, err.Error()})
			dropped[r.Model] = true
			continue
		}
		kept = append(kept, r)
	}
	out.Routes = kept
	used := map[string]int{}
	for i := range out.Routes {
		fb := out.Routes[i].Fallbacks[:0:0]
		for _, f := range out.Routes[i].Fallbacks {
			if !dropped[f] {
				fb = append(fb, f)
			}
		}
		out.Routes[i].Fallbacks = fb
		used[out.Routes[i].KeyRef]++
	}
	ks := out.KeySources[:0]
	for _, s := range out.KeySources {
		if used[s.Ref] == 0 {
			delete(out.Keys, s.Ref)
			continue
		}
		s.Routes = used[s.Ref]
		ks = append(ks, s)
	}
	out.KeySources = ks
}
