//go:build unix && !linux

package ghtest

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
