package ghtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/peerproc"
)

const (
	// RequirePeersEnv turns a missing peer from a skip into a failure (CI).
	RequirePeersEnv = "TOURNIQUET_REQUIRE_PEERS"
	// PeerDirEnv names the folder scripts/testenv/github-peer.sh installed
	// Prism and @octokit/openapi into.
	PeerDirEnv = "TOURNIQUET_GITHUB_PEER"
	// PeerVersion is the folder name the script uses under ~/.cache/tourniquet.
	PeerVersion = "github-peer-prism5.16.0-octokit23.0.2"

	prismStartTimeout = 60 * time.Second
)

// Prism is a running Stoplight Prism mock server serving GitHub's official
// OpenAPI description (trimmed to ghc.Endpoints) in validation mode: a
// request that does not match the description is answered 4xx (422 invalid,
// 404 no such path, 406 media type, 405 method).
type Prism struct {
	URL  string // http://127.0.0.1:PORT/
	Spec string // the description served

	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

// PeerDir returns where Prism is installed.
func PeerDir() string {
	if d := os.Getenv(PeerDirEnv); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "tourniquet", PeerVersion)
}

// StartPrism prepares the description (cached beside the install) and
// starts Prism on a free loopback port; the process group is stopped in
// t.Cleanup. Without an install the test is skipped, unless
// TOURNIQUET_REQUIRE_PEERS=1.
func StartPrism(t testing.TB) *Prism {
	t.Helper()
	dir := PeerDir()
	bin := filepath.Join(dir, "node_modules", ".bin", "prism")
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("ghtest: Prism is not installed in %s (run scripts/testenv/github-peer.sh, or set %s)", dir, PeerDirEnv)
		if os.Getenv(RequirePeersEnv) == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set " + RequirePeersEnv + "=1 to fail instead of skipping")
	}
	spec, err := PrepareCached(dir)
	if err != nil {
		t.Fatalf("ghtest: prepare the description: %v", err)
	}
	for attempt := 1; ; attempt++ {
		p, err := startPrism(t, bin, spec)
		if err == nil {
			return p
		}
		if !errors.Is(err, errExited) || attempt == 3 {
			t.Fatalf("ghtest: start prism: %v", err)
		}
	}
}

var errExited = errors.New("prism exited")

func startPrism(t testing.TB, bin, spec string) (*Prism, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "mock", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "--errors", spec)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	peerproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Prism{URL: "http://127.0.0.1:" + strconv.Itoa(port) + "/", Spec: spec, cmd: cmd, done: make(chan struct{}), out: out}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("ghtest: stop prism: %v", err)
		}
	})
	return p, nil
}

// Output is what Prism logged (its validation messages).
func (p *Prism) Output() string { return p.out.String() }

// waitReady waits for Prism's own "listening" line for our port, with the
// process alive, then for an answer: an HTTP probe alone could reach
// another server that took the port first (Prism then exits, and is
// started again on another port).
func (p *Prism) waitReady() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(prismStartTimeout)
	want := "listening on " + strings.TrimSuffix(p.URL, "/")
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%w: %v", errExited, p.cmd.ProcessState)
		default:
		}
		if !strings.Contains(p.out.String(), want) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"user", nil)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			select {
			case <-p.done:
				return fmt.Errorf("%w: %v", errExited, p.cmd.ProcessState)
			default:
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("prism did not answer on %s within %v", p.URL, prismStartTimeout)
}

func (p *Prism) stop() error {
	return peerproc.Stop(p.cmd, p.done, 5*time.Second)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// PrepareCached writes the trimmed description beside the install, named by
// its inputs, unless it is there already, and returns its path.
func PrepareCached(dir string) (string, error) {
	gen := filepath.Join(dir, "node_modules", "@octokit", "openapi", "generated")
	spec := filepath.Join(dir, "github-trimmed-"+specKey(gen)+".json")
	if _, err := os.Stat(spec); err == nil {
		return spec, nil
	}
	return spec, PrepareSpec(gen, spec)
}
