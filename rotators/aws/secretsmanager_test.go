package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

func (e *env) sm() *secretsmanager.Client {
	return secretsmanager.NewFromConfig(e.proxy.AWSConfig(context.Background(), e.adminID, e.adminSecret))
}

// TestSecretsManagerStaging rotates a secret through AWSPENDING to
// AWSCURRENT with an operator-supplied value, dying once right after
// PutSecretValue took effect: resume finds the pending version by its token
// instead of creating a second one.
func TestSecretsManagerStaging(t *testing.T) {
	t.Parallel()
	smStagingCase(t, "create-pending:after-do")
}

// TestSecretsManagerKillResume: the staging playbook killed at every
// boundary of every step and resumed ends as an uninterrupted run: the new
// value AWSCURRENT, the old AWSPREVIOUS, exactly two versions, nothing left
// pending, no secret in the DB.
func TestSecretsManagerKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto per case")
	}
	t.Parallel()
	pb, err := playbooks.Find("aws-secretsmanager-secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range pb.Steps {
		if s.Action == "" {
			continue
		}
		for _, p := range []string{"before-intent", "after-intent", "after-do", "after-record"} {
			t.Run(s.ID+":"+p, func(t *testing.T) {
				t.Parallel()
				smStagingCase(t, s.ID+":"+p)
			})
		}
	}
}

func smStagingCase(t *testing.T, crashAt string) {
	ctx := context.Background()
	e := newEnv(t, "smuser")
	old := "old-db-password-1234"
	if _, err := e.sm().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String(old)}); err != nil {
		t.Fatal(err)
	}
	cred, host, err := e.st.Credential(ctx, e.credID)
	if err != nil {
		t.Fatal(err)
	}
	cred.ID, cred.Kind, cred.Detail = "c-db", "database-password", "line 1"
	cred.Path, cred.Fingerprint, cred.Hint = "/home/app/.pgpass", redact.Fingerprint([]byte(old)), redact.Hint(old)
	if err := e.st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.UpsertCredential(ctx, host.ID, cred)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pb, err := playbooks.Find("aws-secretsmanager-secret")
	if err != nil {
		t.Fatal(err)
	}
	newValue := "new-db-password-5678-from-operator"
	eng := e.engine()
	eng.Inputs = &rotators.Secrets{}
	eng.Inputs.Put("new_secret", redact.NewSecretString(newValue))
	crashed := false
	eng.CrashHook = func(step, point string) {
		if step+":"+point == crashAt && !crashed {
			crashed = true
			panic("crash")
		}
	}
	params := map[string]any{"sm_secret": "prod/db"}
	func() {
		defer func() { _ = recover() }()
		_, _, _ = eng.Start(ctx, "default", pb, "c-db", params)
	}()
	runs, _ := e.st.Runs(ctx, "default")
	if len(runs) != 1 || !crashed {
		t.Fatalf("setup: %d runs, crashed %v", len(runs), crashed)
	}
	// A fresh engine, as after a restart; the operator gives --secret-from again.
	res := e.engine()
	res.Inputs = &rotators.Secrets{}
	res.Inputs.Put("new_secret", redact.NewSecretString(newValue))
	state, err := res.Resume(ctx, runs[0].ID)
	if err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	// Ask for AWSCURRENT explicitly: moto's default version does not follow
	// UpdateSecretVersionStage (real Secrets Manager returns AWSCURRENT).
	cur, err := e.sm().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db"), VersionStage: aws.String("AWSCURRENT")})
	if err != nil || aws.ToString(cur.SecretString) != newValue {
		t.Fatalf("AWSCURRENT does not hold the new value (%v)", err)
	}
	prev, err := e.sm().GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(prev.SecretString) != old {
		t.Errorf("AWSPREVIOUS does not hold the old value (%v)", err)
	}
	desc, err := e.sm().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.VersionIdsToStages) != 2 {
		t.Errorf("%d versions, want 2 (no duplicate pending version after the crash): %v", len(desc.VersionIdsToStages), desc.VersionIdsToStages)
	}
	for id, stages := range desc.VersionIdsToStages {
		if has(stages, stagePending) {
			t.Errorf("version %s still AWSPENDING", id)
		}
	}
	e.assertNoSecretInDB([]byte(newValue), []byte(old))
}
