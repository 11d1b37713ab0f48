package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/tourniquet-ir/tourniquet/collectors/kube/kubetest"
)

// TestScanKubeStderrIsOurs: the API server cuts its answers to the node
// list short (and injects terminal escapes into its error text). client-go
// would log that through klog straight to stderr, unescaped; the real
// binary's stderr must hold only Tourniquet's own sanitized report, and the
// partial result must name the part it could not read.
func TestScanKubeStderrIsOurs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	c := kubetest.Start(t)
	target, _ := url.Parse(c.URL)
	rt, err := rest.TransportFor(c.Config(kubetest.AdminToken))
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = rt
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/nodes":
			// Half of a real answer, under the length of the whole.
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
		case strings.HasSuffix(r.URL.Path, "/events"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"boom \u001b[2J\u001b]0;owned\u0007","reason":"InternalError","code":500}`)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	body := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: p\n  cluster: {server: %q, insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: %q}\ncontexts:\n- name: prod\n  context: {cluster: p, user: u}\ncurrent-context: prod\n", srv.URL, kubetest.AdminToken)
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(buildCrashBinary(t), "--db", filepath.Join(t.TempDir(), "t.db"), "scan", "--kube", "--kubeconfig", kc, "--kube-timeout", "5s", "--no-record")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	all := out.String() + errb.String()
	if m := regexp.MustCompile(`(?m)^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+ .*$`).FindString(errb.String()); m != "" {
		t.Errorf("client-go's klog reached stderr: %q", m)
	}
	if strings.ContainsAny(all, "\x1b\x07") {
		t.Errorf("a terminal escape from the server reached the terminal:\n%q", all)
	}
	for _, part := range []string{"nodes", "events"} {
		if !strings.Contains(all, part+":") {
			t.Errorf("the partial result does not name %s:\nstdout:\n%s\nstderr:\n%s", part, out.String(), errb.String())
		}
	}
}
