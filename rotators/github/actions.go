package github

import "github.com/tourniquet-ir/tourniquet/rotators"

// Actions returns every GitHub action by the name playbooks use. One
// explicit list, no init() registration.
func (p *Provider) Actions() map[string]rotators.Action {
	deploy, user := keyKind{p: p, deploy: true}, keyKind{p: p}
	return map[string]rotators.Action{
		"github.token.plan":         tokenPlanAction{p},
		"github.token.revoke_first": revokeAction{p: p, first: true},
		"github.token.verify":       tokenVerifyAction{p},
		"github.token.deliver":      tokenDeliverAction{p},
		"github.token.revoke":       revokeAction{p: p},

		"github.secret.plan":   secretPlanAction{p},
		"github.secret.put":    secretPutAction{p},
		"github.secret.verify": secretVerifyAction{p},

		"github.deploykey.plan":       keyPlanAction{deploy},
		"github.deploykey.create":     keyCreateAction{deploy},
		"github.deploykey.deliver":    keyDeliverAction{deploy},
		"github.deploykey.verify":     keyVerifyAction{deploy},
		"github.deploykey.delete_old": keyDeleteOldAction{deploy},

		"github.sshkey.plan":       keyPlanAction{user},
		"github.sshkey.create":     keyCreateAction{user},
		"github.sshkey.deliver":    keyDeliverAction{user},
		"github.sshkey.verify":     keyVerifyAction{user},
		"github.sshkey.delete_old": keyDeleteOldAction{user},
	}
}

var (
	_ rotators.Action    = tokenPlanAction{}
	_ rotators.Previewer = tokenPlanAction{}
	_ rotators.Previewer = secretPlanAction{}
	_ rotators.Previewer = keyPlanAction{}
)
