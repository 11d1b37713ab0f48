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

func newImportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "import BUNDLE.json...",
		Short: "Merge scans from other hosts into the incident",
		Example: `  # Collected with: ssh host tourniquet scan --json > host.json
  tourniquet import host-a.json host-b.json`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: notImplemented,
	}
}
