package llmtest

import "syscall"

// setParentDeathSignal makes the kernel kill prism if the test binary dies
// without running its cleanups.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
