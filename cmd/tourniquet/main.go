// Command tourniquet is a terminal console for responding to a software
// supply-chain compromise: find what is hit, inventory what leaked, rotate it,
// re-route LLM traffic safely and prove every step.
package main

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

func main() {
	os.Exit(run(os.Args[1:], IOStreams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Getenv))
}

// run executes one command line and returns its exit code.
func run(args []string, ios IOStreams, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{io: ios, getenv: getenv}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if !a.started {
		code = exitUsage // flag, argument or unknown-command errors
	}
	if msg := err.Error(); msg != "" {
		// Errors quote file names and API messages: never let them reach
		// the terminal raw.
		for _, line := range strings.Split(msg, "\n") {
			a.errf("tourniquet: %s\n", sanitize.Terminal(line))
		}
		if !a.started {
			a.errf("Run 'tourniquet --help' for usage.\n")
		}
	}
	return code
}
