package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/tourniquet-ir/tourniquet/rotators/aws/awstest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// TestTwoProcessesOneRun: while one process runs a rotation (held in its
// verification step by IAM's propagation delay), a second process on the
// same database tries to resume the same run, and a third to start a new
// run for the same credential. Neither may run a step twice or corrupt the
// store: the resume is refused with a clear message naming the holder,
// the first run finishes, and IAM ends with exactly one new key.
func TestTwoProcessesOneRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts moto")
	}
	bin := buildCrashBinary(t)
	moto := awstest.StartMoto(t)
	proxy := awstest.NewProxy(t, moto.URL)
	proxy.SetPropagationDelay(4 * time.Second)
	ctx := context.Background()
	adminID, adminSecret := proxy.Bootstrap(ctx, t, "admin")
	exposedID, exposedSecret := proxy.Bootstrap(ctx, t, "twoproc")
	dir := t.TempDir()
	credFile := filepath.Join(dir, "home", ".aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(credFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credFile, []byte("[default]\naws_access_key_id = "+exposedID+"\naws_secret_access_key = "+exposedSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "t.db")
	credID := seedAWSCredential(t, db, credFile, exposedID, exposedSecret)
	env := append(os.Environ(),
		"TOURNIQUET_DB="+db, "HOME="+filepath.Join(dir, "home"),
		"AWS_ACCESS_KEY_ID="+adminID, "AWS_SECRET_ACCESS_KEY="+adminSecret, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	common := []string{"--aws-endpoint-url", proxy.URL, "--json", "--yes"}

	first := exec.Command(bin, append([]string{"playbook", "run", "aws-access-key", "--credential", credID, "--param", "verify_timeout=30s"}, common...)...)
	first.Env = env
	var out1 bytes.Buffer
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the first process is inside a step (its run holds the lease).
	var runID string
	deadline := time.Now().Add(20 * time.Second)
	for runID == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the first run never started:\n%s", out1.String())
		}
		time.Sleep(100 * time.Millisecond)
		st, err := store.Open(ctx, db)
		if err != nil {
			continue
		}
		if runs, err := st.Runs(ctx, "default"); err == nil && len(runs) == 1 {
			if r, err := st.GetRun(ctx, runs[0].ID); err == nil && r.LeaseOwner != "" {
				for _, s := range r.Steps {
					if s.Name == "verify" && s.State != "pending" {
						runID = r.ID
					}
				}
			}
		}
		st.Close()
	}

	second := exec.Command(bin, append([]string{"playbook", "resume", runID}, common...)...)
	second.Env = env
	out2, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("a second process resumed a run another process holds:\n%s", out2)
	}
	if !strings.Contains(string(out2), "holds it") {
		t.Errorf("the refusal does not say who holds the run:\n%s", out2)
	}
	third := exec.Command(bin, append([]string{"playbook", "run", "aws-access-key", "--credential", credID, "--param", "verify_timeout=30s"}, common...)...)
	third.Env = env
	out3, err := third.CombinedOutput()
	if err == nil {
		t.Errorf("a second rotation of a credential already being rotated was started:\n%s", out3)
	}

	if err := first.Wait(); err != nil {
		t.Fatalf("the first run: %v\n%s", err, out1.String())
	}
	admin := iam.NewFromConfig(proxy.AWSConfig(ctx, adminID, adminSecret))
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("twoproc")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) == exposedID {
		t.Errorf("IAM holds %d keys after the run", len(keys.AccessKeyMetadata))
	}
	if out, err := exec.Command(bin, "--db", db, "audit", "verify").CombinedOutput(); err != nil {
		t.Errorf("audit verify: %v %s", err, out)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.GetRun(ctx, runID)
	if err != nil || r.State != store.RunDone {
		t.Fatalf("run %s: %v", r.State, err)
	}
	evs, _ := st.AuditEvents(ctx, 0, 0)
	done := map[string]int{}
	for _, ev := range evs {
		if ev.Kind == "step.done" {
			done[ev.Subject]++
		}
	}
	for s, n := range done {
		if n != 1 {
			t.Errorf("step %s done %d times", s, n)
		}
	}
}
