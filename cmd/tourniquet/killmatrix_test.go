package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators/aws/awstest"
	"github.com/tourniquet-ir/tourniquet/store"
)

var (
	crashBinOnce sync.Once
	crashBin     string
	crashBinErr  error
)

// buildCrashBinary builds tourniquet with the crashtest tag: the binary
// SIGKILLs itself at the step boundary TOURNIQUET_CRASH_AT names.
func buildCrashBinary(t *testing.T) string {
	t.Helper()
	crashBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tq-crash-")
		if err != nil {
			crashBinErr = err
			return
		}
		crashBin = filepath.Join(dir, "tourniquet")
		out, err := exec.Command("go", "build", "-tags", "crashtest", "-o", crashBin, ".").CombinedOutput()
		if err != nil {
			crashBinErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if crashBinErr != nil {
		t.Fatal(crashBinErr)
	}
	return crashBin
}

// TestKillMatrix kills the real binary at every boundary of every step of
// the AWS access key playbook, and after a provider call whose outcome was
// not yet recorded, then resumes it. Every case must end the same way as an
// uninterrupted run.
func TestKillMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("kill matrix: skipped with -short")
	}
	bin := buildCrashBinary(t)
	moto := awstest.StartMoto(t)
	proxy := awstest.NewProxy(t, moto.URL)
	proxy.SetPropagationDelay(time.Second)
	ctx := context.Background()
	adminID, adminSecret := proxy.Bootstrap(ctx, t, "admin")
	pb, err := playbooks.Find("aws-access-key")
	if err != nil {
		t.Fatal(err)
	}
	points := []string{"before-intent", "after-intent", "after-do", "after-record"}
	for _, step := range pb.Steps {
		for _, point := range points {
			name := step.ID + ":" + point
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				user := "km-" + strings.ReplaceAll(step.ID+"-"+point, ":", "-")
				killCase(t, bin, proxy, adminID, adminSecret, user, name)
			})
		}
	}
}

func killCase(t *testing.T, bin string, proxy *awstest.Proxy, adminID, adminSecret, user, crashAt string) {
	ctx := context.Background()
	admin := iam.NewFromConfig(proxy.AWSConfig(ctx, adminID, adminSecret))
	exposedID, exposedSecret := proxy.Bootstrap(ctx, t, user)
	// A second, inactive key so that make-room has work to do.
	spareID, _ := proxy.Bootstrap(ctx, t, user)
	if _, err := admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(spareID), Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
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
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	)
	common := []string{"--aws-endpoint-url", proxy.URL, "--json", "--yes"}
	cmd := exec.Command(bin, append([]string{"playbook", "run", "aws-access-key", "--credential", credID,
		"--with", "revoke-sessions", "--param", "verify_timeout=30s"}, common...)...)
	cmd.Env = append(env, "TOURNIQUET_CRASH_AT="+crashAt)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	killed := errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled()
	if !killed {
		t.Fatalf("the run was not killed at %s (err %v):\n%s", crashAt, err, out.String())
	}
	runID := onlyRun(t, db)
	resume := exec.Command(bin, append([]string{"playbook", "resume", runID}, common...)...)
	resume.Env = env
	var rout bytes.Buffer
	resume.Stdout, resume.Stderr = &rout, &rout
	if err := resume.Run(); err != nil {
		t.Fatalf("resume after a kill at %s: %v\n%s", crashAt, err, rout.String())
	}
	if !strings.Contains(rout.String(), `"type":"run.finished"`) || !strings.Contains(rout.String(), `"state":"done"`) {
		t.Fatalf("resume did not finish:\n%s", rout.String())
	}

	// Exactly one key, new, active; the spare and the exposed key gone.
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("user has %d keys, want 1", len(keys.AccessKeyMetadata))
	}
	newID := aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId)
	if newID == exposedID || newID == spareID || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeActive {
		t.Fatalf("the remaining key is not a new active key")
	}
	// The real AWS CLI reads the new key back from the file.
	gotID, gotSecret := awsConfigureGet(t, credFile)
	if gotID != newID {
		t.Fatalf("aws configure get reads %s, want %s", redact.Hint(gotID), redact.Hint(newID))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := sts.NewFromConfig(proxy.AWSConfig(ctx, gotID, gotSecret)).GetCallerIdentity(ctx, nil)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivered key does not work: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The exposed key was changed only after the new key proved itself.
	firstOK, firstChange := -1, -1
	for i, ev := range proxy.Events() {
		if ev.Name == "GetCallerIdentity" && ev.ErrorCode == "" && ev.AccessKeyID != exposedID && ev.AccessKeyID != adminID && ev.Username == user && firstOK < 0 {
			firstOK = i
		}
		if (ev.Name == "UpdateAccessKey" || ev.Name == "DeleteAccessKey") && ev.ErrorCode == "" {
			for _, r := range ev.Resources {
				if r.Name == exposedID && firstChange < 0 {
					firstChange = i
				}
			}
		}
	}
	if firstChange < 0 || firstOK < 0 || firstChange < firstOK {
		t.Errorf("exposed key changed at event %d, new key first verified at %d", firstChange, firstOK)
	}
	for _, p := range []string{db, db + "-wal"} {
		b, _ := os.ReadFile(p)
		for _, s := range []string{exposedSecret, gotSecret, exposedID, newID} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains a secret or full key ID (%s)", filepath.Base(p), redact.Hint(s))
			}
		}
	}
	if bytes.Contains(out.Bytes(), []byte(exposedSecret)) || bytes.Contains(rout.Bytes(), []byte(gotSecret)) {
		t.Error("a secret reached the --json output")
	}
}

func seedAWSCredential(t *testing.T, db, credFile, keyID, secret string) string {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws := time.Now().Add(-24 * time.Hour)
	id := "c-kill"
	err = st.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Name: "web-01", Root: "/", WindowStart: &ws, WindowOpen: true, Verdict: store.VerdictCompromised})
		if err != nil {
			return err
		}
		sec := redact.NewSecretString(secret)
		_, err = tx.UpsertCredential(ctx, hid, store.Credential{ID: id, Kind: "aws-access-key", Path: credFile, Detail: "profile default",
			Fingerprint: sec.Fingerprint(), Hint: redact.Hint(keyID), Exposure: store.Exposed})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func onlyRun(t *testing.T, db string) string {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var id string
	if err := conn.QueryRow("SELECT id FROM playbook_runs").Scan(&id); err != nil {
		t.Fatalf("no run recorded before the kill: %v", err)
	}
	return id
}

// awsConfigureGet reads the default profile back with the real AWS CLI.
func awsConfigureGet(t *testing.T, credFile string) (string, string) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("TOURNIQUET_REQUIRE_PEERS") == "1" {
			t.Fatal("the aws CLI is required (TOURNIQUET_REQUIRE_PEERS=1)")
		}
		t.Skip("the aws CLI is not installed")
	}
	get := func(key string) string {
		c := exec.Command("aws", "configure", "get", key, "--profile", "default")
		c.Env = append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+credFile, "AWS_CONFIG_FILE=/dev/null")
		b, err := c.Output()
		if err != nil {
			t.Fatalf("aws configure get %s: %v", key, err)
		}
		return strings.TrimSpace(string(b))
	}
	return get("aws_access_key_id"), get("aws_secret_access_key")
}

// TestPlaybookApprovalsHeadless drives a rotation the way a script does:
// --json events, exit 8 at each destructive step, --confirm to go on.
func TestPlaybookApprovalsHeadless(t *testing.T) {
	if testing.Short() {
		t.Skip("needs moto")
	}
	bin := buildCrashBinary(t) // without TOURNIQUET_CRASH_AT it behaves as the real binary
	moto := awstest.StartMoto(t)
	proxy := awstest.NewProxy(t, moto.URL)
	ctx := context.Background()
	adminID, adminSecret := proxy.Bootstrap(ctx, t, "admin")
	exposedID, exposedSecret := proxy.Bootstrap(ctx, t, "headless")
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
	env := append(os.Environ(), "TOURNIQUET_DB="+db, "HOME="+filepath.Join(dir, "home"),
		"AWS_ACCESS_KEY_ID="+adminID, "AWS_SECRET_ACCESS_KEY="+adminSecret, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	run := func(args ...string) (int, []map[string]any) {
		t.Helper()
		c := exec.Command(bin, append(args, "--aws-endpoint-url", proxy.URL)...)
		c.Env = env
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		err := c.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		var events []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var ev map[string]any
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("--json printed a line that is not JSON: %q (stderr %s)", line, errb.String())
			}
			events = append(events, ev)
		}
		return code, events
	}
	waiting := func(events []map[string]any) string {
		for _, ev := range events {
			if ev["type"] == "step.awaiting_approval" {
				return ev["step"].(string)
			}
		}
		return ""
	}
	code, events := run("playbook", "run", "aws-access-key", "--credential", credID, "--json", "--param", "verify_timeout=30s")
	if code != exitApproval || waiting(events) != "deactivate-old" {
		t.Fatalf("run: exit %d, waiting at %q; want 8 at deactivate-old", code, waiting(events))
	}
	runID, _ := events[0]["run"].(string)
	code, events = run("playbook", "resume", runID, "--json", "--confirm", "deactivate-old")
	if code != exitApproval || waiting(events) != "delete-old" {
		t.Fatalf("resume 1: exit %d, waiting at %q; want 8 at delete-old", code, waiting(events))
	}
	code, events = run("playbook", "resume", runID, "--json", "--confirm", "delete-old")
	if code != exitOK || events[len(events)-1]["state"] != store.RunDone {
		t.Fatalf("resume 2: exit %d, last event %v", code, events[len(events)-1])
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.GetRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Steps {
		if (s.Name == "deactivate-old" || s.Name == "delete-old") && !strings.Contains(s.ApprovedBy, "--confirm") {
			t.Errorf("step %s approved_by %q: who approved is not recorded", s.Name, s.ApprovedBy)
		}
	}
}
