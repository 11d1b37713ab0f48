package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

const exitCodeHelp = `Exit codes:
  0  done, nothing found
  1  IOC hits found (scan), a step failed (playbook), the chain is broken (audit verify)
  2  usage or input error
  3  cancelled
  4  authentication or permission refused by a provider
  8  paused, awaiting approval`

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "tourniquet",
		Short: "Respond to a software supply-chain compromise",
		Long: `Tourniquet answers, for one incident: am I hit, what leaked, and is it rotated yet.

It gathers host and cluster evidence against IOC packs (data, not code), inventories
every credential that sat on a hit machine inside the compromised window, runs
resumable rotation playbooks, and records every action in a hash-chained audit log.

Nothing it investigates is ever executed: Python environments are read, not run.

With no command, tourniquet opens the console on this machine.

` + exitCodeHelp,
		Example: `  # Scan this machine with the built-in packs
  tourniquet scan

  # Scan a mounted disk image of another machine
  tourniquet scan --root /mnt/image --json > host-a.json

  # List the IOC packs this build knows
  tourniquet packs list

  # Check that nobody has rewritten history
  tourniquet audit verify`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			a.started = true
			if a.incident == "" {
				return withCode(exitUsage, fmt.Errorf("--incident must not be empty"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.console(cmd.Context(), consoleOptions{root: "/"})
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return withCode(exitUsage, err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbPath, "db", "", "database file (env TOURNIQUET_DB; default $XDG_STATE_HOME/tourniquet/tourniquet.db)")
	pf.StringVar(&a.incident, "incident", "default", "incident name: scans, credentials and runs are grouped under it")
	pf.BoolVar(&a.json, "json", false, "print machine-readable JSON instead of text (commands that print data)")

	root.AddCommand(
		newScanCmd(a),
		newExposureCmd(a),
		newPlaybookCmd(a),
		newGatewayCmd(a),
		newExportCmd(a),
		newAuditCmd(a),
		newImportCmd(a),
		newPacksCmd(a),
		newVersionCmd(a),
		newConsoleCmd(a),
	)
	root.SetHelpCommand(&cobra.Command{Hidden: true})
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// argsUsage wraps a cobra argument validator so that its errors exit 2.
func argsUsage(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return withCode(exitUsage, fmt.Errorf("%s: %w", cmd.CommandPath(), err))
		}
		return nil
	}
}
