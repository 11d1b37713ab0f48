//go:build unix && !linux

package kubetest

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
