package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/gateway/gatewaytest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// tq runs the built binary with env and returns stdout, failing on error.
func tq(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tourniquet %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// startGateway starts `gateway serve` on a free port and returns its base
// URL and the process.
func startGateway(t *testing.T, bin string, env []string) (string, *exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, "gateway", "serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	logs := &bytes.Buffer{}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`gateway listening on (http://[0-9.:]+)`)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u, cmd, logs
	case <-time.After(20 * time.Second):
		t.Fatalf("gateway did not start:\n%s", logs.String())
	}
	return "", nil, nil
}

func chat(t *testing.T, base, key, model string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestGatewayServeEndToEnd configures the gateway through the CLI, serves
// it from the real binary, sends requests, reads `gateway status` from
// another process, and stops it with SIGINT: the audit batch is flushed and
// the chain verifies.
func TestGatewayServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCrashBinary(t)
	const upstreamKey = "sk-proj-E2EupstreamKEY0123456789abcdefghij"
	up := gatewaytest.New(t, upstreamKey)
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	env := []string{"TOURNIQUET_DB=" + db, "HOME=" + dir, "UPSTREAM_KEY=" + upstreamKey}
	tq(t, bin, env, "gateway", "routes", "add", "gpt-4o", "--base-url", up.URL, "--key-ref", "openai")
	tq(t, bin, env, "gateway", "provider-key", "set", "openai", "--secret-from", "env:UPSTREAM_KEY")
	var created struct{ ID, Key string }
	if err := json.Unmarshal([]byte(tq(t, bin, env, "--json", "gateway", "keys", "create", "--routes", "gpt-4o")), &created); err != nil {
		t.Fatal(err)
	}
	base, cmd, logs := startGateway(t, bin, env)
	for i := 0; i < 5; i++ {
		if code, body := chat(t, base, created.Key, "gpt-4o"); code != 200 {
			t.Fatalf("chat: %d %s", code, body)
		}
	}
	if code, _ := chat(t, base, "tqv-wrong", "gpt-4o"); code != 401 {
		t.Errorf("wrong key: %d", code)
	}
	// The status report (written every 2 s) is read by another process.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out := tq(t, bin, env, "gateway", "status")
		if strings.Contains(out, "gateway running on "+base) && regexp.MustCompile(`gpt-4o\s+openai\s+sk-proj-…ghij sha256:[0-9a-f]{16}\s+\d\d:\d\d:\d\d ok\s+[0-9.]+\s+0/5`).MatchString(out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the running gateway:\n%s", out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gateway exit: %v\n%s", err, logs.String())
	}
	// Every request is on the chain, with metadata only.
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, err := st.AuditEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, ev := range evs {
		kinds[ev.Kind]++
		if ev.Kind == "gateway.requests" {
			var batch struct {
				Requests []struct {
					KeyID  string `json:"key_id"`
					Status int    `json:"status"`
				} `json:"requests"`
			}
			if err := json.Unmarshal(ev.Data, &batch); err != nil {
				t.Fatal(err)
			}
			for _, r := range batch.Requests {
				if r.KeyID == created.ID && r.Status == 200 {
					kinds["request ok"]++
				}
			}
		}
		if bytes.Contains(ev.Data, []byte(upstreamKey)) || bytes.Contains(ev.Data, []byte(created.Key)) {
			t.Errorf("audit event %s holds a key", ev.Kind)
		}
	}
	if kinds["request ok"] != 5 {
		t.Errorf("audited successful requests: %d, want 5 (%v)", kinds["request ok"], kinds)
	}
	if out := tq(t, bin, env, "audit", "verify"); !strings.Contains(out, "audit chain intact") {
		t.Errorf("audit verify: %s", out)
	}
}
