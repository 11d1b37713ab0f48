//go:build !crashtest

package main

// crashHook is nil in real builds; test builds (-tags crashtest) kill the
// process at a chosen step boundary to prove resume works.
func crashHook() func(step, point string) { return nil }
