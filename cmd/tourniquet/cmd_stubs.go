package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// notImplemented is the RunE of commands whose issue has not landed: they
// exist so that --help teaches the whole contract, and exit 2 when run.
func notImplemented(cmd *cobra.Command, _ []string) error {
	return withCode(exitUsage, fmt.Errorf("%s: %w", cmd.CommandPath(), errNotImplemented))
}
