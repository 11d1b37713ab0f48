//go:build !unix

package ghtest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) error { return cmd.Process.Kill() }
