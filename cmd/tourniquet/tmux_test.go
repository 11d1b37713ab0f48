package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators/aws/awstest"
)

// tmuxSession drives the real binary in a real terminal.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func (s tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s tmuxSession) keys(k ...string) { s.run(append([]string{"send-keys", "-t", "tq"}, k...)...) }

func (s tmuxSession) screen() string { return s.run("capture-pane", "-t", "tq", "-p") }

// requireTmux skips the test without tmux (fails it under
// TOURNIQUET_REQUIRE_PEERS=1).
func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("TOURNIQUET_REQUIRE_PEERS") == "1" {
			t.Fatal("tmux is required (TOURNIQUET_REQUIRE_PEERS=1)")
		}
		t.Skip("tmux is not installed")
	}
}

// startTmux runs cmdline in a 120x40 terminal of its own tmux server,
// killed at the end of the test.
func startTmux(t *testing.T, name, cmdline string) tmuxSession {
	t.Helper()
	s := tmuxSession{t: t, socket: fmt.Sprintf("%s-%d", name, os.Getpid())}
	s.run("new-session", "-d", "-s", "tq", "-x", "120", "-y", "40", cmdline)
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	return s
}

// waitFor polls the screen until it shows want.
func (s tmuxSession) waitFor(want string, d time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		scr := s.screen()
		if strings.Contains(scr, want) {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen never showed %q:\n%s", want, scr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsoleNewcomerTmux is the newcomer's path through the console, in
// the real binary under tmux: from the README's first command (here pointed
// at a generated host image and the AWS emulator), find what is compromised
// and rotate one credential. The keys pressed, in order:
//
//	s                 scan (the overview offers it on an empty database)
//	3                 the Credentials pane (the overview's "Next:" says so)
//	/ default Enter   filter to the exposed key of the default AWS profile
//	r                 rotate: the plan is shown, nothing changed yet
//	Enter             start
//	y                 approve "deactivate-old" (the dialog says what changes)
//	y                 approve "delete-old"
//	q                 quit
func TestConsoleNewcomerTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("needs tmux and moto")
	}
	requireTmux(t)
	bin := buildCrashBinary(t) // no TOURNIQUET_CRASH_AT: the real behaviour
	moto := awstest.StartMoto(t)
	proxy := awstest.NewProxy(t, moto.URL)
	ctx := context.Background()
	adminID, adminSecret := proxy.Bootstrap(ctx, t, "admin")
	exposedID, exposedSecret := proxy.Bootstrap(ctx, t, "dev")

	root := t.TempDir()
	if err := hostimage.BuildFile(root, "../../collectors/host/testdata/images/compromised.txtar"); err != nil {
		t.Fatal(err)
	}
	credFile := filepath.Join(root, "home", "dev", ".aws", "credentials")
	if err := os.WriteFile(credFile, []byte("[default]\naws_access_key_id = "+exposedID+"\naws_secret_access_key = "+exposedSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	cmdline := strings.Join([]string{
		"env", "TERM=xterm-256color", "HOME=" + dir, "TOURNIQUET_DB=" + db,
		"AWS_ACCESS_KEY_ID=" + adminID, "AWS_SECRET_ACCESS_KEY=" + adminSecret, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
		bin, "console", "--root", root, "--aws-endpoint-url", proxy.URL,
		"--param", "profile_path=" + credFile, "--param", "profile=default", "--param", "verify_timeout=30s",
		"; echo EXITED $?; sleep 30",
	}, " ")
	s := startTmux(t, "tq-test", cmdline)

	s.waitFor("Press s to scan", 10*time.Second)
	s.keys("s")
	s.waitFor("COMPROMISED", 20*time.Second)
	s.waitFor("Next: press 3", 5*time.Second)
	s.keys("3")
	s.waitFor("EXPOSED", 5*time.Second)
	s.keys("/")
	s.keys("-l", "default")
	s.keys("Enter")
	s.waitFor("1 of 8 credentials", 5*time.Second)
	s.keys("r")
	s.waitFor("Plan (nothing has changed yet)", 15*time.Second)
	s.keys("Enter")
	s.waitFor("Approve step deactivate-old", 30*time.Second)
	s.keys("y")
	s.waitFor("Approve step delete-old", 30*time.Second)
	s.keys("y")
	s.waitFor("the credential is rotated", 30*time.Second)
	s.keys("q")
	s.waitFor("EXITED 0", 10*time.Second)

	admin := iam.NewFromConfig(proxy.AWSConfig(ctx, adminID, adminSecret))
	keys, err := admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) == exposedID {
		t.Fatalf("after the console's rotation user dev has %d keys (exposed still there: %v)", len(keys.AccessKeyMetadata),
			len(keys.AccessKeyMetadata) > 0 && aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) == exposedID)
	}
	gotID, _ := awsConfigureGet(t, credFile)
	if gotID != aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) {
		t.Errorf("the credentials file holds %s, not the new key", redact.Hint(gotID))
	}
}
