package main

import (
	"context"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/tui"
)

type consoleOptions struct {
	root     string
	packRefs []string
	noColor  bool
	run      runFlags
	kube     bool
	kubeOpts kubeOptions
}

func newConsoleCmd(a *app) *cobra.Command {
	var o consoleOptions
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Open the console (what `tourniquet` with no command does)",
		Long: `The console shows the incident at a glance and puts the next safe action one key
away: 1 Overview (s scans; c scans the cluster with --kube), 2 Evidence, 3 Credentials (r rotates), 4 Playbooks
(a approves, R resumes), 6 Audit. ? shows every key; : opens the command palette.

It drives the same engine as the CLI: scans, runs and approvals made here are the
ones 'tourniquet exposure' and 'tourniquet playbook status' show. Quitting during a
run pauses it so that it can be resumed.`,
		Example: `  tourniquet                         # this machine, default database
  tourniquet console --root /mnt/disk  # scan a mounted image from the console
  tourniquet console --kube --context prod  # c scans that cluster from the console
  NO_COLOR=1 tourniquet console        # no colours: every state is also written out`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return a.console(cmd.Context(), o) },
	}
	cmd.Flags().StringVar(&o.root, "root", "/", "what the console's scan reads as / (a mounted image, a node's filesystem)")
	cmd.Flags().StringArrayVar(&o.packRefs, "pack", nil, "pack ID or FILE (repeatable; default: every built-in pack)")
	cmd.Flags().BoolVar(&o.noColor, "no-color", false, "no colours (also: NO_COLOR=1)")
	cmd.Flags().BoolVar(&o.kube, "kube", false, "let c scan a Kubernetes cluster (the kubeconfig's current context, or --context)")
	cmd.Flags().StringVar(&o.kubeOpts.kubeconfig, "kubeconfig", "", "with --kube: kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	cmd.Flags().StringVar(&o.kubeOpts.context, "context", "", "with --kube: kubeconfig context (default: the current context)")
	cmd.Flags().StringArrayVar(&o.kubeOpts.auditLogs, "kube-audit-log", nil, "with --kube: an API server audit log file, JSON lines (repeatable)")
	o.run.register(cmd)
	return cmd
}

func (a *app) console(ctx context.Context, o consoleOptions) error {
	if !isTerminal(os.Stdout) || !isTerminal(os.Stdin) {
		return withCode(exitUsage, fmt.Errorf("the console needs a terminal; for scripts use the commands (tourniquet --help), e.g. tourniquet scan --json"))
	}
	ps, err := packs.Resolve(o.packRefs)
	if err != nil {
		return withCode(exitUsage, err)
	}
	st, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	params, err := o.run.paramMap()
	if err != nil {
		return withCode(exitUsage, err)
	}
	actions := a.actions(st, &o.run)
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	backend := &tui.Local{Store: st, IncidentName: a.incident, Packs: ps, Actions: actions, Params: params, Getenv: a.getenv,
		ScanOpts: host.Options{Root: o.root, Live: o.root == "/"}}
	if o.kube {
		if backend.Cluster, err = a.clusterSource(o.kubeOpts, ps); err != nil {
			return err
		}
	}
	model := tui.New(tui.Options{Backend: backend, Packs: ids, Context: ctx})
	opts := []tea.ProgramOption{tea.WithContext(ctx)}
	if o.noColor || a.getenv("NO_COLOR") != "" {
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	}
	final, err := tea.NewProgram(model, opts...).Run()
	if m, ok := final.(tui.Model); ok && len(m.Resumable) > 0 {
		for _, id := range m.Resumable {
			a.errf("run %s is paused: resume it with `tourniquet playbook resume %s` or from the console\n", id, id)
		}
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}
