//go:build !unix

package llmtest

import "os/exec"

func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, _ bool) error {
	if cmd.Process == nil {
		return errUnsupported
	}
	return cmd.Process.Kill()
}
