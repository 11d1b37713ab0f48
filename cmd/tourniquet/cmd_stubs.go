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

func newPlaybookCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "playbook",
		Short: "Run resumable rotation playbooks",
		Long: `Playbooks rotate one credential each, step by step, with every step's state in the
database: a crash, Ctrl-C or provider outage is resumed with 'playbook resume'.
Destructive steps (deactivate, delete, revoke) pause for approval unless --yes.`,
		Example: `  tourniquet playbook list
  tourniquet playbook run aws-access-key --credential c-1a2b --dry-run
  tourniquet playbook resume r-7f3e`,
	}
	var credential string
	var dryRun, yes bool
	run := &cobra.Command{
		Use:   "run ID --credential CRED",
		Short: "Start a playbook on a credential",
		Example: `  tourniquet playbook run aws-access-key --credential c-1a2b --dry-run
  tourniquet playbook run openai-api-key --credential c-9f00 --yes --json`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: notImplemented,
	}
	run.Flags().StringVar(&credential, "credential", "", "credential ID (from `tourniquet exposure`)")
	run.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	run.Flags().BoolVar(&yes, "yes", false, "approve destructive steps without asking")
	cmd.AddCommand(
		&cobra.Command{Use: "list", Short: "List built-in playbooks", Example: "  tourniquet playbook list --json", Args: argsUsage(cobra.NoArgs), RunE: notImplemented},
		&cobra.Command{Use: "show ID", Short: "Show a playbook's steps and what it cannot automate", Example: "  tourniquet playbook show aws-access-key", Args: argsUsage(cobra.ExactArgs(1)), RunE: notImplemented},
		run,
		&cobra.Command{Use: "resume RUN", Short: "Resume an interrupted run", Example: "  tourniquet playbook resume r-7f3e", Args: argsUsage(cobra.ExactArgs(1)), RunE: notImplemented},
		&cobra.Command{Use: "status [RUN]", Short: "Show runs and their steps", Example: "  tourniquet playbook status\n  tourniquet playbook status r-7f3e --json", Args: argsUsage(cobra.MaximumNArgs(1)), RunE: notImplemented},
	)
	return cmd
}

func newGatewayCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Embedded LLM gateway with scoped virtual keys and verified re-routing",
		Long: `An OpenAI- and Anthropic-compatible gateway: apps hold scoped virtual keys, only
the gateway holds provider keys (encrypted at rest), and a route moves to a rotated
key only after a canary request with it succeeds.`,
		Example: `  tourniquet gateway import-litellm ./litellm-config.yaml
  tourniquet gateway keys create --routes gpt-4o --budget 50
  tourniquet gateway serve --listen 127.0.0.1:4000`,
	}
	var listen string
	serve := &cobra.Command{Use: "serve", Short: "Serve the gateway", Example: "  tourniquet gateway serve --listen 127.0.0.1:4000", Args: argsUsage(cobra.NoArgs), RunE: notImplemented}
	serve.Flags().StringVar(&listen, "listen", "127.0.0.1:4000", "address to listen on")
	keys := &cobra.Command{Use: "keys", Short: "Manage virtual keys", Example: "  tourniquet gateway keys create --routes gpt-4o --budget 50"}
	keys.AddCommand(&cobra.Command{Use: "create", Short: "Create a virtual key (printed once)", Example: "  tourniquet gateway keys create --routes gpt-4o,claude-sonnet --budget 50", Args: argsUsage(cobra.NoArgs), RunE: notImplemented})
	cmd.AddCommand(
		serve,
		&cobra.Command{Use: "import-litellm CONFIG", Short: "Turn a LiteLLM proxy config.yaml into routes", Example: "  tourniquet gateway import-litellm /etc/litellm/config.yaml", Args: argsUsage(cobra.ExactArgs(1)), RunE: notImplemented},
		keys,
		&cobra.Command{Use: "status", Short: "Routes, key fingerprints, last verification, error rates", Example: "  tourniquet gateway status --json", Args: argsUsage(cobra.NoArgs), RunE: notImplemented},
	)
	return cmd
}

func newExportCmd(a *app) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the post-mortem (Markdown, JSON, HTML, Timesketch)",
		Example: `  tourniquet export --format md --out postmortem.md
  tourniquet export --format html --out postmortem.html`,
		Args: argsUsage(cobra.NoArgs),
		RunE: notImplemented,
	}
	cmd.Flags().StringVar(&format, "format", "md", "md, json, html or timesketch")
	cmd.Flags().StringVar(&out, "out", "", "write to FILE instead of stdout")
	return cmd
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
