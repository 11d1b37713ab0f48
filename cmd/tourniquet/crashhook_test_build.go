//go:build crashtest

package main

import (
	"os"
	"syscall"
)

// crashHook kills this process with SIGKILL (no deferred cleanup, no flush:
// a real crash) when TOURNIQUET_CRASH_AT names the step and point.
func crashHook() func(step, point string) {
	at := os.Getenv("TOURNIQUET_CRASH_AT")
	if at == "" {
		return nil
	}
	return func(step, point string) {
		if step+":"+point == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}
