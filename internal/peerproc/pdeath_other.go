//go:build unix && !linux

package peerproc

import "syscall"

func setParentDeathSignal(*syscall.SysProcAttr) {}
