package github

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

const secNewKey = "github.new_private_key"

// keyAPI is what the key actions need from one kind of key: a repository's
// deploy keys or the token user's SSH keys.
type keyAPI interface {
	list(ctx context.Context) ([]ghc.Key, error)
	create(ctx context.Context, title, pub string, readOnly bool) (ghc.Key, error)
	get(ctx context.Context, id int64) (ghc.Key, bool, error)
	remove(ctx context.Context, id int64) error
	what() string
}

type deployKeys struct {
	c           *ghc.Client
	owner, repo string
}

func (d deployKeys) list(ctx context.Context) ([]ghc.Key, error) {
	return d.c.DeployKeys(ctx, d.owner, d.repo)
}
func (d deployKeys) create(ctx context.Context, title, pub string, ro bool) (ghc.Key, error) {
	return d.c.CreateDeployKey(ctx, d.owner, d.repo, title, pub, ro)
}
func (d deployKeys) get(ctx context.Context, id int64) (ghc.Key, bool, error) {
	return d.c.DeployKey(ctx, d.owner, d.repo, id)
}
func (d deployKeys) remove(ctx context.Context, id int64) error {
	return d.c.DeleteDeployKey(ctx, d.owner, d.repo, id)
}
func (d deployKeys) what() string { return "deploy key of " + d.owner + "/" + d.repo }

type userKeys struct{ c *ghc.Client }

func (u userKeys) list(ctx context.Context) ([]ghc.Key, error) { return u.c.UserKeys(ctx) }
func (u userKeys) create(ctx context.Context, title, pub string, _ bool) (ghc.Key, error) {
	return u.c.CreateUserKey(ctx, title, pub)
}
func (u userKeys) get(ctx context.Context, id int64) (ghc.Key, bool, error) {
	return u.c.UserKey(ctx, id)
}
func (u userKeys) remove(ctx context.Context, id int64) error { return u.c.DeleteUserKey(ctx, id) }
func (u userKeys) what() string                               { return "SSH key of your user" }

// keyKind selects deploy keys or user keys.
type keyKind struct {
	p      *Provider
	deploy bool
}

// repoOf finds the repository of a deploy key: --param repo=OWNER/REPO, or
// the collector's path github:OWNER/REPO/keys/ID.
func repoOf(rc *rotators.RunContext) (string, string, error) {
	ref := rc.Param("repo")
	if ref == "" {
		p := strings.TrimPrefix(rc.Credential.Path, "github:")
		if i := strings.Index(p, "/keys/"); i > 0 && strings.HasPrefix(rc.Credential.Path, "github:") {
			ref = p[:i]
		}
	}
	owner, repo, ok := strings.Cut(ref, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", fmt.Errorf("which repository? pass --param repo=OWNER/REPO")
	}
	return owner, repo, nil
}

func (k keyKind) api(rc *rotators.RunContext) (keyAPI, error) {
	c, err := k.p.client(rc)
	if err != nil {
		return nil, err
	}
	if !k.deploy {
		return userKeys{c}, nil
	}
	owner, repo, err := repoOf(rc)
	if err != nil {
		return nil, err
	}
	return deployKeys{c, owner, repo}, nil
}

// oldKeyID finds the exposed key: by ID from the collector's path, from
// --param key_id, or by the public key of a private key file found here.
func (k keyKind) oldKeyID(ctx context.Context, rc *rotators.RunContext, keys []ghc.Key) (ghc.Key, error) {
	idText := rc.Param("key_id")
	if idText == "" {
		if i := strings.LastIndex(rc.Credential.Path, "/keys/"); i > 0 && strings.HasPrefix(rc.Credential.Path, "github:") {
			idText = rc.Credential.Path[i+len("/keys/"):]
		}
	}
	if idText != "" {
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return ghc.Key{}, fmt.Errorf("key id %q is not a number", idText)
		}
		for _, key := range keys {
			if key.ID == id {
				return key, nil
			}
		}
		return ghc.Key{}, fmt.Errorf("key %d is not listed any more: already removed?", id)
	}
	file, ok := sourceFile(rc)
	if !ok {
		return ghc.Key{}, fmt.Errorf("which key? pass --param key_id=N")
	}
	b, err := readBounded(file)
	if err != nil {
		return ghc.Key{}, fmt.Errorf("read %s: %w (or pass --param key_id=N)", file, err)
	}
	signer, err := ssh.ParsePrivateKey(b)
	if err != nil {
		return ghc.Key{}, fmt.Errorf("%s does not parse as an unencrypted private key: pass --param key_id=N", file)
	}
	want := pubFingerprint(signer.PublicKey())
	for _, key := range keys {
		if redact.Fingerprint([]byte(strings.TrimSpace(key.Key))) == want {
			return key, nil
		}
	}
	return ghc.Key{}, fmt.Errorf("the key in %s is not registered there", file)
}

// keySinks: --param key_path=FILE (default: the file the private key was
// found in, on this machine) and --param actions_secret=REF.
func (k keyKind) sinks(rc *rotators.RunContext) ([]sink, error) {
	var out []sink
	file := rc.Param("key_path")
	if file == "" && rc.Credential.Kind == "ssh-private-key" {
		file, _ = sourceFile(rc)
	}
	if file != "" {
		out = append(out, keyFileSink{path: file})
	}
	ss, err := k.p.secretSinks(rc)
	if err != nil {
		return nil, err
	}
	for _, s := range ss {
		out = append(out, s)
	}
	return out, nil
}

func title(rc *rotators.RunContext) string { return "tourniquet " + rc.Run.ID }

// keyPlanAction finds the exposed key, lists the others, and checks there
// is a sink for the new private key before anything changes.
type keyPlanAction struct{ keyKind }

func (a keyPlanAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: find the exposed key %s and list the other keys", rc.Credential.Hint), nil
}

func (a keyPlanAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	ss, err := a.sinks(rc)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, fmt.Errorf("no sink for the new private key: pass --param key_path=FILE and/or --param actions_secret=OWNER/REPO/NAME")
	}
	api, err := a.api(rc)
	if err != nil {
		return nil, err
	}
	keys, err := api.list(ctx)
	if err != nil {
		return nil, classify("list keys", err)
	}
	old, err := a.oldKeyID(ctx, rc, keys)
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
	var known []any
	for _, key := range keys {
		known = append(known, float64(key.ID))
	}
	rc.Vars["known_keys"] = known
	rc.Vars["old_key_id"] = float64(old.ID)
	rc.Vars["old_read_only"] = old.ReadOnly
	rc.Vars["old_title"] = old.Title
	var to []string
	for _, s := range ss {
		to = append(to, s.Describe())
	}
	return rotators.Result{"key": api.what(), "old_key_id": old.ID, "title": old.Title, "read_only": old.ReadOnly, "keys": len(keys), "sinks": to}, nil
}

func (a keyPlanAction) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a keyPlanAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// keyCreateAction generates an ed25519 key and adds its public half (read-only
// unless the exposed deploy key was read-write). Keys this run added earlier
// whose private half was never delivered are lost: they are removed first.
type keyCreateAction struct{ keyKind }

func (a keyCreateAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	ro := "read-only"
	if v, ok := rc.Vars["old_read_only"].(bool); ok && !v {
		ro = "read-write, like the exposed key"
	}
	if !a.deploy {
		ro = "authentication key"
	}
	return fmt.Sprintf("generate an ed25519 key here and ADD its public half as a new key (%s) titled %q; the private key stays in memory until delivered", ro, title(rc)), nil
}

// removeLost deletes keys titled for this run that are not the delivered one.
func (a keyCreateAction) removeLost(ctx context.Context, rc *rotators.RunContext, api keyAPI) ([]int64, error) {
	keys, err := api.list(ctx)
	if err != nil {
		return nil, classify("list keys", err)
	}
	var removed []int64
	for _, key := range keys {
		if key.Title != title(rc) {
			continue
		}
		if rc.Var("delivered_fp") != "" && redact.Fingerprint([]byte(strings.TrimSpace(key.Key))) == rc.Var("delivered_fp") {
			continue
		}
		if err := api.remove(ctx, key.ID); err != nil {
			return nil, classify("remove lost key", err)
		}
		rc.Note("removed key %d: added by an earlier attempt whose private half was never delivered", key.ID)
		removed = append(removed, key.ID)
	}
	return removed, nil
}

func (a keyCreateAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	api, err := a.api(rc)
	if err != nil {
		return nil, err
	}
	removed, err := a.removeLost(ctx, rc, api)
	if err != nil {
		return nil, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, title(rc))
	if err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	ro := true
	if v, ok := rc.Vars["old_read_only"].(bool); ok {
		ro = v
	}
	key, err := api.create(ctx, title(rc), authorized, ro)
	if err != nil {
		return nil, classify("add the new key", err)
	}
	rc.Secrets.Put(secNewKey, redact.NewSecret(pem.EncodeToMemory(block)))
	rc.Vars["new_key_id"] = float64(key.ID)
	rc.Vars["new_fp"] = pubFingerprint(sshPub)
	delete(rc.Vars, "delivered_fp")
	delete(rc.Vars, "verified")
	return rotators.Result{"new_key_id": key.ID, "title": key.Title, "read_only": key.ReadOnly, "removed_lost": removed}, nil
}

// Reconcile: a key added by a process that died has lost its private half;
// remove it so Do adds a fresh one.
func (a keyCreateAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	api, err := a.api(rc)
	if err != nil {
		return nil, false, err
	}
	_, err = a.removeLost(ctx, rc, api)
	return nil, false, err
}

// keyDeliverAction writes the new private key to every sink.
type keyDeliverAction struct{ keyKind }

func (a keyDeliverAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	ss, err := a.sinks(rc)
	if err != nil {
		return "", err
	}
	var d []string
	for _, s := range ss {
		d = append(d, s.Describe())
	}
	return "write the new private key to " + strings.Join(d, " and "), nil
}

func (a keyDeliverAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	ss, err := a.sinks(rc)
	if err != nil {
		return nil, err
	}
	priv, ok := rc.Secrets.Get(secNewKey)
	if !ok {
		if res, done, err := a.Reconcile(ctx, rc); err != nil || done {
			return res, err
		}
		return nil, &rotators.Rewind{To: "create", Reason: "the new private key was lost before it was delivered (the process stopped); the key will be removed and made again"}
	}
	to, err := deliverAll(ctx, ss, priv, rc.Var("new_fp"))
	if err != nil {
		return nil, err
	}
	rc.Vars["delivered_fp"] = rc.Var("new_fp")
	return rotators.Result{"delivered": "key " + strconv.FormatInt(varInt(rc, "new_key_id"), 10), "to": to}, nil
}

func (a keyDeliverAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	ss, err := a.sinks(rc)
	if err != nil {
		return nil, false, err
	}
	ok, to, err := allHold(ctx, ss, rc.Var("new_fp"))
	if err != nil || !ok || rc.Var("new_fp") == "" {
		return nil, false, err
	}
	rc.Vars["delivered_fp"] = rc.Var("new_fp")
	return rotators.Result{"delivered": "key " + strconv.FormatInt(varInt(rc, "new_key_id"), 10), "to": to}, true, nil
}

// keyVerifyAction checks GitHub lists the new key (verified) and the sinks
// hold its private half.
type keyVerifyAction struct{ keyKind }

func (a keyVerifyAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return "read-only: GitHub lists the new key (verified) and every sink holds its private half", nil
}

func (a keyVerifyAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	api, err := a.api(rc)
	if err != nil {
		return nil, err
	}
	id := varInt(rc, "new_key_id")
	key, found, err := api.get(ctx, id)
	if err != nil {
		return nil, classify("read the new key", err)
	}
	if !found || redact.Fingerprint([]byte(strings.TrimSpace(key.Key))) != rc.Var("new_fp") {
		return nil, &rotators.Rewind{To: "create", Reason: fmt.Sprintf("key %d is not listed (removed by someone?)", id)}
	}
	if a.deploy && !key.Verified {
		return nil, fmt.Errorf("deploy key %d is listed but not verified", id)
	}
	ss, err := a.sinks(rc)
	if err != nil {
		return nil, err
	}
	if ok, _, err := allHold(ctx, ss, rc.Var("new_fp")); err != nil || !ok {
		return nil, fmt.Errorf("a sink no longer holds the new private key (%v)", err)
	}
	rc.Vars["verified"] = true
	return rotators.Result{"key": id, "verified": key.Verified}, nil
}

func (a keyVerifyAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// keyDeleteOldAction removes the exposed key, only after the new one is
// delivered and verified.
type keyDeleteOldAction struct{ keyKind }

func (a keyDeleteOldAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("DELETE the exposed key %d %q (%s): anything still using it fails from now on", varInt(rc, "old_key_id"), rc.Var("old_title"), rc.Credential.Hint), nil
}

func (a keyDeleteOldAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	if v, _ := rc.Vars["verified"].(bool); !v {
		return nil, fmt.Errorf("refusing to delete the exposed key before the new one is delivered and verified")
	}
	api, err := a.api(rc)
	if err != nil {
		return nil, err
	}
	id := varInt(rc, "old_key_id")
	if err := api.remove(ctx, id); err != nil {
		return nil, classify("delete the exposed key", err)
	}
	return rotators.Result{"deleted": id}, nil
}

// Reconcile: done when GitHub no longer has the key.
func (a keyDeleteOldAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	api, err := a.api(rc)
	if err != nil {
		return nil, false, err
	}
	id := varInt(rc, "old_key_id")
	_, found, err := api.get(ctx, id)
	if err != nil {
		return nil, false, classify("read the exposed key", err)
	}
	if found {
		return nil, false, nil
	}
	return rotators.Result{"deleted": id}, true, nil
}
