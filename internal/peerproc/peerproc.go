// Package peerproc runs the real test peers (moto_server, Prism, etcd,
// kube-apiserver) as process groups of their own, so that stopping one
// reaches everything it spawned (a pyenv shim, a node child) and a test
// binary that dies without its cleanups leaves no peer behind (Linux).
package peerproc

import (
	"fmt"
	"os/exec"
	"time"
)

// Stop ends cmd's process group: SIGTERM, then SIGKILL when it has not
// exited after grace. done is closed once cmd has exited (its Wait
// returned). A process that outlives SIGKILL by grace is an error.
func Stop(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) error {
	select {
	case <-done:
		return nil
	default:
	}
	_ = signalGroup(cmd, false)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = signalGroup(cmd, true)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("pid %d still running after SIGKILL", cmd.Process.Pid)
	}
}
