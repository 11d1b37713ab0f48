package github

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

const secGenerated = "github.generated_secret"

// secretTarget is the Actions secret a run rotates: --param secret=REF, or
// the credential's own path (github:OWNER/REPO/repo/NAME...).
func secretTarget(rc *rotators.RunContext) (ghc.SecretScope, string, error) {
	ref := rc.Param("secret")
	if ref == "" {
		ref = rc.Credential.Path
	}
	return ParseSecretRef(ref)
}

// secretPlanAction reads the secret's metadata and the scope's public key:
// nothing changes, but a token that cannot write the secret fails here.
type secretPlanAction struct{ p *Provider }

func (a secretPlanAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	scope, name, err := secretTarget(rc)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("read-only: read secret %s of %s (its dates; the value cannot be read) and the public key new values are sealed with", name, scope), nil
}

func (a secretPlanAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	scope, name, err := secretTarget(rc)
	if err != nil {
		return nil, err
	}
	c, err := a.p.client(rc)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.PublicKey(ctx, scope); err != nil {
		return nil, classify("read the public key of "+scope.String(), err)
	}
	m, found, err := c.Secret(ctx, scope, name)
	if err != nil {
		return nil, classify("read secret "+name, err)
	}
	before := time.Time{}
	if found {
		before = m.UpdatedAt
	}
	rc.Vars["secret_before"] = before.UTC().Format(time.RFC3339Nano)
	res := rotators.Result{"secret": name, "scope": scope.String(), "exists": found}
	if found {
		res["updated_at"] = m.UpdatedAt.UTC().Format(time.RFC3339)
		if m.Visibility != "" {
			res["visibility"] = m.Visibility
		}
	}
	return res, nil
}

func (a secretPlanAction) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a secretPlanAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// newValue is the operator's value (--secret-from / console prompt), else a
// generated one when --param generate=N asks for it (N random bytes,
// base64url): for secrets only GitHub uses.
func newValue(rc *rotators.RunContext) (redact.Secret, bool, error) {
	if v, ok := rc.Inputs.Get(inNewSecret); ok && !v.IsZero() {
		return v, false, nil
	}
	g := rc.Param("generate")
	if g == "" {
		return redact.Secret{}, false, fmt.Errorf("no new value: issue the replacement where it comes from and resume with --secret-from FILE|env:VAR (or type it in the console), or --param generate=32 for a value only GitHub uses")
	}
	if v, ok := rc.Secrets.Get(secGenerated); ok {
		return v, true, nil
	}
	n, err := strconv.Atoi(g)
	if err != nil || n < 16 || n > 256 {
		return redact.Secret{}, false, fmt.Errorf("--param generate=%q: want a byte count from 16 to 256", g)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return redact.Secret{}, false, err
	}
	v := redact.NewSecretString(base64.RawURLEncoding.EncodeToString(b))
	rc.Secrets.Put(secGenerated, v)
	return v, true, nil
}

// secretPutAction seals the new value and writes it (PUT is an upsert:
// writing the same value twice is harmless).
type secretPutAction struct{ p *Provider }

func (a secretPutAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	scope, name, err := secretTarget(rc)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("REPLACE the value of secret %s of %s with the new one, sealed with its public key (the old value is gone for good; runs started before keep it)", name, scope), nil
}

func (a secretPutAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	scope, name, err := secretTarget(rc)
	if err != nil {
		return nil, err
	}
	v, generated, err := newValue(rc)
	if err != nil {
		return nil, err
	}
	c, err := a.p.client(rc)
	if err != nil {
		return nil, err
	}
	if err := putSecret(ctx, c, scope, name, v); err != nil {
		return nil, err
	}
	rc.Vars["new_fp"] = v.Fingerprint()
	return rotators.Result{"secret": name, "scope": scope.String(), "generated": generated}, nil
}

// Reconcile asks GitHub: written when updated_at moved past the value seen
// at plan time.
func (a secretPutAction) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	ok, err := a.p.secretUpdated(ctx, rc)
	if err != nil || !ok {
		return nil, false, err
	}
	scope, name, _ := secretTarget(rc)
	return rotators.Result{"secret": name, "scope": scope.String(), "reconciled": true}, true, nil
}

func (p *Provider) secretUpdated(ctx context.Context, rc *rotators.RunContext) (bool, error) {
	scope, name, err := secretTarget(rc)
	if err != nil {
		return false, err
	}
	c, err := p.client(rc)
	if err != nil {
		return false, err
	}
	m, found, err := c.Secret(ctx, scope, name)
	if err != nil {
		return false, classify("read secret "+name, err)
	}
	before, _ := time.Parse(time.RFC3339Nano, rc.Var("secret_before"))
	return found && m.UpdatedAt.After(before), nil
}

// secretVerifyAction checks GitHub holds a newer value than before.
type secretVerifyAction struct{ p *Provider }

func (a secretVerifyAction) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return "read-only: the secret's updated_at must be after the value seen at plan time (the value itself cannot be read)", nil
}

func (a secretVerifyAction) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	ok, err := a.p.secretUpdated(ctx, rc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("GitHub still reports the secret's old updated_at (%s): the write did not land", rc.Var("secret_before"))
	}
	return rotators.Result{"updated": true}, nil
}

func (a secretVerifyAction) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}
