//go:build !unix

package awstest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) error { return cmd.Process.Kill() }
