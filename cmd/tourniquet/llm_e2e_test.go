package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/rotators/llm/llmtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// llmCLI drives the real binary against the LLM fakes: a .env file scanned
// with `scan --home`, then `playbook run ... --yes --secret-from env:NEW_KEY
// --json`, as an operator would headless.
type llmCLI struct {
	t    *testing.T
	bin  string
	dir  string
	home string
	env  []string
	file string
}

const (
	e2eOpenAIOld = "sk-proj-Xq7Vt2LmN9pR4sK8wZ1yB6cD3fG5hJ0aE2iU7oP9WXYZ"
	e2eOpenAINew = "sk-proj-Lw3Ke8Rt1Yu6Io0Pa5Sd9Fg2Hj7Kl4Zx8Cv1Bn6MkQRST"
	e2eAntOld    = "sk-ant-api03-Zr4Tq9Wm2Xn7Vb1Lc6Kp3Hj8Gf5Ds0Ay4Eu9Io2-igAA"
	e2eAntNew    = "sk-ant-api03-Bv8Nc3Mx6Lz1Kq9Wj4Hr7Gt2Fy5Du0Es3Ai8Ow6-zzQQ"
	e2eOAIAdmin  = "sk-admin-Ty6Ur1Ie9Ow4Pq7As2Dk5Fj8Gl3Hz0Xc6Vb1Nm4"
	e2eAntAdmin  = "sk-ant-admin01-Qw2Er7Ty4Ui9Op1As6Df3Gh8Jk5Lz0Xc"
)

func newLLMCLI(t *testing.T) *llmCLI {
	t.Helper()
	c := &llmCLI{t: t, bin: buildCrashBinary(t), dir: t.TempDir()}
	c.home = filepath.Join(c.dir, "home", "alice")
	c.file = filepath.Join(c.home, "app", ".env")
	if err := os.MkdirAll(filepath.Dir(c.file), 0o700); err != nil {
		t.Fatal(err)
	}
	content := "# service settings\nDEBUG=false\nOPENAI_API_KEY=" + e2eOpenAIOld + "\nANTHROPIC_API_KEY=\"" + e2eAntOld + "\"  # prod\nPORT=8080\n"
	if err := os.WriteFile(c.file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = append(os.Environ(), "TOURNIQUET_DB="+filepath.Join(c.dir, "t.db"), "XDG_STATE_HOME="+filepath.Join(c.dir, "state"), "NO_COLOR=1")
	return c
}

// run returns the exit code, stdout and stderr.
func (c *llmCLI) run(extraEnv []string, args ...string) (int, string, string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = -1
		} else {
			code = ee.ExitCode()
		}
	} else if err != nil {
		c.t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// scan records the .env file's credentials and returns their IDs by kind.
func (c *llmCLI) scan() map[string]string {
	c.t.Helper()
	code, out, errs := c.run(nil, "scan", "--home", c.home, "--json")
	if code != 0 && code != 1 {
		c.t.Fatalf("scan: exit %d: %s", code, errs)
	}
	var res struct {
		Credentials []struct{ ID, Kind, Path string } `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		c.t.Fatalf("scan --json: %v", err)
	}
	ids := map[string]string{}
	for _, cr := range res.Credentials {
		if cr.Path == c.file {
			ids[cr.Kind] = cr.ID
		}
	}
	return ids
}

func events(t *testing.T, out string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("--json printed a line that is not JSON: %q", line)
		}
		evs = append(evs, ev)
	}
	return evs
}

func (c *llmCLI) assertNoSecrets(outputs string, secrets ...string) {
	c.t.Helper()
	db := filepath.Join(c.dir, "t.db")
	for _, p := range []string{db, db + "-wal"} {
		b, _ := os.ReadFile(p)
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				c.t.Errorf("%s holds a secret (%s…)", filepath.Base(p), s[:12])
			}
		}
	}
	for _, s := range secrets {
		if strings.Contains(outputs, s) {
			c.t.Errorf("the CLI printed a secret (%s…)", s[:12])
		}
	}
}

// assertAuditSteps checks the chain verifies and holds an intent and a
// result (or a recorded skip) for every step of the run.
func (c *llmCLI) assertAuditSteps(runID string) {
	c.t.Helper()
	if code, out, errs := c.run(nil, "audit", "verify"); code != 0 {
		c.t.Fatalf("audit verify: exit %d %s %s", code, out, errs)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(c.dir, "t.db"))
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	r, err := st.GetRun(ctx, runID)
	if err != nil {
		c.t.Fatal(err)
	}
	evs, err := st.AuditEvents(ctx, 0, 10000)
	if err != nil {
		c.t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		seen[ev.Kind+" "+ev.Subject] = true
	}
	for _, s := range r.Steps {
		if s.State != store.StepDone && s.State != store.StepSkipped {
			c.t.Errorf("step %s is %s", s.Name, s.State)
		}
		if !seen["step.done "+runID+"/"+s.Name] && !seen["step.skipped "+runID+"/"+s.Name] {
			c.t.Errorf("the audit log has no outcome for step %s", s.Name)
		}
	}
}

// TestLLMRotateHeadless rotates an exposed OpenAI key and an exposed
// Anthropic key found by a real scan of a .env file, with the real binary,
// headless: --yes --secret-from env:NEW_KEY --json.
func TestLLMRotateHeadless(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	c := newLLMCLI(t)
	oai := llmtest.NewOpenAI(t, nil)
	oai.AddAdminKey(e2eOAIAdmin)
	oai.AddProject("proj_app")
	oldOAI := oai.AddUserKey("proj_app", e2eOpenAIOld, "backend", time.Now().Add(-40*24*time.Hour))
	oai.AddUserKey("proj_app", e2eOpenAINew, "backend-2026-03", time.Now())
	oai.AddUsage("proj_app", oldOAI, "gpt-4o", time.Now().Add(-2*time.Hour), 7, 900, 300)
	ant := llmtest.NewAnthropic(t)
	ant.AddAdminKey(e2eAntAdmin)
	oldAnt := ant.AddKey(e2eAntOld, "backend", time.Now().Add(-40*24*time.Hour))
	ant.AddKey(e2eAntNew, "backend-2026-03", time.Now())

	ids := c.scan()
	if ids["openai-api-key"] == "" || ids["anthropic-api-key"] == "" {
		t.Fatalf("the scan did not find both keys in %s: %v", c.file, ids)
	}
	var printed strings.Builder

	// OpenAI: the operator made the new key in the dashboard.
	code, out, errs := c.run([]string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin, "NEW_KEY=" + e2eOpenAINew},
		"playbook", "run", "llm-openai-key", "--credential", ids["openai-api-key"], "--yes", "--secret-from", "env:NEW_KEY", "--json",
		"--param", "api_base="+oai.URL, "--param", "verify_timeout=10s")
	printed.WriteString(out + errs)
	if code != exitOK {
		t.Fatalf("openai run: exit %d\n%s\n%s", code, out, errs)
	}
	evs := events(t, out)
	last := evs[len(evs)-1]
	if last["type"] != "run.finished" || last["state"] != store.RunDone {
		t.Fatalf("openai run ended with %v", last)
	}
	openaiRun, _ := evs[0]["run"].(string)
	if oai.KeyWorks(e2eOpenAIOld) {
		t.Error("the exposed OpenAI key still works")
	}
	if _, ok := oai.Keys("proj_app")[oldOAI]; ok {
		t.Error("the exposed OpenAI key was not deleted")
	}
	c.assertAuditSteps(openaiRun)

	// Anthropic: the same, with the key made in the Console.
	code, out, errs = c.run([]string{"ANTHROPIC_ADMIN_KEY=" + e2eAntAdmin, "NEW_KEY=" + e2eAntNew},
		"playbook", "run", "llm-anthropic-key", "--credential", ids["anthropic-api-key"], "--yes", "--secret-from", "env:NEW_KEY", "--json",
		"--param", "api_base="+ant.URL, "--param", "verify_timeout=10s")
	printed.WriteString(out + errs)
	if code != exitOK {
		t.Fatalf("anthropic run: exit %d\n%s\n%s", code, out, errs)
	}
	evs = events(t, out)
	anthropicRun, _ := evs[0]["run"].(string)
	if ant.Status(oldAnt) != "inactive" {
		t.Errorf("the exposed Anthropic key is %s, want inactive", ant.Status(oldAnt))
	}
	c.assertAuditSteps(anthropicRun)

	// The .env file: both values replaced, every other byte kept.
	b, _ := os.ReadFile(c.file)
	want := "# service settings\nDEBUG=false\nOPENAI_API_KEY=" + e2eOpenAINew + "\nANTHROPIC_API_KEY=\"" + e2eAntNew + "\"  # prod\nPORT=8080\n"
	if string(b) != want {
		t.Errorf(".env after rotation:\n%q\nwant\n%q", b, want)
	}
	// exposure shows both rotated.
	code, out, _ = c.run(nil, "exposure", "--json")
	if code != 0 || strings.Count(out, `"rotation": "rotated"`) < 2 {
		t.Errorf("exposure after rotation (exit %d):\n%s", code, out)
	}
	c.assertNoSecrets(printed.String(), e2eOpenAIOld, e2eOpenAINew, e2eAntOld, e2eAntNew, e2eOAIAdmin, e2eAntAdmin)
}

// TestLLMRotateExitCodes: without --yes the run stops at the destructive
// step with exit 8; a refused admin key is exit 4; a missing --secret-from
// variable is a usage error (2).
func TestLLMRotateExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	c := newLLMCLI(t)
	oai := llmtest.NewOpenAI(t, nil)
	oai.AddAdminKey(e2eOAIAdmin)
	oai.AddProject("proj_app")
	oai.AddUserKey("proj_app", e2eOpenAIOld, "backend", time.Now().Add(-40*24*time.Hour))
	oai.AddUserKey("proj_app", e2eOpenAINew, "backend-2", time.Now())
	id := c.scan()["openai-api-key"]
	common := []string{"--param", "api_base=" + oai.URL, "--param", "verify_timeout=5s", "--json"}

	if code, _, errs := c.run(nil, append([]string{"playbook", "run", "llm-openai-key", "--credential", id, "--secret-from", "env:UNSET_NEW_KEY"}, common...)...); code != exitUsage {
		t.Errorf("missing --secret-from variable: exit %d (%s), want 2", code, errs)
	}
	code, _, errs := c.run([]string{"OPENAI_ADMIN_KEY=sk-admin-wrongwrongwrongwrongwrong0000"},
		append([]string{"playbook", "run", "llm-openai-key", "--credential", id}, common...)...)
	if code != exitAuth {
		t.Errorf("refused admin key: exit %d (%s), want 4", code, errs)
	}
	code, out, errs := c.run([]string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin, "NEW_KEY=" + e2eOpenAINew},
		append([]string{"playbook", "run", "llm-openai-key", "--credential", id, "--secret-from", "env:NEW_KEY"}, common...)...)
	if code != exitApproval || !strings.Contains(out, `"step":"delete-old"`) {
		t.Fatalf("without --yes: exit %d, want 8 at delete-old\n%s\n%s", code, out, errs)
	}
	if !oai.KeyWorks(e2eOpenAIOld) {
		t.Error("the exposed key was deleted without approval")
	}
	runID, _ := events(t, out)[0]["run"].(string)
	code, out, errs = c.run([]string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin},
		append([]string{"playbook", "resume", runID, "--confirm", "delete-old"}, common...)...)
	if code != exitOK {
		t.Fatalf("resume --confirm delete-old: exit %d\n%s\n%s", code, out, errs)
	}
	if oai.KeyWorks(e2eOpenAIOld) {
		t.Error("the exposed key still works")
	}
}

// TestLLMKillResume kills the real binary between steps of the OpenAI and
// Anthropic playbooks and resumes it (the operator gives --secret-from
// again); every case ends rotated.
func TestLLMKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	for _, at := range []string{"verify-new:after-do", "deliver:after-do", "delete-old:after-intent", "deactivate-old:after-do"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			c := newLLMCLI(t)
			ids := c.scan()
			var env []string
			var args []string
			var gone func() bool
			if strings.HasPrefix(at, "deactivate") {
				ant := llmtest.NewAnthropic(t)
				ant.AddAdminKey(e2eAntAdmin)
				old := ant.AddKey(e2eAntOld, "backend", time.Now().Add(-40*24*time.Hour))
				ant.AddKey(e2eAntNew, "new", time.Now())
				env = []string{"ANTHROPIC_ADMIN_KEY=" + e2eAntAdmin, "NEW_KEY=" + e2eAntNew}
				args = []string{"llm-anthropic-key", "--credential", ids["anthropic-api-key"], "--param", "api_base=" + ant.URL}
				gone = func() bool { return ant.Status(old) == "inactive" }
			} else {
				oai := llmtest.NewOpenAI(t, nil)
				oai.AddAdminKey(e2eOAIAdmin)
				oai.AddProject("proj_app")
				oai.AddUserKey("proj_app", e2eOpenAIOld, "backend", time.Now().Add(-40*24*time.Hour))
				oai.AddUserKey("proj_app", e2eOpenAINew, "new", time.Now())
				env = []string{"OPENAI_ADMIN_KEY=" + e2eOAIAdmin, "NEW_KEY=" + e2eOpenAINew}
				args = []string{"llm-openai-key", "--credential", ids["openai-api-key"], "--param", "api_base=" + oai.URL}
				gone = func() bool { return !oai.KeyWorks(e2eOpenAIOld) }
			}
			run := append([]string{"playbook", "run"}, args...)
			run = append(run, "--yes", "--secret-from", "env:NEW_KEY", "--json", "--param", "verify_timeout=5s")
			code, out, errs := c.run(append(env, "TOURNIQUET_CRASH_AT="+at), run...)
			if code != -1 {
				t.Fatalf("not killed at %s: exit %d\n%s\n%s", at, code, out, errs)
			}
			runID := onlyRun(t, filepath.Join(c.dir, "t.db"))
			code, out, errs = c.run(env, "playbook", "resume", runID, "--yes", "--secret-from", "env:NEW_KEY", "--json")
			if code != exitOK {
				t.Fatalf("resume after a kill at %s: exit %d\n%s\n%s", at, code, out, errs)
			}
			if !gone() {
				t.Error("the exposed key is still active")
			}
			c.assertAuditSteps(runID)
			c.assertNoSecrets(out+errs, e2eOpenAIOld, e2eOpenAINew, e2eAntOld, e2eAntNew, e2eOAIAdmin, e2eAntAdmin)
		})
	}
}
