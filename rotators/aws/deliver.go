package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/rotators/sinks"
)

// keySink is where a new access key goes.
type keySink interface {
	Describe() string
	Deliver(ctx context.Context, keyID string, secret redact.Secret) error
	// Current reads back what the sink holds, to verify a delivery and to
	// recover the new key after a crash.
	Current(ctx context.Context) (string, redact.Secret, error)
}

type profileSink struct{ s sinks.AWSProfile }

func (p profileSink) Describe() string {
	return fmt.Sprintf("profile %s in %s", p.s.Profile, p.s.Path)
}
func (p profileSink) Deliver(ctx context.Context, id string, sec redact.Secret) error {
	return p.s.Deliver(ctx, id, sec)
}
func (p profileSink) Current(ctx context.Context) (string, redact.Secret, error) {
	return p.s.Current(ctx)
}

// smKeySink stores the key pair as a Secrets Manager secret (JSON
// {"AccessKeyId","SecretAccessKey"}), the form apps on AWS read it in.
type smKeySink struct {
	p    *Provider
	rc   *rotators.RunContext
	name string
}

func (s smKeySink) Describe() string { return "Secrets Manager secret " + s.name }

func (s smKeySink) Deliver(ctx context.Context, id string, sec redact.Secret) error {
	c, err := s.p.operator(ctx, s.rc)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"AccessKeyId": id, "SecretAccessKey": string(sec.Reveal())})
	if err != nil {
		return err
	}
	// The token makes a retried delivery of the same key idempotent.
	token := "tourniquet-" + strings.TrimPrefix(fp(id), "sha256:") + "-" + s.rc.Run.ID
	_, err = c.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(s.name), SecretString: aws.String(string(body)), ClientRequestToken: aws.String(pad32(token))})
	if errCode(err) == "ResourceNotFoundException" {
		_, err = c.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(s.name), SecretString: aws.String(string(body)), ClientRequestToken: aws.String(pad32(token))})
	}
	return classify("deliver to "+s.Describe(), err)
}

func (s smKeySink) Current(ctx context.Context) (string, redact.Secret, error) {
	c, err := s.p.operator(ctx, s.rc)
	if err != nil {
		return "", redact.Secret{}, err
	}
	out, err := c.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.name)})
	if err != nil {
		return "", redact.Secret{}, classify("read "+s.Describe(), err)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return "", redact.Secret{}, fmt.Errorf("%s does not hold an access key pair", s.Describe())
	}
	return v["AccessKeyId"], redact.NewSecretString(v["SecretAccessKey"]), nil
}

// pad32 makes a client request token of 32 to 64 characters, as Secrets
// Manager requires.
func pad32(s string) string {
	for len(s) < 32 {
		s += "-"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// sinks lists where the new key goes: --param profile_path/profile (by
// default the very profile the exposed key was found in, on this machine)
// and/or --param sm_secret.
func (p *Provider) sinks(rc *rotators.RunContext) []keySink {
	var out []keySink
	file, profile := rc.Param("profile_path"), rc.Param("profile")
	if file == "" && (rc.Host.Root == "" || rc.Host.Root == "/") && (rc.Host.Kind == "" || rc.Host.Kind == "host") &&
		strings.HasSuffix(rc.Credential.Path, "/.aws/credentials") {
		file = rc.Credential.Path
	}
	if profile == "" {
		profile, _ = strings.CutPrefix(rc.Credential.Detail, "profile ")
	}
	if file != "" && profile != "" {
		out = append(out, profileSink{sinks.AWSProfile{Path: file, Profile: profile}})
	}
	if name := rc.Param("sm_secret_key"); name != "" {
		out = append(out, smKeySink{p: p, rc: rc, name: name})
	}
	return out
}

// deliverAction writes the new key to every sink and reads it back.
type deliverAction struct{ p *Provider }

func (a deliverAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	ss := a.p.sinks(rc)
	if len(ss) == 0 {
		return "", fmt.Errorf("no sink for the new key: pass --param profile_path=FILE --param profile=NAME and/or --param sm_secret_key=NAME")
	}
	var d []string
	for _, s := range ss {
		d = append(d, s.Describe())
	}
	return "write the new key to " + strings.Join(d, " and ") + " (atomically; everything else in the file kept)", nil
}

func (a deliverAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	ss := a.p.sinks(rc)
	if len(ss) == 0 {
		return nil, fmt.Errorf("no sink for the new key: pass --param profile_path=FILE --param profile=NAME and/or --param sm_secret_key=NAME")
	}
	idSec, ok1 := rc.Secrets.Get(secNewKeyID)
	sec, ok2 := rc.Secrets.Get(secNewSecret)
	if !ok1 || !ok2 || fp(string(idSec.Reveal())) != rc.Var("new_key_fp") {
		if res, done, err := a.Reconcile(ctx, rc); err != nil || done {
			return res, err
		}
		return nil, &rotators.Rewind{To: "create", Reason: "the new key's secret was lost before it was delivered (the process stopped); it will be deleted and created again"}
	}
	id := string(idSec.Reveal())
	var to []string
	for _, s := range ss {
		if err := s.Deliver(ctx, id, sec); err != nil {
			return nil, fmt.Errorf("deliver to %s: %w", s.Describe(), err)
		}
		got, _, err := s.Current(ctx)
		if err != nil || got != id {
			return nil, fmt.Errorf("%s does not read back the new key after delivery: %v", s.Describe(), err)
		}
		to = append(to, s.Describe())
	}
	rc.Vars["delivered_fp"] = fp(id)
	return rotators.Result{"delivered": redact.Hint(id), "to": to}, nil
}

// Reconcile: the delivery is done when every sink reads back the new key.
func (a deliverAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	want := rc.Var("new_key_fp")
	ss := a.p.sinks(rc)
	if want == "" || len(ss) == 0 {
		return nil, false, nil
	}
	var to []string
	for _, s := range ss {
		id, _, err := s.Current(ctx)
		if err != nil || fp(id) != want {
			return nil, false, nil
		}
		to = append(to, s.Describe())
	}
	rc.Vars["delivered_fp"] = want
	return rotators.Result{"delivered": rc.Var("new_key_hint"), "to": to}, true, nil
}
