package aws

import (
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Actions returns every AWS action by the name playbooks use. One explicit
// list, no init() registration.
func (p *Provider) Actions() map[string]rotators.Action {
	return map[string]rotators.Action{
		"aws.iam.plan":                      planAction{p},
		"aws.cloudtrail.evidence":           evidenceAction{p},
		"aws.iam.make_room":                 makeRoomAction{p},
		"aws.iam.create_key":                createAction{p},
		"aws.deliver":                       deliverAction{p},
		"aws.sts.verify":                    verifyAction{p},
		"aws.iam.deactivate_old":            oldKeyAction{p: p},
		"aws.cloudtrail.after_deactivation": afterDeactivationAction{p},
		"aws.iam.revoke_sessions":           revokeSessionsAction{p},
		"aws.iam.delete_old":                oldKeyAction{p: p, delete: true},
		"aws.sm.plan":                       smPlanAction{p},
		"aws.sm.create_pending":             smCreatePendingAction{p},
		"aws.sm.finish":                     smFinishAction{p},
	}
}

var (
	_ rotators.Skipper = makeRoomAction{}
	_ rotators.Action  = makeRoomAction{}
)

func newSecret(v string) redact.Secret { return redact.NewSecretString(v) }
