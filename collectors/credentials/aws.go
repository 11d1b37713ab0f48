package credentials

import (
	"strings"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// awsProfile is one profile of ~/.aws/credentials or ~/.aws/config.
type awsProfile struct {
	name                string
	id, secret, token   string
	roleARN, ssoAccount string
}

// parseAWS reads ~/.aws/credentials and ~/.aws/config: one Found per profile
// holding a key. Secret is the secret access key, Hint the key id's hint;
// a profile with only a session token, or only a key id, still counts.
// Profiles that get credentials from a process or SSO hold none.
func parseAWS(r *results, _ string, data []byte) {
	var order []*awsProfile
	byName := map[string]*awsProfile{}
	eachINI(data, func(e iniEntry) bool {
		name, ok := awsProfileName(e.section)
		if !ok {
			return true
		}
		p := byName[name]
		if p == nil {
			if len(order) >= MaxFound {
				return false
			}
			p = &awsProfile{name: name}
			byName[name] = p
			order = append(order, p)
		}
		v := firstField(unquote(e.value))
		switch e.key {
		case "aws_access_key_id":
			p.id = v
		case "aws_secret_access_key":
			p.secret = v
		case "aws_session_token", "aws_security_token":
			p.token = v
		case "role_arn":
			p.roleARN = v
		case "sso_account_id":
			p.ssoAccount = v
		}
		return true
	})
	for _, p := range order {
		addAWSProfile(r, p)
	}
	scanText(r, data, scanOpts{})
}

// awsProfileName maps a section to a profile: "[default]", "[name]",
// "[profile name]". sso-session and services sections are not profiles.
func awsProfileName(section string) (string, bool) {
	if section == "" {
		return "", false
	}
	if rest, ok := strings.CutPrefix(section, "profile "); ok {
		return strings.TrimSpace(rest), true
	}
	if strings.HasPrefix(section, "sso-session ") || strings.HasPrefix(section, "services ") {
		return "", false
	}
	return section, true
}

func addAWSProfile(r *results, p *awsProfile) {
	usable := func(v string) bool { return v != "" && !isPlaceholder(v) && !isReference(v) }
	f := Found{Kind: KindAWSAccessKey, Detail: "profile " + p.name}
	switch {
	case p.roleARN != "":
		f.Owner = p.roleARN
	case p.ssoAccount != "":
		f.Owner = p.ssoAccount
	}
	if usable(p.id) {
		f.Hint = redact.Hint(p.id)
		f.KeyID = p.id
	}
	if usable(p.secret) || usable(p.token) {
		r.claim(p.id)
	}
	switch {
	case usable(p.secret):
		if usable(p.token) {
			f.Note = "session credentials (with a session token)"
		}
		r.add(f, p.secret)
	case usable(p.token):
		f.Note = "session token only"
		r.add(f, p.token)
	case usable(p.id):
		f.Note = "secret access key not in this file"
		r.add(f, p.id)
	}
}
