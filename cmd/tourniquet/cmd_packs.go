package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

func newPacksCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "packs",
		Short: "List, show and validate IOC packs",
		Long: `IOC packs describe one compromise as data: bad package versions, files and hashes,
persistence, network and cluster indicators, CI refs and time windows. Every rule
carries its source and confidence. The format is documented in
collectors/packs/README.md; write your own and pass it with --pack FILE.`,
		Example: `  tourniquet packs list
  tourniquet packs show litellm-2026-03
  tourniquet packs validate ./my-incident.yaml`,
	}
	var extra []string
	list := &cobra.Command{
		Use:   "list",
		Short: "List built-in packs (and any given with --pack)",
		Example: `  tourniquet packs list
  tourniquet packs list --pack ./my-incident.yaml --json`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := packs.Builtin()
			if err != nil {
				return err
			}
			for _, f := range extra {
				p, err := packs.LoadFile(f)
				if err != nil {
					return err
				}
				all = append(all, p)
			}
			return a.printPackList(all)
		},
	}
	list.Flags().StringArrayVar(&extra, "pack", nil, "also list the pack in FILE (repeatable)")

	show := &cobra.Command{
		Use:   "show ID|FILE",
		Short: "Show a pack's windows and rules with their sources",
		Example: `  tourniquet packs show litellm-2026-03
  tourniquet packs show trivy-action-2026-03 --json | jq '.ci[].action'`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ps, err := packs.Resolve(args)
			if err != nil {
				return withCode(exitUsage, err)
			}
			if a.json {
				return a.printJSON(ps[0])
			}
			a.printPack(ps[0])
			return nil
		},
	}
	validate := &cobra.Command{
		Use:     "validate FILE...",
		Short:   "Check pack files; errors name file and line",
		Example: `  tourniquet packs validate ./my-incident.yaml`,
		Args:    argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, f := range args {
				p, err := packs.LoadFile(f)
				if err != nil {
					bad++
					a.printPackErrors(err)
					continue
				}
				a.outf("ok %s: %s version %d, %d rules\n", sanitize.Terminal(f), sanitize.Terminal(p.ID), p.Version, p.RuleCount())
			}
			if bad > 0 {
				return withCode(exitUsage, fmt.Errorf("%d of %d pack files invalid", bad, len(args)))
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, validate)
	return cmd
}

type packSummary struct {
	ID          string     `json:"id"`
	Version     int        `json:"version"`
	Title       string     `json:"title"`
	Rules       int        `json:"rules"`
	WindowStart time.Time  `json:"window_start"`
	WindowEnd   *time.Time `json:"window_end"`
	Origin      string     `json:"origin"`
}

func (a *app) printPackList(all []*packs.Pack) error {
	if a.json {
		out := struct {
			Schema string        `json:"schema"`
			Packs  []packSummary `json:"packs"`
		}{Schema: "tourniquet.packs/v1", Packs: []packSummary{}}
		for _, p := range all {
			out.Packs = append(out.Packs, packSummary{p.ID, p.Version, p.Title, p.RuleCount(), p.Window.Start, p.Window.End, p.Origin})
		}
		return a.printJSON(out)
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tRULES\tWINDOW (UTC)\tTITLE")
	for _, p := range all {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", sanitize.Truncate(p.ID, 40), p.Version, p.RuleCount(),
			windowText(p.Window.Start, p.Window.End), sanitize.Truncate(p.Title, 70))
	}
	return tw.Flush()
}

func windowText(start time.Time, end *time.Time) string {
	const layout = "2006-01-02 15:04"
	if end == nil {
		return start.UTC().Format(layout) + " → open"
	}
	return start.UTC().Format(layout) + " → " + end.UTC().Format(layout)
}

func (a *app) printPack(p *packs.Pack) {
	s := sanitize.Terminal
	a.outf("%s (version %d): %s\n", s(p.ID), p.Version, s(p.Title))
	a.outf("origin:  %s\n", s(p.Origin))
	a.outf("window:  %s\n", windowText(p.Window.Start, p.Window.End))
	if p.Description != "" {
		a.outf("\n%s\n", s(strings.TrimSpace(p.Description)))
	}
	if len(p.Related) > 0 {
		a.outf("related: %s\n", s(strings.Join(p.Related, ", ")))
	}
	if len(p.Windows) > 0 {
		a.outf("\nwindows:\n")
		tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
		for _, w := range p.Windows {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s(w.ID), windowText(w.Start, w.End), w.Confidence, sanitize.Truncate(w.Meaning, 60))
		}
		tw.Flush()
	}
	a.outf("\nrules (%d):\n", p.RuleCount())
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SECTION\tID\tSEVERITY\tCONFIDENCE\tTITLE")
	for _, r := range p.Rules() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", r.Section, s(r.Meta.ID), r.Meta.Severity, r.Meta.Confidence, sanitize.Truncate(r.Meta.Title, 60))
	}
	tw.Flush()
	a.outf("\nEvery rule's source: tourniquet packs show %s --json\n", s(p.ID))
}

// printPackErrors prints one problem per line; pack files are untrusted, so
// every line is sanitized.
func (a *app) printPackErrors(err error) {
	var errs packs.Errors
	if !errors.As(err, &errs) {
		a.errf("%s\n", sanitize.Terminal(err.Error()))
		return
	}
	for _, e := range errs {
		a.errf("%s\n", sanitize.Terminal(e.Error()))
	}
}
