package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/postmortem"
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
	var exportFile string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the chain; name the first bad event (exit 1 when broken)",
		Long: `Walk the audit chain from the first event. Exit 0 when intact, 1 when broken (the
first bad event and the reason are printed). Record the printed head hash somewhere
else: removing events from the end of the chain can only be caught against a head
you kept.

With --export FILE (a JSON post-mortem from 'tourniquet export --format json', or -
for stdin), check that export against the live chain instead: the chain is intact,
the export's head event is in it with the same hash, the incident's events up to
that head have the recorded count and digest, each audit entry of its timeline
matches its event, and an export event records exactly this content. Every
difference is named; exit 1 when anything differs, 2 when FILE is not an export.`,
		Example: `  tourniquet audit verify
  tourniquet audit verify --json | jq .head
  tourniquet audit verify --export postmortem.json`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer s.Close()
			if exportFile != "" {
				return a.verifyExport(cmd.Context(), s, exportFile)
			}
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
	verify.Flags().StringVar(&exportFile, "export", "", "check a JSON post-mortem export (FILE, or - for stdin) against the live chain")
	cmd.AddCommand(verify)
	return cmd
}

// verifyExport checks an exported JSON against the live chain.
func (a *app) verifyExport(ctx context.Context, s *store.Store, path string) error {
	var r io.Reader = a.io.In
	if path != "-" {
		// Stat first: opening a FIFO would block.
		if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
			return withCode(exitUsage, fmt.Errorf("export %s: not a regular file", path))
		}
		f, err := os.Open(path)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("export %w", err))
		}
		defer f.Close()
		if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
			return withCode(exitUsage, fmt.Errorf("export %s: not a regular file", path))
		}
		r = f
	}
	v, err := postmortem.VerifyExport(ctx, s, r)
	if errors.Is(err, postmortem.ErrNotExport) {
		return withCode(exitUsage, fmt.Errorf("%s: %w", path, err))
	}
	if err != nil {
		return err
	}
	if a.json {
		if err := a.printJSON(struct {
			Schema string `json:"schema"`
			*postmortem.Verification
		}{"tourniquet.export-verify/v1", v}); err != nil {
			return err
		}
	} else {
		a.outf("export %s: incident %s, generated %s, chain head event %d %s\n", sanitize.Terminal(path), sanitize.Terminal(v.Incident),
			v.GeneratedAt.UTC().Format(time.RFC3339), v.HeadSeq, sanitize.Terminal(v.HeadHash))
		for _, c := range v.Checks {
			mark := "ok     "
			if !c.OK {
				mark = "DIFFERS"
			}
			a.outf("  %s %-9s %s\n", mark, c.Name, sanitize.Terminal(c.Detail))
		}
		if v.OK {
			a.outf("export matches the audit chain\n")
		} else {
			a.outf("differences:\n")
			for _, d := range v.Differences {
				a.outf("  - %s\n", sanitize.Terminal(d))
			}
			a.outf("export does NOT match the audit chain (%d differences)\n", len(v.Differences))
		}
	}
	if !v.OK {
		return withCode(exitFound, nil)
	}
	return nil
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
