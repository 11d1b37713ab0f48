package peerproc

import "syscall"

// setParentDeathSignal makes the kernel kill the peer if the test binary
// dies without running its cleanups (e.g. a -timeout panic).
func setParentDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGKILL
}
