package awstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/peerproc"
)

// Moto is a running moto_server (https://docs.getmoto.org/en/latest/docs/server_mode.html).
type Moto struct {
	URL string // http://127.0.0.1:PORT

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	out  *syncBuffer   // its stdout and stderr, for failure messages
}

const (
	// RequirePeersEnv turns a missing moto_server from a skip into a failure (CI).
	RequirePeersEnv = "TOURNIQUET_REQUIRE_PEERS"
	// MotoServerEnv names the moto_server command; it may carry arguments,
	// e.g. "python3 -m moto.server".
	MotoServerEnv = "MOTO_SERVER"

	motoStartTimeout = 30 * time.Second
	motoStopTimeout  = 5 * time.Second
)

// StartMoto starts moto_server on a free loopback port and waits until it
// answers. The whole process group is stopped in t.Cleanup.
//
// The command is $MOTO_SERVER (split on spaces, so "python3 -m moto.server"
// works), else "moto_server" from PATH. When moto_server is not on PATH the
// test is skipped, unless TOURNIQUET_REQUIRE_PEERS=1: then it fails. A
// MOTO_SERVER that cannot be found always fails.
func StartMoto(t testing.TB) *Moto {
	t.Helper()
	argv, err := motoCommand()
	if err != nil {
		// A MOTO_SERVER that names nothing is a broken set-up, not a missing peer.
		if os.Getenv(RequirePeersEnv) == "1" || os.Getenv(MotoServerEnv) != "" {
			t.Fatalf("awstest: %v", err)
		}
		t.Skipf("awstest: %v; set %s=1 to fail instead of skipping", err, RequirePeersEnv)
	}
	// The port is picked by listening on :0 and closing; another process can
	// take it before moto binds, so a start that dies early is retried.
	for attempt := 1; ; attempt++ {
		m, err := startMoto(t, argv)
		if err == nil {
			return m
		}
		if !errors.Is(err, errMotoExited) || attempt == 3 {
			t.Fatalf("awstest: start moto_server: %v", err)
		}
	}
}

var errMotoExited = errors.New("moto_server exited")

func motoCommand() ([]string, error) {
	if v := strings.Fields(os.Getenv(MotoServerEnv)); len(v) > 0 {
		path, err := exec.LookPath(v[0])
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", MotoServerEnv, os.Getenv(MotoServerEnv), err)
		}
		return append([]string{path}, v[1:]...), nil
	}
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New(`moto_server not installed (pip install "moto[server]==5.2.1", or set ` + MotoServerEnv + ")")
	}
	return []string{path}, nil
}

func startMoto(t testing.TB, argv []string) (*Moto, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append(append([]string(nil), argv[1:]...), "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd := exec.Command(argv[0], args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	peerproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", argv[0], err)
	}
	m := &Moto{
		URL:  "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:  cmd,
		done: make(chan struct{}),
		out:  out,
	}
	go func() {
		_ = cmd.Wait()
		close(m.done)
	}()
	if err := m.waitReady(); err != nil {
		m.stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	t.Cleanup(func() {
		if err := m.stop(); err != nil {
			t.Errorf("awstest: stop moto_server: %v", err)
		}
	})
	return m, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls until moto answers any HTTP request.
func (m *Moto) waitReady() error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(motoStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-m.done:
			return fmt.Errorf("%w: %v", errMotoExited, m.cmd.ProcessState)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.URL+"/moto-api/", nil)
		resp, err := client.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("moto_server did not answer on %s within %v", m.URL, motoStartTimeout)
}

// stop ends the process group: SIGTERM, then SIGKILL after motoStopTimeout.
func (m *Moto) stop() error {
	return peerproc.Stop(m.cmd, m.done, motoStopTimeout)
}

// syncBuffer is a bytes.Buffer safe for the two output pipes' goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded for long runs
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
