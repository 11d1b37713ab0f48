package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/store"
)

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the hash-chained audit log",
		Long: `Every scan, finding, state change, rotation step, gateway route change and export
is an event in an append-only log. Each event stores prev_hash and
hash = sha256(prev_hash || canonical JSON of the event), so changing, removing or
reordering any event breaks the chain from that point on.`,
		Example: `  tourniquet audit verify
  tourniquet audit verify --json`,
	}
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the chain; name the first bad event (exit 1 when broken)",
		Long: `Walk the audit chain from the first event. Exit 0 when intact, 1 when broken (the
first bad event and the reason are printed). Record the printed head hash somewhere
else: removing events from the end of the chain can only be caught against a head
you kept.`,
		Example: `  tourniquet audit verify
  tourniquet audit verify --json | jq .head`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.Close()
			res, err := s.VerifyAudit(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				if err := a.printJSON(struct {
					Schema string `json:"schema"`
					store.VerifyResult
				}{"tourniquet.audit-verify/v1", res}); err != nil {
					return err
				}
			} else if res.OK {
				a.outf("audit chain intact: %d events, head %s\n", res.Events, res.Head)
			} else {
				a.outf("audit chain BROKEN at event %d: %s\n", res.FirstBad.Seq, res.FirstBad.Reason)
				a.outf("%d events read; the last good head is %s\n", res.Events, res.Head)
			}
			if !res.OK {
				return withCode(exitFound, nil)
			}
			return nil
		},
	}
	cmd.AddCommand(verify)
	return cmd
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version and build information",
		Example: "  tourniquet version",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.outf("%s\n", buildVersion())
			return nil
		},
	}
}

func buildVersion() string {
	return fmt.Sprintf("tourniquet %s", moduleVersion())
}
