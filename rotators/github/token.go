package github

import (
	"context"
	"fmt"
	"strings"

	"github.com/tourniquet-ir/tourniquet/collectors/credentials"
	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Secret names in the run's in-memory stores.
const (
	secOldToken = "github.old_token"
	// inNewSecret and inOldSecret are what the operator supplies
	// (--secret-from, --old-secret-from, or the console's hidden prompt).
	inNewSecret = "new_secret"
	inOldSecret = "old_secret"
)

// RevokeBatch is the most credentials one revocation request may carry.
const RevokeBatch = 1000

// revocable are the token types POST /credentials/revoke accepts.
var revocable = []string{"ghp_", "github_pat_", "gho_", "ghu_", "ghr_"}

// RevokeTokens revokes tokens in batches of at most 1,000 per request,
// unauthenticated. GitHub allows 60 such requests an hour; a refusal for
// rate is retryable (the client waits for Retry-After when it is short).
// 202 Accepted is success: revocation is asynchronous and re-sending is
// harmless.
func RevokeTokens(ctx context.Context, c *ghc.Client, tokens []redact.Secret) error {
	for start := 0; start < len(tokens); start += RevokeBatch {
		end := min(start+RevokeBatch, len(tokens))
		batch := make([]string, 0, end-start)
		for _, t := range tokens[start:end] {
			batch = append(batch, string(t.Reveal()))
		}
		if err := c.RevokeCredentials(ctx, batch); err != nil {
			return classify(fmt.Sprintf("revoke tokens %d-%d of %d", start+1, end, len(tokens)), err)
		}
	}
	return nil
}

// oldToken recovers the exposed token in memory: kept by this process, else
// re-read from the file it was found in (matching the fingerprint), else
// supplied by the operator (--old-secret-from).
func (p *Provider) oldToken(rc *rotators.RunContext) (redact.Secret, error) {
	if s, ok := rc.Secrets.Get(secOldToken); ok && s.Fingerprint() == rc.Credential.Fingerprint {
		return s, nil
	}
	if s, ok := rc.Inputs.Get(inOldSecret); ok && s.Fingerprint() == rc.Credential.Fingerprint {
		rc.Secrets.Put(secOldToken, s)
		return s, nil
	}
	file, ok := sourceFile(rc)
	if !ok {
		return redact.Secret{}, fmt.Errorf("credential %s was not found on a host scanned here: give the exposed token with --old-secret-from FILE|env:VAR", rc.Credential.ID)
	}
	data, err := readBounded(file)
	if err != nil {
		return redact.Secret{}, fmt.Errorf("read %s to recover the exposed token: %w (or give it with --old-secret-from)", file, err)
	}
	for _, f := range credentials.Parse(rc.Credential.Path, data) {
		if f.Secret.Fingerprint() == rc.Credential.Fingerprint {
			rc.Secrets.Put(secOldToken, f.Secret)
			return f.Secret, nil
		}
	}
	return redact.Secret{}, fmt.Errorf("%s no longer holds the exposed token %s (changed or already delivered over): give it with --old-secret-from FILE|env:VAR, or revoke it by hand in the owner's settings", file, rc.Credential.Hint)
}

// tokenSinks: the file the token was found in (while this machine scanned
// it), files named with --param sink_file, and Actions secrets named with
// --param actions_secret.
func (p *Provider) tokenSinks(rc *rotators.RunContext) ([]sink, error) {
	old, _ := rc.Secrets.Get(secOldToken)
	var out []sink
	files := splitList(rc.Param("sink_file"))
	if f, ok := sourceFile(rc); ok && rc.Param("sink_file") == "" {
		files = append(files, f)
	}
	for _, f := range files {
		out = append(out, tokenFileSink{path: f, name: rc.Credential.Path, old: old})
	}
	ss, err := p.secretSinks(rc)
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		out = append(out, s)
	}
	return out, nil
}

func ownerLogin(owner string) string {
	login, _, _ := strings.Cut(owner, "@")
	return login
}

// tokenPlanAction recovers the exposed token, checks GitHub can revoke its
// type, and notes where the replacement goes.
type tokenPlanAction struct{ p *Provider }

func (a tokenPlanAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: recover token %s from where it was found, check GitHub can revoke its type, and find its sinks", rc.Credential.Hint), nil
}

func (a tokenPlanAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	old, err := a.p.oldToken(rc)
	if err != nil {
		return nil, err
	}
	val := string(old.Reveal())
	ok := false
	for _, pfx := range revocable {
		if strings.HasPrefix(val, pfx) {
			ok = true
		}
	}
	if !ok {
		if strings.HasPrefix(val, "ghs_") {
			return nil, fmt.Errorf("%s is a GitHub App installation token (ghs_, e.g. a job's GITHUB_TOKEN): it expires within an hour and cannot be revoked through /credentials/revoke", rc.Credential.Hint)
		}
		return nil, fmt.Errorf("%s is not a token type GitHub revokes through /credentials/revoke (ghp_, github_pat_, gho_, ghu_, ghr_): revoke it where it was issued", rc.Credential.Hint)
	}
	ss, err := a.p.tokenSinks(rc)
	if err != nil {
		return nil, err
	}
	if len(splitList(rc.Param("actions_secret"))) > 0 {
		c, err := a.p.client(rc)
		if err != nil {
			return nil, err
		}
		if err := a.p.recordSinkBefore(ctx, rc, c); err != nil {
			return nil, err
		}
	}
	var to []string
	for _, s := range ss {
		to = append(to, s.Describe())
	}
	rc.Vars["old_fp"] = rc.Credential.Fingerprint
	rc.Vars["owner"] = ownerLogin(rc.Credential.Owner)
	res := rotators.Result{"token": rc.Credential.Hint, "owner": orUnknown(ownerLogin(rc.Credential.Owner)), "sinks": to}
	if len(ss) == 0 {
		rc.Note("no sink known for the new token: put it where the old one was used yourself (or --param sink_file=PATH / actions_secret=OWNER/REPO/NAME)")
	}
	return res, nil
}

func (a tokenPlanAction) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a tokenPlanAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only
}

// revokeAction sends the exposed token to POST /credentials/revoke. The
// standard step runs only after the replacement is verified and delivered;
// the optional revoke-first step (an emergency: the token is being abused)
// runs before anything else.
type revokeAction struct {
	p     *Provider
	first bool
}

func (a revokeAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("REVOKE the exposed token %s through POST /credentials/revoke (unauthenticated; irreversible; GitHub notifies its owner; everything still using it fails)", rc.Credential.Hint), nil
}

func (a revokeAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	if !a.first {
		if v, _ := rc.Vars["verified"].(bool); !v {
			return nil, fmt.Errorf("refusing to revoke the exposed token before its replacement is verified and delivered")
		}
		if d, _ := rc.Vars["delivered"].(bool); !d {
			return nil, fmt.Errorf("refusing to revoke the exposed token before its replacement is delivered")
		}
	}
	old, err := a.p.oldToken(rc)
	if err != nil {
		return nil, err
	}
	c, err := a.p.clientWith(rc, redact.Secret{})
	if err != nil {
		return nil, err
	}
	if err := RevokeTokens(ctx, c, []redact.Secret{old}); err != nil {
		return nil, err
	}
	rc.Vars["revoke_sent"] = rc.Now().UTC().Format("2006-01-02T15:04:05Z")
	return rotators.Result{"revoked": rc.Credential.Hint, "accepted": true, "note": "revocation is asynchronous: GitHub accepted the request (202)"}, nil
}

// Reconcile: revocation is fire-and-forget and cannot be read back;
// sending it again is harmless, so Do runs again.
func (a revokeAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// tokenVerifyAction proves the operator's replacement works and belongs to
// the same user: GET /user with it.
type tokenVerifyAction struct{ p *Provider }

func (a tokenVerifyAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: GET /user with the new token; it must answer as %s", orUnknown(rc.Var("owner"))), nil
}

func (a tokenVerifyAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	nt, ok := rc.Inputs.Get(inNewSecret)
	if !ok || nt.IsZero() {
		return nil, fmt.Errorf("no replacement token: issue one, then resume with --secret-from FILE|env:VAR (or type it in the console)")
	}
	if nt.Fingerprint() == rc.Credential.Fingerprint {
		return nil, fmt.Errorf("the token supplied is the exposed one: issue a new token")
	}
	c, err := a.p.clientWith(rc, nt)
	if err != nil {
		return nil, err
	}
	me, err := c.AuthenticatedUser(ctx)
	if err != nil {
		return nil, classify("verify the new token", err)
	}
	if want := rc.Var("owner"); want != "" && !strings.EqualFold(want, me.Login) {
		return nil, fmt.Errorf("the new token belongs to %s, not to %s", me.Login, want)
	}
	rc.Vars["verified"] = true
	rc.Vars["new_fp"] = nt.Fingerprint()
	rc.Vars["new_hint"] = nt.Hint()
	res := rotators.Result{"login": me.Login, "token": nt.Hint()}
	if me.Classic {
		res["scopes"] = me.Scopes
	}
	return res, nil
}

func (a tokenVerifyAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only
}

// tokenDeliverAction writes the verified replacement to every sink.
type tokenDeliverAction struct{ p *Provider }

func (a tokenDeliverAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	ss, err := a.p.tokenSinks(rc)
	if err != nil {
		return "", err
	}
	if len(ss) == 0 {
		return "no sink known: nothing is written (put the new token where the old one was used)", nil
	}
	var d []string
	for _, s := range ss {
		d = append(d, s.Describe())
	}
	return "write the new token to " + strings.Join(d, " and "), nil
}

func (a tokenDeliverAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	// The exposed token must be in memory before the file is rewritten:
	// the revoke step needs it.
	if _, err := a.p.oldToken(rc); err != nil {
		if res, done, rerr := a.Reconcile(ctx, rc); rerr == nil && done {
			return res, nil
		}
		return nil, err
	}
	ss, err := a.p.tokenSinks(rc)
	if err != nil {
		return nil, err
	}
	nt, ok := rc.Inputs.Get(inNewSecret)
	if !ok || nt.Fingerprint() != rc.Var("new_fp") {
		if res, done, err := a.Reconcile(ctx, rc); err != nil || done {
			return res, err
		}
		return nil, fmt.Errorf("the verified replacement token is not in this process: resume with the same --secret-from")
	}
	to, err := deliverAll(ctx, ss, nt, nt.Fingerprint())
	if err != nil {
		return nil, err
	}
	rc.Vars["delivered"] = true
	return rotators.Result{"delivered": nt.Hint(), "to": to}, nil
}

// Reconcile: delivered when every sink holds the new token.
func (a tokenDeliverAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	ss, err := a.p.tokenSinks(rc)
	if err != nil {
		return nil, false, err
	}
	if len(ss) == 0 {
		if rc.Var("new_fp") == "" {
			return nil, false, nil
		}
		rc.Vars["delivered"] = true
		return rotators.Result{"delivered": rc.Var("new_hint"), "to": []string{}}, true, nil
	}
	ok, to, err := allHold(ctx, ss, rc.Var("new_fp"))
	if err != nil || !ok {
		return nil, false, err
	}
	rc.Vars["delivered"] = true
	return rotators.Result{"delivered": rc.Var("new_hint"), "to": to}, true, nil
}
