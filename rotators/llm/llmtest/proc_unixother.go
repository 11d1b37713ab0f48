//go:build unix && !linux

package llmtest

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
