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
