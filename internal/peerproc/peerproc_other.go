//go:build !unix

package peerproc

import "os/exec"

// Isolate does nothing where there are no process groups.
func Isolate(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) error { return cmd.Process.Kill() }
