package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/credentials"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Secret names in the run's in-memory store.
const (
	secNewKeyID  = "aws.new_key_id"
	secNewSecret = "aws.new_key_secret"
)

// fp fingerprints an access key ID. Runs store this, never the ID: resume
// finds a key again by listing the user's keys and matching it.
func fp(keyID string) string { return redact.Fingerprint([]byte(keyID)) }

// sourceFile is where the credential was found, on this machine: the host's
// root joined with the path inside it. Only targets scanned here qualify.
func sourceFile(rc *rotators.RunContext) (string, bool) {
	if rc.Host.Kind != "" && rc.Host.Kind != "host" {
		return "", false
	}
	if rc.Host.Root == "" || rc.Host.Root == "/" {
		return rc.Credential.Path, true
	}
	return path.Join(rc.Host.Root, rc.Credential.Path), true
}

// exposedKey recovers, in memory, the exposed key's ID (and secret when the
// file still holds it) by re-reading the file it was found in and matching
// the recorded fingerprint. --param key_id=AKIA... overrides, for keys found
// on machines this one cannot read.
func (p *Provider) exposedKey(rc *rotators.RunContext) (string, redact.Secret, error) {
	if id := rc.Param("key_id"); id != "" {
		if redact.Hint(id) != rc.Credential.Hint {
			return "", redact.Secret{}, fmt.Errorf("key_id %s does not match the credential's hint %s", redact.Hint(id), rc.Credential.Hint)
		}
		return id, redact.Secret{}, nil
	}
	file, ok := sourceFile(rc)
	if !ok {
		return "", redact.Secret{}, fmt.Errorf("credential %s was not found on a host scanned here: pass --param key_id=AKIA…", rc.Credential.ID)
	}
	f, err := os.Open(file)
	if err != nil {
		return "", redact.Secret{}, fmt.Errorf("read the credential's file to learn its key ID: %w (or pass --param key_id=AKIA…)", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return "", redact.Secret{}, fmt.Errorf("read %s: %w", file, err)
	}
	for _, found := range credentials.Parse(rc.Credential.Path, data) {
		if found.KeyID != "" && found.Secret.Fingerprint() == rc.Credential.Fingerprint {
			return found.KeyID, found.Secret, nil
		}
	}
	return "", redact.Secret{}, fmt.Errorf("%s no longer holds credential %s (%s): it was changed since the scan; pass --param key_id=AKIA…", file, rc.Credential.ID, rc.Credential.Hint)
}

// selfKey is the key to act with under --self: the exposed key while its
// file still holds it, else the new key delivered in its place.
func (p *Provider) selfKey(ctx context.Context, rc *rotators.RunContext) (string, redact.Secret, error) {
	if id, sec, err := p.exposedKey(rc); err == nil && !sec.IsZero() {
		return id, sec, nil
	}
	if id, sec, ok := p.newKey(ctx, rc); ok {
		return id, sec, nil
	}
	return "", redact.Secret{}, fmt.Errorf("--self: neither the exposed key nor a delivered new key is readable")
}

type keyInfo struct {
	ID      string
	Status  string
	Created time.Time
}

func (p *Provider) listKeys(ctx context.Context, c *clients, user string) ([]keyInfo, error) {
	var out []keyInfo
	pager := iam.NewListAccessKeysPaginator(c.iam, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("list access keys of "+user, err)
		}
		for _, k := range page.AccessKeyMetadata {
			out = append(out, keyInfo{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// findKey returns the user's key whose ID has the fingerprint.
func findKey(keys []keyInfo, fingerprint string) (keyInfo, bool) {
	for _, k := range keys {
		if fp(k.ID) == fingerprint {
			return k, true
		}
	}
	return keyInfo{}, false
}

type recordedKey struct {
	FP      string    `json:"fp"`
	Hint    string    `json:"hint"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

func recorded(rc *rotators.RunContext) []recordedKey {
	var out []recordedKey
	b, _ := json.Marshal(rc.Vars["keys"])
	_ = json.Unmarshal(b, &out)
	return out
}

func (p *Provider) user(rc *rotators.RunContext) (string, error) {
	u := rc.Var("user")
	if u == "" {
		return "", fmt.Errorf("the plan step has not identified the key's owner")
	}
	return u, nil
}

// planAction identifies the exposed key, its owner and the user's keys.
type planAction struct{ p *Provider }

func (a planAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: find the IAM user owning %s (GetAccessKeyLastUsed) and list that user's keys", rc.Credential.Hint), nil
}

func (a planAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	// Fail before anything changes: a key created without a place to put
	// it would be lost.
	if len(a.p.sinks(rc)) == 0 {
		return nil, fmt.Errorf("no sink for the new key: pass --param profile_path=FILE --param profile=NAME and/or --param sm_secret_key=NAME")
	}
	keyID, _, err := a.p.exposedKey(rc)
	if err != nil {
		return nil, err
	}
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, err
	}
	lu, err := c.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(keyID)})
	if err != nil {
		return nil, classify("find the owner of "+rc.Credential.Hint, err)
	}
	user := aws.ToString(lu.UserName)
	if user == "" {
		return nil, fmt.Errorf("%s belongs to no IAM user (a root key or an unknown key): rotate it in the console", rc.Credential.Hint)
	}
	keys, err := a.p.listKeys(ctx, c, user)
	if err != nil {
		return nil, err
	}
	if _, ok := findKey(keys, fp(keyID)); !ok {
		return nil, fmt.Errorf("%s is not among user %s's keys any more: already deleted?", rc.Credential.Hint, user)
	}
	var rec []recordedKey
	var others []string
	for _, k := range keys {
		rec = append(rec, recordedKey{FP: fp(k.ID), Hint: redact.Hint(k.ID), Status: k.Status, Created: k.Created})
		if k.ID != keyID {
			others = append(others, fmt.Sprintf("%s (%s, created %s)", redact.Hint(k.ID), k.Status, k.Created.UTC().Format(time.RFC3339)))
		}
	}
	rc.Vars["user"] = user
	rc.Vars["old_key_fp"] = fp(keyID)
	rc.Vars["old_key_hint"] = redact.Hint(keyID)
	rc.Vars["keys"] = rec
	res := rotators.Result{"user": user, "keys": len(keys), "other_keys": others}
	if info, err := c.sts.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: aws.String(keyID)}); err == nil {
		rc.Vars["account"] = aws.ToString(info.Account)
		res["account"] = aws.ToString(info.Account)
	}
	if lu.AccessKeyLastUsed != nil && lu.AccessKeyLastUsed.LastUsedDate != nil {
		res["last_used"] = lu.AccessKeyLastUsed.LastUsedDate.UTC().Format(time.RFC3339)
		res["last_used_service"] = aws.ToString(lu.AccessKeyLastUsed.ServiceName)
	}
	// A second key created inside the window may be the attacker's.
	if ws := rc.Host.WindowStart; ws != nil && rc.Findings != nil {
		var fs []collectors.Finding
		for _, k := range keys {
			if k.ID != keyID && !k.Created.Before(*ws) {
				t := k.Created
				fs = append(fs, collectors.Finding{
					ID: "f-aws-key-" + fp(k.ID)[7:19], Pack: "tourniquet-aws", Rule: "access-key-created-in-window", Severity: "high",
					Path:       "iam:user/" + user + "/" + redact.Hint(k.ID),
					Detail:     fmt.Sprintf("user %s has a second access key %s created %s, inside the window: an attacker may have made it", user, redact.Hint(k.ID), t.UTC().Format(time.RFC3339)),
					ObservedAt: &t, Confidence: "inferred",
				})
			}
		}
		if len(fs) > 0 {
			if err := rc.Findings(ctx, target(rc), fs); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// Preview identifies the owner and keys for a dry run; Findings is nil there,
// so nothing is recorded.
func (a planAction) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a planAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only: simply run again
}

// makeRoomAction frees a slot under IAM's two-key limit.
type makeRoomAction struct{ p *Provider }

// victim picks the key to remove: an inactive one, else one created inside
// the window; never the exposed key (it stays until the new one works).
func (a makeRoomAction) victim(ctx context.Context, rc *rotators.RunContext) (keyInfo, string, bool, error) {
	user, err := a.p.user(rc)
	if err != nil {
		return keyInfo{}, "", false, err
	}
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return keyInfo{}, "", false, err
	}
	keys, err := a.p.listKeys(ctx, c, user)
	if err != nil {
		return keyInfo{}, "", false, err
	}
	if len(keys) < 2 {
		return keyInfo{}, fmt.Sprintf("user %s has %d key(s): room for a new one", user, len(keys)), false, nil
	}
	old := rc.Var("old_key_fp")
	for _, k := range keys {
		if fp(k.ID) != old && k.Status == string(types.StatusTypeInactive) {
			return k, "inactive key", true, nil
		}
	}
	if ws := rc.Host.WindowStart; ws != nil {
		for _, k := range keys {
			if fp(k.ID) != old && !k.Created.Before(*ws) {
				return k, "created inside the window (possibly the attacker's)", true, nil
			}
		}
	}
	if pick := rc.Param("make_room_key"); pick != "" {
		for _, k := range keys {
			if k.ID == pick && fp(k.ID) != old {
				return k, "chosen with --param make_room_key", true, nil
			}
		}
	}
	return keyInfo{}, "", false, fmt.Errorf("user %s already has two active keys and neither was created in the window: choose one to delete with --param make_room_key=AKIA… (not the exposed key)", user)
}

func (a makeRoomAction) Needed(ctx context.Context, rc *rotators.RunContext) (bool, string, error) {
	_, why, needed, err := a.victim(ctx, rc)
	return needed, why, err
}

func (a makeRoomAction) Describe(ctx context.Context, rc *rotators.RunContext) (string, error) {
	k, why, needed, err := a.victim(ctx, rc)
	if err != nil || !needed {
		return "nothing to delete: " + why, err
	}
	return fmt.Sprintf("DELETE access key %s of user %s (%s, %s, created %s) to make room for the new key",
		redact.Hint(k.ID), rc.Var("user"), k.Status, why, k.Created.UTC().Format(time.RFC3339)), nil
}

func (a makeRoomAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	k, why, needed, err := a.victim(ctx, rc)
	if err != nil || !needed {
		return rotators.Result{"deleted": "", "why": why}, err
	}
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, err
	}
	if _, err := c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(rc.Var("user")), AccessKeyId: aws.String(k.ID)}); err != nil && errCode(err) != "NoSuchEntity" {
		return nil, classify("delete "+redact.Hint(k.ID), err)
	}
	return rotators.Result{"deleted": redact.Hint(k.ID), "why": why}, nil
}

func (a makeRoomAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	_, why, needed, err := a.victim(ctx, rc)
	if err != nil {
		return nil, false, err
	}
	return rotators.Result{"why": why}, !needed, nil
}

// createAction creates the new key. Keys this run created earlier whose
// secret was never delivered are lost: they are deleted first.
type createAction struct{ p *Provider }

func (a createAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("create a new access key for IAM user %s; its secret stays in memory until delivered", orUnknown(rc.Var("user"))), nil
}

// removeLost deletes the user's keys that were not there at plan time and
// are not the delivered new key.
func (a createAction) removeLost(ctx context.Context, rc *rotators.RunContext, c *clients) ([]string, error) {
	user, err := a.p.user(rc)
	if err != nil {
		return nil, err
	}
	keys, err := a.p.listKeys(ctx, c, user)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, k := range recorded(rc) {
		known[k.FP] = true
	}
	if d := rc.Var("delivered_fp"); d != "" {
		known[d] = true
	}
	var removed []string
	for _, k := range keys {
		if known[fp(k.ID)] {
			continue
		}
		if _, err := c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(k.ID)}); err != nil && errCode(err) != "NoSuchEntity" {
			return nil, classify("delete lost key "+redact.Hint(k.ID), err)
		}
		rc.Note("deleted %s: created by an earlier attempt whose secret was never delivered", redact.Hint(k.ID))
		removed = append(removed, redact.Hint(k.ID))
	}
	return removed, nil
}

func (a createAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, err
	}
	removed, err := a.removeLost(ctx, rc, c)
	if err != nil {
		return nil, err
	}
	out, err := c.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(rc.Var("user"))})
	if err != nil {
		if errCode(err) == "LimitExceeded" {
			return nil, fmt.Errorf("user %s already has two keys: the make-room step should have freed one (%w)", rc.Var("user"), classify("create access key", err))
		}
		return nil, classify("create access key", err)
	}
	k := out.AccessKey
	id := aws.ToString(k.AccessKeyId)
	rc.Secrets.Put(secNewKeyID, redact.NewSecretString(id))
	rc.Secrets.Put(secNewSecret, redact.NewSecretString(aws.ToString(k.SecretAccessKey)))
	rc.Vars["new_key_fp"] = fp(id)
	rc.Vars["new_key_hint"] = redact.Hint(id)
	delete(rc.Vars, "delivered_fp")
	delete(rc.Vars, "verified")
	return rotators.Result{"new_key": redact.Hint(id), "created": aws.ToTime(k.CreateDate).UTC().Format(time.RFC3339), "removed_lost": removed}, nil
}

func (a createAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	// The last attempt may have created a key before dying: its secret is
	// gone with the process. Remove it; Do makes a new one.
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, false, err
	}
	_, err = a.removeLost(ctx, rc, c)
	return nil, false, err
}

// newKey returns the new key from memory, or from its sink after a crash.
func (p *Provider) newKey(ctx context.Context, rc *rotators.RunContext) (string, redact.Secret, bool) {
	want := rc.Var("new_key_fp")
	if want == "" {
		return "", redact.Secret{}, false
	}
	if id, ok := rc.Secrets.Get(secNewKeyID); ok && fp(string(id.Reveal())) == want {
		if sec, ok := rc.Secrets.Get(secNewSecret); ok {
			return string(id.Reveal()), sec, true
		}
	}
	for _, s := range p.sinks(rc) {
		if id, sec, err := s.Current(ctx); err == nil && fp(id) == want {
			return id, sec, true
		}
	}
	return "", redact.Secret{}, false
}

// verifyAction proves the new key works, retrying while IAM propagates it.
type verifyAction struct{ p *Provider }

func (a verifyAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: call STS GetCallerIdentity with the new key %s until it answers as user %s", orUnknown(rc.Var("new_key_hint")), orUnknown(rc.Var("user"))), nil
}

func (a verifyAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	id, sec, ok := a.p.newKey(ctx, rc)
	if !ok {
		return nil, &rotators.Rewind{To: "create", Reason: "the new key is neither in memory nor in its sink"}
	}
	c, err := a.p.clients(ctx, staticCreds(id, sec))
	if err != nil {
		return nil, err
	}
	timeout := 2 * time.Minute
	if d, err := time.ParseDuration(rc.Param("verify_timeout")); err == nil && d > 0 {
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := c.sts.GetCallerIdentity(ctx, nil)
		if err == nil {
			arn := aws.ToString(out.Arn)
			if !strings.HasSuffix(arn, ":user/"+rc.Var("user")) && !strings.Contains(arn, ":user/") {
				return nil, fmt.Errorf("the new key answers as %s, not as user %s", arn, rc.Var("user"))
			}
			rc.Vars["verified"] = true
			return rotators.Result{"arn": arn, "attempts": attempt}, nil
		}
		code := errCode(err)
		if code != "InvalidClientTokenId" && code != "SignatureDoesNotMatch" {
			return nil, classify("verify the new key", err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the new key %s was still refused after %s (%s): IAM propagation is usually seconds; check the key in the console", redact.Hint(id), timeout, code)
		}
		rc.Note("the new key is not accepted yet (%s, attempt %d): IAM is propagating it; retrying in %s", code, attempt, delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 8*time.Second {
			delay *= 2
		}
	}
}

func (a verifyAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil // read-only
}

// oldKeyAction deactivates or deletes the exposed key, only after the new
// key was delivered and verified.
type oldKeyAction struct {
	p      *Provider
	delete bool
}

func (a oldKeyAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	if a.delete {
		return fmt.Sprintf("DELETE the exposed access key %s of user %s (irreversible; it was deactivated first)", orUnknown(rc.Var("old_key_hint")), orUnknown(rc.Var("user"))), nil
	}
	return fmt.Sprintf("DEACTIVATE the exposed access key %s of user %s: anything still using it fails from now on (reversible until delete)", orUnknown(rc.Var("old_key_hint")), orUnknown(rc.Var("user"))), nil
}

func (a oldKeyAction) find(ctx context.Context, rc *rotators.RunContext) (*clients, keyInfo, bool, error) {
	if v, _ := rc.Vars["verified"].(bool); !v {
		return nil, keyInfo{}, false, fmt.Errorf("refusing to touch the exposed key before the new key is delivered and verified")
	}
	user, err := a.p.user(rc)
	if err != nil {
		return nil, keyInfo{}, false, err
	}
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, keyInfo{}, false, err
	}
	keys, err := a.p.listKeys(ctx, c, user)
	if err != nil {
		return nil, keyInfo{}, false, err
	}
	k, ok := findKey(keys, rc.Var("old_key_fp"))
	return c, k, ok, nil
}

func (a oldKeyAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	c, k, ok, err := a.find(ctx, rc)
	if err != nil {
		return nil, err
	}
	now := rc.Now().UTC()
	if !ok {
		return rotators.Result{"already_gone": rc.Var("old_key_hint")}, nil
	}
	user := rc.Var("user")
	if a.delete {
		if k.Status == string(types.StatusTypeActive) && rc.Param("force_delete") == "" {
			return nil, fmt.Errorf("the exposed key %s is still active: deactivate it first", redact.Hint(k.ID))
		}
		if _, err := c.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(k.ID)}); err != nil && errCode(err) != "NoSuchEntity" {
			return nil, classify("delete the exposed key", err)
		}
		rc.Vars["deleted_at"] = now.Format(time.RFC3339)
		return rotators.Result{"deleted": redact.Hint(k.ID)}, nil
	}
	if _, err := c.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(k.ID), Status: types.StatusTypeInactive}); err != nil {
		return nil, classify("deactivate the exposed key", err)
	}
	rc.Vars["deactivated_at"] = now.Format(time.RFC3339)
	return rotators.Result{"deactivated": redact.Hint(k.ID), "at": now.Format(time.RFC3339)}, nil
}

func (a oldKeyAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	_, k, ok, err := a.find(ctx, rc)
	if err != nil {
		return nil, false, err
	}
	now := rc.Now().UTC().Format(time.RFC3339)
	switch {
	case a.delete && !ok:
		rc.Vars["deleted_at"] = now
		return rotators.Result{"deleted": rc.Var("old_key_hint")}, true, nil
	case !a.delete && ok && k.Status == string(types.StatusTypeInactive):
		if rc.Var("deactivated_at") == "" {
			rc.Vars["deactivated_at"] = now
		}
		return rotators.Result{"deactivated": rc.Var("old_key_hint")}, true, nil
	case !a.delete && !ok:
		return rotators.Result{"already_gone": rc.Var("old_key_hint")}, true, nil
	}
	return nil, false, nil
}

// revokeSessionsAction denies temporary credentials issued before now: the
// policy AWS documents for revoking sessions (aws:TokenIssueTime).
type revokeSessionsAction struct{ p *Provider }

const revokePolicyName = "TourniquetRevokeOlderSessions"

func (a revokeSessionsAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("ATTACH inline policy %s to user %s: Deny * when aws:TokenIssueTime is before now (sessions issued with the exposed key stop working)", revokePolicyName, orUnknown(rc.Var("user"))), nil
}

func (a revokeSessionsAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, err
	}
	cutoff := rc.Now().UTC().Format(time.RFC3339)
	if v := rc.Var("sessions_cutoff"); v != "" {
		cutoff = v // a retried step keeps its first cut-off
	}
	rc.Vars["sessions_cutoff"] = cutoff
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":%q}}}]}`, cutoff)
	if _, err := c.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(rc.Var("user")), PolicyName: aws.String(revokePolicyName), PolicyDocument: aws.String(doc)}); err != nil {
		return nil, classify("attach the session cut-off policy", err)
	}
	return rotators.Result{"policy": revokePolicyName, "cutoff": cutoff}, nil
}

func (a revokeSessionsAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	c, err := a.p.operator(ctx, rc)
	if err != nil {
		return nil, false, err
	}
	_, err = c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(rc.Var("user")), PolicyName: aws.String(revokePolicyName)})
	if err == nil {
		return rotators.Result{"policy": revokePolicyName, "cutoff": rc.Var("sessions_cutoff")}, true, nil
	}
	if errCode(err) == "NoSuchEntity" {
		return nil, false, nil
	}
	return nil, false, classify("read the session cut-off policy", err)
}

func orUnknown(s string) string {
	if s == "" {
		return "(decided at run time)"
	}
	return s
}

// target names the cloud account findings are recorded under.
func target(rc *rotators.RunContext) string {
	if a := rc.Var("account"); a != "" {
		return "aws:" + a
	}
	return "aws:iam"
}
