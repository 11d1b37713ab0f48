package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/gateway/gatewaytest"
)

// SDKPeerVersion names the cache folder scripts/testenv/llm-sdk-peer.sh
// installs the official SDKs into (openai and @anthropic-ai/sdk, pinned by
// scripts/testenv/llm-sdk/package-lock.json).
const SDKPeerVersion = "llm-sdk-openai7.57.0-anthropic1.14.0"

// sdkPeer finds the installed SDKs, or skips (fails under
// TOURNIQUET_REQUIRE_PEERS, as in CI).
func sdkPeer(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("TOURNIQUET_LLM_SDK_PEER")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "tourniquet", SDKPeerVersion)
	}
	_, errA := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json"))
	_, errB := os.Stat(filepath.Join(dir, "node_modules", "@anthropic-ai", "sdk", "package.json"))
	_, errN := exec.LookPath("node")
	if errA != nil || errB != nil || errN != nil {
		msg := "official SDK peer not installed (run scripts/testenv/llm-sdk-peer.sh): " + dir
		if os.Getenv("TOURNIQUET_REQUIRE_PEERS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}

// TestOfficialSDKs runs the official OpenAI and Anthropic Node SDKs against
// the gateway: chat, streaming, embeddings, translation, and the errors
// each SDK maps to its own exception classes.
func TestOfficialSDKs(t *testing.T) {
	dir := sdkPeer(t)
	e := newEnv(t)
	scoped := e.key([]string{"gpt-4o"}, 0, 0)
	limited := e.key(nil, 0, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "testdata/sdk/conformance.mjs")
	cmd.Env = append(os.Environ(), "SDK_DIR="+dir, "GATEWAY_URL="+e.http.URL, "GATEWAY_KEY="+e.vkey,
		"GATEWAY_SCOPED_KEY="+scoped, "GATEWAY_LIMITED_KEY="+limited, "UPSTREAM_KEY="+openaiKey)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, out, stderr.String())
	}
	want := []string{
		"openai.models.list", "openai.chat", "openai.chat.stream", "openai.embeddings", "openai.chat.translated",
		"openai.chat.translated.stream", "openai.error.wrong_key", "openai.error.provider_key_refused",
		"openai.error.out_of_scope", "openai.error.unknown_model", "openai.error.rate_limited",
		"anthropic.messages", "anthropic.messages.stream", "anthropic.error.wrong_key",
		"anthropic.error.out_of_scope", "anthropic.error.oversize",
	}
	got := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var line struct {
			Check  string          `json:"check"`
			OK     bool            `json:"ok"`
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("bad line from the SDK script: %q", sc.Text())
		}
		got[line.Check] = true
		if !line.OK {
			t.Errorf("%s failed: %s", line.Check, line.Detail)
		} else {
			t.Logf("%s: %s", line.Check, line.Detail)
		}
	}
	for _, c := range want {
		if !got[c] {
			t.Errorf("check %s did not run", c)
		}
	}
	// Upstreams saw the provider keys, never a virtual key.
	for _, u := range [][]string{reqKeys(e.oa.Requests()), reqKeys(e.an.Requests())} {
		for _, k := range u {
			if strings.HasPrefix(k, VirtualKeyPrefix) || k == "" {
				t.Errorf("upstream received key %q", k)
			}
		}
	}
}

// reqKeys returns the credential each received request carried.
func reqKeys(rs []gatewaytest.Received) []string {
	var out []string
	for _, r := range rs {
		k := r.APIKey
		if k == "" {
			k = strings.TrimPrefix(r.Auth, "Bearer ")
		}
		out = append(out, k)
	}
	return out
}
