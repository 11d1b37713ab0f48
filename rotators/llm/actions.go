package llm

import "github.com/tourniquet-ir/tourniquet/rotators"

// Actions returns every LLM action by the name playbooks use. One explicit
// list, no init() registration.
func (p *Provider) Actions() map[string]rotators.Action {
	m := map[string]rotators.Action{
		"llm.deliver": deliverAction{p: p},

		"llm.openai.plan":               openaiPlan{p},
		"llm.openai.usage":              openaiUsage{p},
		"llm.openai.create":             openaiCreate{p},
		"llm.openai.verify_new":         verifyNewAction{p, openai, "create"},
		"llm.openai.delete_old":         openaiDeleteOld{p},
		"llm.openai.verify_old_revoked": verifyOldRevokedAction{p, openai},

		"llm.anthropic.plan":               anthropicPlan{p},
		"llm.anthropic.usage":              anthropicUsage{p},
		"llm.anthropic.verify_new":         verifyNewAction{p, anthropic, ""},
		"llm.anthropic.deactivate_old":     anthropicDeactivate{p},
		"llm.anthropic.verify_old_revoked": verifyOldRevokedAction{p, anthropic},

		"llm.litellm.plan":               planAction{p, litellm},
		"llm.litellm.virtual_keys":       litellmVirtualKeys{p},
		"llm.litellm.generate":           litellmGenerate{},
		"llm.litellm.deliver":            deliverAction{p: p, unverified: true},
		"llm.litellm.verify_new":         verifyNewAction{p, litellm, "create"},
		"llm.litellm.verify_old_revoked": verifyOldRevokedAction{p, litellm},
	}
	// The guided manual providers share one shape.
	for _, s := range []*service{gemini, azure, mistral, cohere, groq, openrouter} {
		m["llm."+s.name+".plan"] = planAction{p, s}
		m["llm."+s.name+".verify_new"] = verifyNewAction{p, s, ""}
		m["llm."+s.name+".verify_old_revoked"] = verifyOldRevokedAction{p, s}
	}
	// Gates that let a manual step skip itself when its work was done.
	for _, s := range []*service{openai, anthropic, gemini, azure, mistral, cohere, groq, openrouter, litellm} {
		m["llm."+s.name+".create_manual"] = createManualGate(s.title)
		m["llm."+s.name+".revoke_manual"] = revokeManualGate(s.title)
	}
	return m
}

var (
	_ rotators.Skipper   = openaiCreate{}
	_ rotators.Skipper   = manualGate{}
	_ rotators.Previewer = openaiPlan{}
	_ rotators.Previewer = anthropicPlan{}
	_ rotators.Previewer = planAction{}
)
