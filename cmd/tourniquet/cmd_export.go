package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/postmortem"
)

type exportOptions struct {
	format   string
	out      string
	packRefs []string
}

func newExportCmd(a *app) *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the post-mortem (Markdown, JSON, HTML, Timesketch)",
		Long: `Export what happened in the incident, from the recorded state and the audit chain:
affected hosts and clusters with their windows, findings by pack and severity, the
credential ledger (each exposed credential's kind, hint, owner, exposure reason,
evidence of misuse, rotation run, times and approvers), playbook runs, open items and
a timeline. Sections only people can write are left as marked prompts.

Formats:
  md          a post-mortem draft in GitHub Flavored Markdown (default)
  json        the same content as tourniquet.postmortem/v1 (postmortem/SCHEMA.md)
  html        one self-contained page (no external assets) with the timeline drawn;
              prints readably
  timesketch  JSONL events (message, datetime, timestamp_desc + attributes) to import
              into Timesketch

Every export carries the audit chain's head hash and counts and is itself recorded in
the chain (export.created); 'tourniquet audit verify --export FILE.json' checks a JSON
export against the live chain. No secret value is ever exported: credentials appear as
fingerprints and hints.

Output goes to stdout, or with --out to FILE, written atomically (a new file gets mode
0600; an existing one keeps its mode; a symbolic link is refused).`,
		Example: `  tourniquet export > postmortem.md
  tourniquet export --format md --out postmortem.md
  tourniquet export --format html --out postmortem.html
  tourniquet export --format json --out postmortem.json && tourniquet audit verify --export postmortem.json
  tourniquet export --format timesketch --out timeline.jsonl   # then import into Timesketch`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.export(cmd, o) },
	}
	cmd.Flags().StringVar(&o.format, "format", "md", "md, json, html or timesketch")
	cmd.Flags().StringVar(&o.out, "out", "", "write to FILE (atomically) instead of stdout")
	cmd.Flags().StringArrayVar(&o.packRefs, "pack", nil, "pack ID or FILE describing the compromise (repeatable; default: every built-in pack)")
	return cmd
}

func (a *app) export(cmd *cobra.Command, o exportOptions) error {
	ctx := cmd.Context()
	f, err := postmortem.ParseFormat(o.format)
	if err != nil {
		return withCode(exitUsage, err)
	}
	ps, err := packs.Resolve(o.packRefs)
	if err != nil {
		return withCode(exitUsage, err)
	}
	st, err := a.openStore(ctx, true)
	if err != nil {
		return err
	}
	defer st.Close()
	opts := postmortem.Options{Incident: a.incident, Now: st.Now, Packs: ps, Generator: buildVersion()}
	var rep *postmortem.Report
	if o.out == "" {
		rep, err = postmortem.Export(ctx, st, opts, f, a.io.Out, "stdout")
	} else {
		rep, err = postmortem.ExportFile(ctx, st, opts, f, o.out)
	}
	if errors.Is(err, postmortem.ErrEmptyIncident) {
		return withCode(exitUsage, fmt.Errorf("%w (check --incident, or scan first)", err))
	}
	if err != nil {
		return err
	}
	if o.out == "" {
		return nil
	}
	in := rep.Integrity
	if a.json {
		return a.printJSON(map[string]any{
			"schema": "tourniquet.export/v1", "path": o.out, "format": string(f), "incident": rep.Incident,
			"head_seq": in.Chain.HeadSeq, "head_hash": in.Chain.HeadHash, "content_sha256": in.ContentSHA256,
		})
	}
	a.errf("wrote the %s post-mortem of incident %s to %s\naudit chain head: event %d, %s (%d events); content %s\n",
		f, rep.Incident, o.out, in.Chain.HeadSeq, in.Chain.HeadHash, in.Chain.Events, in.ContentSHA256)
	return nil
}
