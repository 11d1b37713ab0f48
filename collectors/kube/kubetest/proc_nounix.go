//go:build !unix

package kubetest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) error { return cmd.Process.Kill() }
