package aws

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators/aws/awstest"
	"github.com/tourniquet-ir/tourniquet/rotators/sinks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// env is one emulated AWS account with an exposed key recorded in a store.
type env struct {
	t                     *testing.T
	proxy                 *awstest.Proxy
	adminID, adminSecret  string
	exposedID, exposedSec string
	credFile              string
	st                    *store.Store
	credID                string
	provider              *Provider
}

func newEnv(t *testing.T, user string) *env {
	t.Helper()
	ctx := context.Background()
	moto := awstest.StartMoto(t)
	e := &env{t: t, proxy: awstest.NewProxy(t, moto.URL)}
	e.adminID, e.adminSecret = e.proxy.Bootstrap(ctx, t, "admin")
	e.exposedID, e.exposedSec = e.proxy.Bootstrap(ctx, t, user)
	dir := t.TempDir()
	e.credFile = filepath.Join(dir, ".aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(e.credFile), 0o700); err != nil {
		t.Fatal(err)
	}
	content := "# keep me\n[other]\naws_access_key_id = AKIAOTHEROTHER000001\naws_secret_access_key = otherother\n\n[default]\naws_access_key_id = " +
		e.exposedID + "\naws_secret_access_key = " + e.exposedSec + "\n"
	if err := os.WriteFile(e.credFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	e.credID = "c-aws1"
	ws := time.Now().Add(-time.Hour)
	err = st.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Name: "web-01", Root: "/", WindowStart: &ws, WindowOpen: true, Verdict: store.VerdictCompromised})
		if err != nil {
			return err
		}
		sec := redact.NewSecretString(e.exposedSec)
		_, err = tx.UpsertCredential(ctx, hid, store.Credential{ID: e.credID, Kind: "aws-access-key", Path: e.credFile, Detail: "profile default",
			Fingerprint: sec.Fingerprint(), Hint: redact.Hint(e.exposedID), Exposure: store.Exposed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.provider = New(Options{Load: func(ctx context.Context, creds aws.CredentialsProvider) (aws.Config, error) {
		cfg := e.proxy.AWSConfig(ctx, e.adminID, e.adminSecret)
		if creds != nil {
			cfg.Credentials = creds
		}
		cfg.Retryer = fastRetryer
		return cfg, nil
	}})
	return e
}

// fastRetryer is the SDK's standard retryer with its backoff cut to
// milliseconds: the same decisions, without the seconds of waiting.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 20 * time.Millisecond })
}

func (e *env) engine() *playbooks.Engine {
	return &playbooks.Engine{Store: e.st, Actions: e.provider.Actions(), Yes: true, Backoff: 10 * time.Millisecond}
}

func (e *env) iam() *iam.Client {
	return iam.NewFromConfig(e.proxy.AWSConfig(context.Background(), e.adminID, e.adminSecret))
}

// assertRotated checks the end state every run must reach: exactly one key,
// active, not the exposed one, delivered into the profile (other profiles
// kept), accepted by STS; the exposed key refused; no secret in the DB.
func (e *env) assertRotated(user string) string {
	t := e.t
	t.Helper()
	ctx := context.Background()
	out, err := e.iam().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AccessKeyMetadata) != 1 {
		t.Fatalf("user %s has %d keys after rotation, want exactly 1", user, len(out.AccessKeyMetadata))
	}
	k := out.AccessKeyMetadata[0]
	newID := aws.ToString(k.AccessKeyId)
	if newID == e.exposedID || k.Status != "Active" {
		t.Fatalf("remaining key %s is %s (exposed: %v)", redact.Hint(newID), k.Status, newID == e.exposedID)
	}
	gotID, gotSec, err := sinks.AWSProfile{Path: e.credFile, Profile: "default"}.Current(ctx)
	if err != nil || gotID != newID {
		t.Fatalf("profile default holds %s (%v), want the new key %s", redact.Hint(gotID), err, redact.Hint(newID))
	}
	if b, _ := os.ReadFile(e.credFile); !bytes.Contains(b, []byte("# keep me\n[other]\naws_access_key_id = AKIAOTHEROTHER000001")) {
		t.Errorf("the other profile or the comment was not kept:\n%s", b)
	}
	stsNew := sts.NewFromConfig(e.proxy.AWSConfig(ctx, gotID, string(gotSec.Reveal())))
	deadline := time.Now().Add(10 * time.Second)
	for {
		id, err := stsNew.GetCallerIdentity(ctx, nil)
		if err == nil {
			if !strings.HasSuffix(aws.ToString(id.Arn), ":user/"+user) {
				t.Errorf("new key is %s", aws.ToString(id.Arn))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivered key does not work: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := sts.NewFromConfig(e.proxy.AWSConfig(ctx, e.exposedID, e.exposedSec)).GetCallerIdentity(ctx, nil); err == nil {
		t.Error("the exposed key still works")
	}
	e.assertNoSecretInDB(gotSec.Reveal())
	return newID
}

func (e *env) assertNoSecretInDB(extra ...[]byte) {
	e.t.Helper()
	secrets := append([][]byte{[]byte(e.exposedSec)}, extra...)
	for _, p := range []string{e.st.Path(), e.st.Path() + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if len(s) > 0 && bytes.Contains(b, s) {
				e.t.Errorf("%s contains a secret", filepath.Base(p))
			}
		}
		if bytes.Contains(b, []byte(e.exposedID)) {
			e.t.Errorf("%s contains the full exposed access key ID", filepath.Base(p))
		}
	}
}

// oldTouchedAfterVerify checks the ordering rule from the proxy's record: the
// exposed key is deactivated or deleted only after the new key has made a
// successful call.
func (e *env) oldTouchedAfterVerify() {
	e.t.Helper()
	firstNewOK, firstOldChange := -1, -1
	for i, ev := range e.proxy.Events() {
		if ev.Name == "GetCallerIdentity" && ev.ErrorCode == "" && ev.AccessKeyID != e.exposedID && ev.AccessKeyID != e.adminID && firstNewOK < 0 {
			firstNewOK = i
		}
		if (ev.Name == "UpdateAccessKey" || ev.Name == "DeleteAccessKey") && ev.ErrorCode == "" {
			for _, r := range ev.Resources {
				if r.Name == e.exposedID && firstOldChange < 0 {
					firstOldChange = i
				}
			}
		}
	}
	if firstOldChange >= 0 && (firstNewOK < 0 || firstOldChange < firstNewOK) {
		e.t.Errorf("the exposed key was changed (event %d) before the new key was verified (event %d)", firstOldChange, firstNewOK)
	}
}

func TestRotateAccessKeyEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "app")
	e.proxy.SetPropagationDelay(1500 * time.Millisecond)
	e.proxy.AddEvent(awstest.Event{Name: "ListSecrets", Source: "secretsmanager.amazonaws.com", AccessKeyID: e.exposedID, Username: "app",
		SourceIP: "83.142.209.11", UserAgent: "Python-urllib/3.11", Region: "us-east-1", Time: time.Now().Add(-10 * time.Minute), ReadOnly: true})
	pb, err := playbooks.Find("aws-access-key")
	if err != nil {
		t.Fatal(err)
	}
	eng := e.engine()
	var events []playbooks.Event
	eng.OnEvent = func(ev playbooks.Event) { events = append(events, ev) }
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "20s"})
	if err != nil || state != store.RunDone {
		t.Fatalf("run = %s, %v", state, err)
	}
	e.assertRotated("app")
	e.oldTouchedAfterVerify()
	run, err := e.st.GetRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range run.Steps {
		want := store.StepDone
		if s.Name == "revoke-sessions" {
			want = store.StepSkipped
		}
		if s.State != want {
			t.Errorf("step %s is %s, want %s", s.Name, s.State, want)
		}
	}
	fs, err := e.st.Findings(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fs {
		if f.Rule == "cloudtrail-key-use" && strings.Contains(f.Detail, "83.142.209.11") && strings.Contains(f.Detail, "Python-urllib") {
			found = true
		}
	}
	if !found {
		t.Errorf("CloudTrail evidence of the attacker's call was not recorded: %+v", fs)
	}
	c, _, _ := e.st.Credential(ctx, e.credID)
	if c.Rotation != store.RotationRotated {
		t.Errorf("credential rotation %s", c.Rotation)
	}
	if v, err := e.st.VerifyAudit(ctx); err != nil || !v.OK {
		t.Errorf("audit %+v %v", v, err)
	}
}

func TestMakeRoomRemovesAttackerKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "svc")
	// The attacker added a second key inside the window.
	attackerID, _ := e.proxy.Bootstrap(ctx, t, "svc")
	pb, _ := playbooks.Find("aws-access-key")
	eng := e.engine()
	eng.Yes = false
	eng.Confirm = map[string]bool{}
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "20s"})
	if err != nil || state != store.RunAwaitingApproval {
		t.Fatalf("run = %s, %v; want a pause before deleting anything", state, err)
	}
	run, _ := e.st.GetRun(ctx, id)
	if run.Steps[2].Name != "make-room" || run.Steps[2].State != store.StepAwaitingApproval {
		t.Fatalf("paused at %s (%s)", run.Steps[2].Name, run.Steps[2].State)
	}
	eng.Yes = true
	if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	newID := e.assertRotated("svc")
	if newID == attackerID {
		t.Error("the attacker's key survived")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "dry")
	pb, _ := playbooks.Find("aws-access-key")
	before, _ := os.ReadFile(e.credFile)
	plan, err := e.engine().Plan(ctx, pb, e.credID, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != len(pb.Steps) || !strings.Contains(plan[6].Change, "DEACTIVATE") {
		t.Errorf("plan %+v", plan)
	}
	after, _ := os.ReadFile(e.credFile)
	out, _ := e.iam().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("dry")})
	if !bytes.Equal(before, after) || len(out.AccessKeyMetadata) != 1 || e.proxy.Calls("CreateAccessKey") != 0 {
		t.Error("a dry run changed something")
	}
	runs, _ := e.st.Runs(ctx, "default")
	if len(runs) != 0 {
		t.Error("a dry run recorded a run")
	}
}

// TestProviderFaultsPauseThenResume: 5xx beyond the SDK's retries pause the
// run; resume finishes it with exactly one new key.
func TestProviderFaultsPauseThenResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "flaky")
	e.proxy.FailNext("CreateAccessKey", 503, "ServiceUnavailable", 12)
	pb, _ := playbooks.Find("aws-access-key")
	eng := e.engine()
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "20s"})
	if state != store.RunPaused || err == nil {
		t.Fatalf("during an outage: %s, %v; want paused", state, err)
	}
	if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	e.assertRotated("flaky")
}

// TestDroppedCreateAnswerLeavesNoExtraKey: CreateAccessKey takes effect but
// its answer is lost (the create-before-record gap). The run must not end
// with a key nobody holds.
func TestDroppedCreateAnswerLeavesNoExtraKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "gap")
	e.proxy.DropNext("CreateAccessKey", 1)
	pb, _ := playbooks.Find("aws-access-key")
	eng := e.engine()
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "20s"})
	if state != store.RunDone {
		// The SDK's retry may hit the two-key limit; a resume cleans up.
		if state, err = eng.Resume(ctx, id); err != nil || state != store.RunDone {
			t.Fatalf("resume = %s, %v", state, err)
		}
	}
	_ = err
	e.assertRotated("gap")
}

// TestNoSinkFailsBeforeAnyChange: a key found in an app's .env file has no
// default sink; the run fails at the plan step, before a key is created.
func TestNoSinkFailsBeforeAnyChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "nosink")
	envFile := filepath.Join(filepath.Dir(filepath.Dir(e.credFile)), "app.env")
	if err := os.WriteFile(envFile, []byte("AWS_ACCESS_KEY_ID="+e.exposedID+"\nAWS_SECRET_ACCESS_KEY="+e.exposedSec+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, h, err := e.st.Credential(ctx, e.credID)
	if err != nil {
		t.Fatal(err)
	}
	c.ID, c.Path, c.Detail = "c-env", envFile, "line 1"
	err = e.st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.UpsertCredential(ctx, h.ID, c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := playbooks.Find("aws-access-key")
	_, state, err := e.engine().Start(ctx, "default", pb, "c-env", map[string]any{})
	if state != store.RunFailed || err == nil || !strings.Contains(err.Error(), "no sink for the new key") {
		t.Fatalf("run = %s, %v; want a failure naming the missing sink", state, err)
	}
	if n := e.proxy.Calls("CreateAccessKey"); n != 0 {
		t.Errorf("%d keys were created before the missing sink was noticed", n)
	}
}

// TestSelfUsesTheExposedKey: with --self the run acts with the exposed key
// itself (the operator has no credentials here: any operator call fails).
func TestSelfUsesTheExposedKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "selfie")
	e.provider = New(Options{Load: func(ctx context.Context, creds aws.CredentialsProvider) (aws.Config, error) {
		if creds == nil {
			return aws.Config{}, errors.New("no operator credentials in this test")
		}
		cfg := e.proxy.AWSConfig(ctx, "", "")
		cfg.Credentials = creds
		cfg.Retryer = fastRetryer
		return cfg, nil
	}})
	pb, _ := playbooks.Find("aws-access-key")
	_, state, err := e.engine().Start(ctx, "default", pb, e.credID, map[string]any{"self": true, "verify_timeout": "20s"})
	if err != nil || state != store.RunDone {
		t.Fatalf("run with --self = %s, %v", state, err)
	}
	signedByExposed := 0
	for _, ev := range e.proxy.Events() { // the run's calls, before this test's own checks
		if ev.AccessKeyID == e.exposedID {
			signedByExposed++
		}
		if ev.AccessKeyID == e.adminID {
			t.Errorf("%s was signed with the operator's key under --self", ev.Name)
		}
	}
	if signedByExposed == 0 {
		t.Error("no call was made with the exposed key")
	}
	e.assertRotated("selfie")
}

// TestThrottlingBeyondRetriesPauses: IAM throttles longer than the SDK's
// three attempts and the engine's retries; the run pauses, state intact, and
// a resume finishes it with exactly one new key.
func TestThrottlingBeyondRetriesPauses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "throttled")
	e.proxy.FailNext("ListAccessKeys", 400, "Throttling", 12)
	pb, _ := playbooks.Find("aws-access-key")
	eng := e.engine()
	id, state, err := eng.Start(ctx, "default", pb, e.credID, map[string]any{"verify_timeout": "20s"})
	if state != store.RunPaused || err == nil || !strings.Contains(err.Error(), "Throttling") {
		t.Fatalf("under throttling: %s, %v; want paused", state, err)
	}
	run, _ := e.st.GetRun(ctx, id)
	if run.Steps[0].State != store.StepIntent {
		t.Errorf("plan step is %s after the pause, want intent (resumable)", run.Steps[0].State)
	}
	for e.proxy.Calls("ListAccessKeys") < 12 {
		// drain the remaining faults as a long throttling episode would
		e.iam().ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("throttled")})
	}
	if state, err := eng.Resume(ctx, id); err != nil || state != store.RunDone {
		t.Fatalf("resume = %s, %v", state, err)
	}
	e.assertRotated("throttled")
}
