package llm

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/rotators/rotatorstest"
)

// TestConformance runs the shared rotator suite on every LLM action, each
// in the state its step finds at run time, with planted keys.
func TestConformance(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	var planted []string
	plant := func(prefix string) string {
		i := n.Add(1)
		v := fmt.Sprintf("%sPLANTED%04dsecretVALUE0123456789abcdef%04d", prefix, i, i)
		planted = append(planted, v)
		return v
	}
	admin := plant("sk-admin-")
	antAdm := plant("sk-ant-admin01-")
	oai := llmtest.NewOpenAI(t, nil)
	oai.AddAdminKey(admin)
	oai.AddProject("proj_app")
	ant := llmtest.NewAnthropic(t)
	ant.AddAdminKey(antAdm)
	simple := map[string]*llmtest.Simple{}
	for _, s := range []*service{gemini, azure, mistral, cohere, groq, openrouter, litellm} {
		simple[s.name] = llmtest.NewSimple(t, s.name)
	}
	// Pre-plant enough keys for every case (the fakes are shared).
	type keys struct{ old, new, id string }
	mk := func(provider string) keys {
		switch provider {
		case "openai":
			k := keys{old: plant("sk-proj-"), new: plant("sk-proj-")}
			k.id = oai.AddUserKey("proj_app", k.old, "old", time.Now().Add(-time.Hour))
			oai.AddUserKey("proj_app", k.new, "new", time.Now())
			return k
		case "anthropic":
			k := keys{old: plant("sk-ant-api03-"), new: plant("sk-ant-api03-")}
			k.id = ant.AddKey(k.old, "old", time.Now().Add(-time.Hour))
			ant.AddKey(k.new, "new", time.Now())
			return k
		default:
			k := keys{old: plant("sk-"), new: plant("sk-")}
			simple[provider].Allow(k.old)
			simple[provider].Allow(k.new)
			return k
		}
	}
	p := New(Options{
		Getenv:   func(k string) string { return map[string]string{openaiAdminEnv: admin, anthropicAdminEnv: antAdm}[k] },
		BaseURLs: map[string]string{"openai": oai.URL, "anthropic": ant.URL},
		Poll:     time.Millisecond,
	})
	for name, f := range simple {
		p.o.BaseURLs[name] = f.URL
	}
	actions := p.Actions()
	providerOf := func(action string) string {
		parts := strings.Split(action, ".")
		if parts[1] == "deliver" {
			return "openai"
		}
		return parts[1]
	}
	rcFor := func(action string) func(t *testing.T) *rotators.RunContext {
		return func(t *testing.T) *rotators.RunContext {
			prov := providerOf(action)
			k := mk(prov)
			rc := testRC(t, "x", k.old)
			rc.Params["verify_timeout"] = "20ms"
			rc.Inputs.Put(inNewSecret, redact.NewSecretString(k.new))
			newFP := redact.Fingerprint([]byte(k.new))
			rc.Vars = map[string]any{"admin": true, "key_id": k.id, "project_id": "proj_app", "owner_type": "user",
				"verified": true, "new_fp": newFP, "new_hint": redact.Hint(k.new), "delivered_fp": newFP, "old_works": true}
			if prov == "azure" {
				rc.Params["api_base"] = simple["azure"].URL
			}
			if strings.HasSuffix(action, "verify_old_revoked") {
				switch prov {
				case "openai":
					oai.RemoveKey(k.old)
				case "anthropic":
					ant.SetStatus(k.id, "inactive")
				default:
					simple[prov].Revoke(k.old)
				}
			}
			if action == "llm.litellm.verify_new" || action == "llm.litellm.deliver" {
				delete(rc.Vars, "verified")
			}
			return rc
		}
	}
	var cases []rotatorstest.Case
	for name := range actions {
		c := rotatorstest.Case{Action: name, RC: rcFor(name)}
		switch {
		case strings.HasSuffix(name, "_manual"), name == "llm.litellm.generate":
			c.Pure = true
		case name == "llm.openai.delete_old", name == "llm.anthropic.deactivate_old":
			c.Revokes = true
		}
		cases = append(cases, c)
	}
	rotatorstest.Exercise(t, actions, cases, rotatorstest.Options{Secrets: planted})
}
