//go:build unix

package peerproc

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopReachesTheGroup: a peer that ignores SIGTERM and has a child is
// killed with its child.
func TestStopReachesTheGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", `trap "" TERM; sleep 60 & echo $!; wait`)
	Isolate(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	child, err := strconv.Atoi(strings.TrimSpace(string(buf[:n])))
	if err != nil {
		t.Fatalf("child pid: %q", buf[:n])
	}
	go func() { _ = cmd.Wait(); close(done) }()
	if err := Stop(cmd, done, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(child, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the peer's child %d survived Stop", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
