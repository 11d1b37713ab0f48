package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/gateway"
	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

func newGatewayCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Embedded LLM gateway with scoped virtual keys and verified re-routing",
		Long: `An OpenAI- and Anthropic-compatible gateway built to replace a compromised LLM
router: apps hold scoped virtual keys (only their hashes are stored), only the
gateway holds provider keys (age-encrypted next to the database, mode 0600), and a
route moves to a rotated provider key only after a canary request with that key
succeeds. Every switch and every request's metadata go to the audit chain.

The keystore's identity file sits next to the database; set
` + keystore.PassphraseEnv + ` to use a passphrase instead.`,
		Example: `  tourniquet gateway import-litellm /etc/litellm/config.yaml
  tourniquet gateway keys create --routes gpt-4o,claude-sonnet --budget 2000000 --rpm 120
  tourniquet gateway serve --listen 127.0.0.1:4000
  OPENAI_BASE_URL=http://127.0.0.1:4000/v1 OPENAI_API_KEY=tqv-... your-app`,
	}
	var allow []string
	cmd.PersistentFlags().StringSliceVar(&allow, "allow-host", nil, "allow upstream HOST beyond the providers' public API hosts (repeatable)")
	allowList := func() gateway.AllowList { return gateway.NewAllowList(allow) }
	cmd.AddCommand(newGatewayServeCmd(a, allowList), newGatewayRoutesCmd(a, allowList), newGatewayKeysCmd(a),
		newGatewayProviderKeyCmd(a), newGatewayImportCmd(a, allowList), newGatewayStatusCmd(a))
	return cmd
}

func (a *app) openKeystore(st *store.Store) (*keystore.Store, error) {
	ks, id := keystore.DefaultPaths(st.Path())
	k, err := keystore.Open(ks, id, a.getenv)
	if err != nil {
		return nil, fmt.Errorf("gateway keystore: %w", err)
	}
	return k, nil
}

func newGatewayServeCmd(a *app, allow func() gateway.AllowList) *cobra.Command {
	var listen string
	var logContent bool
	var maxBody int64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the gateway until interrupted",
		Long: `Serves POST /v1/chat/completions, /v1/embeddings and /v1/messages (streaming or not)
and GET /v1/models to holders of virtual keys. Routes, virtual keys and the keystore
are re-read every second: a key a playbook delivers is verified with a canary
request before its route switches to it.`,
		Example: "  tourniquet gateway serve --listen 127.0.0.1:4000",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("--listen %q: %w", listen, err))
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				a.errf("warning: listening on %s, beyond this machine; virtual keys are the only protection\n", listen)
			}
			st, err := a.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			ks, err := a.openKeystore(st)
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(a.io.Err, &slog.HandlerOptions{Level: slog.LevelInfo}))
			gw, err := gateway.New(ctx, gateway.Options{Store: st, Keys: ks, Incident: a.incident, Allow: allow(),
				LogContent: logContent, MaxBody: maxBody, Logger: logger})
			if err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
			gw.Listen = ln.Addr().String()
			srv := gw.HTTPServer(gw.Listen)
			runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			done := make(chan struct{})
			gw.WriteStatus(ctx) // before clients (and rotations) can see it
			go func() { gw.Run(runCtx); close(done) }()
			s := gw.Status()
			a.errf("gateway listening on http://%s (%d routes, %d virtual keys); Ctrl-C stops it\n", gw.Listen, len(s.Routes), s.Keys)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err = <-errc:
			case <-ctx.Done():
				// Let in-flight requests (streams included) finish, within bounds.
				sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				err = srv.Shutdown(sctx)
				scancel()
			}
			cancel()
			<-done // the audit batch is flushed
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("gateway: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4000", "address to listen on (loopback by default)")
	cmd.Flags().BoolVar(&logContent, "log-content", false, "record request bodies in the audit log (default: their SHA-256 only)")
	cmd.Flags().Int64Var(&maxBody, "max-body", 4<<20, "largest request body accepted, in bytes")
	return cmd
}

func newGatewayRoutesCmd(a *app, allow func() gateway.AllowList) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "routes",
		Short: "Manage routes (model name -> provider, upstream, key reference)",
		Example: `  tourniquet gateway routes add gpt-4o --provider openai --key-ref openai-prod
  tourniquet gateway routes add claude --provider anthropic --key-ref anthropic --upstream-model claude-sonnet-4-5 --translate
  tourniquet gateway routes list`,
	}
	var r store.GatewayRoute
	add := &cobra.Command{
		Use:   "add MODEL",
		Short: "Add or replace a route",
		Example: `  tourniquet gateway routes add gpt-4o --key-ref openai-prod --fallback gpt-4o-mini
  tourniquet gateway routes add local --base-url http://127.0.0.1:8000/v1 --key-ref vllm`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r.Model = args[0]
			if r.BaseURL == "" {
				switch r.Provider {
				case "openai":
					r.BaseURL = "https://api.openai.com"
				case "anthropic":
					r.BaseURL = "https://api.anthropic.com"
				}
			}
			r.BaseURL = strings.TrimSuffix(strings.TrimRight(r.BaseURL, "/"), "/v1")
			if err := allow().ValidateRoute(r); err != nil {
				return withCode(exitUsage, err)
			}
			st, err := a.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			routes, err := st.GatewayRoutes(ctx)
			if err != nil {
				return err
			}
			for _, f := range r.Fallbacks {
				if f != r.Model && !slices.ContainsFunc(routes, func(x store.GatewayRoute) bool { return x.Model == f }) {
					return withCode(exitUsage, fmt.Errorf("fallback %q is not a route (add it first)", f))
				}
			}
			err = st.Update(ctx, func(tx *store.Tx) error {
				if err := tx.PutGatewayRoute(ctx, r); err != nil {
					return err
				}
				_, err := tx.Audit(ctx, a.incident, "gateway.route_set", r.Model, r)
				return err
			})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(r)
			}
			a.outf("route %s -> %s %s (key %s)\n", sanitize.Terminal(r.Model), r.Provider, r.BaseURL, sanitize.Terminal(r.KeyRef))
			return nil
		},
	}
	add.Flags().StringVar(&r.Provider, "provider", "openai", "openai (or OpenAI-compatible) or anthropic")
	add.Flags().StringVar(&r.BaseURL, "base-url", "", "upstream base URL (default: the provider's public API)")
	add.Flags().StringVar(&r.KeyRef, "key-ref", "", "provider key reference in the keystore (see `gateway provider-key set`)")
	add.Flags().StringVar(&r.UpstreamModel, "upstream-model", "", "model name sent upstream (default: MODEL)")
	add.Flags().BoolVar(&r.Translate, "translate", false, "translate OpenAI-format requests to Anthropic's Messages API")
	add.Flags().DurationVar(&r.Timeout, "timeout", 2*time.Minute, "upstream timeout per attempt")
	add.Flags().StringSliceVar(&r.Fallbacks, "fallback", nil, "route to try on 429, 5xx or timeout (repeatable, in order)")
	_ = add.MarkFlagRequired("key-ref")

	list := &cobra.Command{
		Use:     "list",
		Short:   "List routes",
		Example: "  tourniquet gateway routes list --json",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			routes, err := st.GatewayRoutes(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"routes": nonNilSlice(routes)})
			}
			a.printRoutes(routes)
			return nil
		},
	}
	rm := &cobra.Command{
		Use:     "rm MODEL",
		Short:   "Remove a route",
		Example: "  tourniquet gateway routes rm gpt-4o-old",
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			err = st.Update(ctx, func(tx *store.Tx) error {
				if err := tx.DeleteGatewayRoute(ctx, args[0]); err != nil {
					return err
				}
				_, err := tx.Audit(ctx, a.incident, "gateway.route_removed", args[0], nil)
				return err
			})
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, fmt.Errorf("no route %q", args[0]))
			}
			return err
		},
	}
	cmd.AddCommand(add, list, rm)
	return cmd
}

func (a *app) printRoutes(routes []store.GatewayRoute) {
	if len(routes) == 0 {
		a.outf("no routes (add one with `tourniquet gateway routes add`, or `gateway import-litellm`)\n")
		return
	}
	tw := tabwriter.NewWriter(a.io.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPROVIDER\tUPSTREAM\tKEY REF\tFALLBACKS")
	for _, r := range routes {
		up := r.BaseURL
		if r.UpstreamModel != "" {
			up += " (" + r.UpstreamModel + ")"
		}
		if r.Translate {
			up += " [translate]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sanitize.Terminal(r.Model), r.Provider, sanitize.Terminal(up), sanitize.Terminal(r.KeyRef),
			sanitize.Terminal(strings.Join(r.Fallbacks, ",")))
	}
	tw.Flush()
}

func newGatewayKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage virtual keys (what apps hold instead of provider keys)",
		Example: `  tourniquet gateway keys create --routes gpt-4o,claude-sonnet --budget 2000000 --rpm 120 --name billing-svc
  tourniquet gateway keys list
  tourniquet gateway keys revoke vk-3f2a9c01de`,
	}
	var k store.GatewayKey
	create := &cobra.Command{
		Use:     "create",
		Short:   "Create a virtual key (printed once, never stored)",
		Example: "  tourniquet --json gateway keys create --routes gpt-4o --budget 2000000 --rpm 120 --name billing-svc",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if len(k.Models) == 0 {
				return withCode(exitUsage, errors.New("--routes: name the routes this key may use"))
			}
			if k.BudgetTokens < 0 || k.RPM < 0 {
				return withCode(exitUsage, errors.New("--budget and --rpm are zero (unlimited) or positive"))
			}
			st, err := a.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			routes, err := st.GatewayRoutes(ctx)
			if err != nil {
				return err
			}
			for _, m := range k.Models {
				if !slices.ContainsFunc(routes, func(r store.GatewayRoute) bool { return r.Model == m }) {
					return withCode(exitUsage, fmt.Errorf("--routes: %q is not a route (see `tourniquet gateway routes list`)", m))
				}
			}
			key, id, hash, err := gateway.NewVirtualKey()
			if err != nil {
				return err
			}
			k.ID, k.Hash = id, hash
			k.Hint = redact.Hint(key)
			err = st.Update(ctx, func(tx *store.Tx) error {
				if err := tx.CreateGatewayKey(ctx, k); err != nil {
					return err
				}
				_, err := tx.Audit(ctx, a.incident, "gateway.key_created", id,
					map[string]any{"name": k.Name, "models": k.Models, "budget_tokens": k.BudgetTokens, "rpm": k.RPM, "hint": k.Hint})
				return err
			})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"id": id, "key": key})
			}
			a.outf("%s\n", key)
			a.errf("virtual key %s for %s: shown this once; only its hash is stored\n", id, strings.Join(k.Models, ", "))
			return nil
		},
	}
	create.Flags().StringSliceVar(&k.Models, "routes", nil, "routes (model names) the key may use")
	create.Flags().StringVar(&k.Name, "name", "", "label, e.g. the app that holds it")
	create.Flags().Int64Var(&k.BudgetTokens, "budget", 0, "token budget (prompt + completion); 0 is unlimited")
	create.Flags().IntVar(&k.RPM, "rpm", 0, "requests per minute; 0 is unlimited")

	list := &cobra.Command{
		Use:     "list",
		Short:   "List virtual keys (ids, scopes, budgets; never the keys)",
		Example: "  tourniquet gateway keys list",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := st.GatewayKeys(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"keys": nonNilSlice(keys)})
			}
			if len(keys) == 0 {
				a.outf("no virtual keys (create one with `tourniquet gateway keys create --routes ...`)\n")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tKEY\tROUTES\tSPENT/BUDGET\tRPM\tSTATE")
			for _, k := range keys {
				state := "active"
				if k.RevokedAt != nil {
					state = "revoked " + k.RevokedAt.Local().Format("2006-01-02 15:04")
				}
				budget := "unlimited"
				if k.BudgetTokens > 0 {
					budget = fmt.Sprint(k.BudgetTokens)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%s\t%d\t%s\n", k.ID, sanitize.Terminal(k.Name), k.Hint,
					sanitize.Terminal(strings.Join(k.Models, ",")), k.SpentTokens, budget, k.RPM, state)
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a virtual key (a running gateway refuses it within a second)",
		Example: "  tourniquet gateway keys revoke vk-3f2a9c01de",
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			err = st.Update(ctx, func(tx *store.Tx) error {
				if err := tx.RevokeGatewayKey(ctx, args[0]); err != nil {
					return err
				}
				_, err := tx.Audit(ctx, a.incident, "gateway.key_revoked", args[0], nil)
				return err
			})
			if errors.Is(err, store.ErrNotFound) {
				return withCode(exitUsage, fmt.Errorf("no active virtual key %q", args[0]))
			}
			return err
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func newGatewayProviderKeyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "provider-key",
		Short: "Manage provider keys in the encrypted keystore",
		Long: `Provider keys live only in the gateway's age-encrypted keystore (and the running
gateway's memory). Rotation playbooks deliver new keys here with
--param gateway_ref=REF; setting one by hand works the same way: a running
gateway verifies it with a canary request before any route uses it.`,
		Example: `  tourniquet gateway provider-key set openai-prod --secret-from env:OPENAI_API_KEY
  tourniquet gateway provider-key list`,
	}
	var from string
	set := &cobra.Command{
		Use:     "set REF",
		Short:   "Store a provider key under REF",
		Example: "  tourniquet gateway provider-key set openai-prod --secret-from env:OPENAI_API_KEY",
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if from == "" {
				return withCode(exitUsage, errors.New("--secret-from FILE or env:VAR is required (keys are never taken as arguments: they would land in shell history)"))
			}
			sec, err := readSecretFrom(from, a.getenv)
			if err != nil {
				return err
			}
			st, err := a.openStore(ctx, false)
			if err != nil {
				return err
			}
			defer st.Close()
			ks, err := a.openKeystore(st)
			if err != nil {
				return err
			}
			if err := ks.Put(ctx, args[0], sec); err != nil {
				return withCode(exitUsage, err)
			}
			err = st.Update(ctx, func(tx *store.Tx) error {
				_, err := tx.Audit(ctx, a.incident, "gateway.provider_key_set", args[0],
					map[string]string{"fingerprint": sec.Fingerprint(), "hint": sec.Hint()})
				return err
			})
			if err != nil {
				return err
			}
			a.outf("%s = %s (%s)\n", sanitize.Terminal(args[0]), sec.Hint(), sec.Fingerprint())
			return nil
		},
	}
	set.Flags().StringVar(&from, "secret-from", "", "read the key from FILE or env:VAR")
	list := &cobra.Command{
		Use:     "list",
		Short:   "List keystore references with fingerprints and hints",
		Example: "  tourniquet gateway provider-key list --json",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.openStore(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer st.Close()
			ks, err := a.openKeystore(st)
			if err != nil {
				return err
			}
			es, err := ks.Entries()
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"keys": nonNilSlice(es)})
			}
			tw := tabwriter.NewWriter(a.io.Out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REF\tKEY\tFINGERPRINT\tUPDATED")
			for _, e := range es {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sanitize.Terminal(e.Ref), e.Hint, e.Fingerprint, e.UpdatedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(set, list)
	return cmd
}

func newGatewayImportCmd(a *app, allow func() gateway.AllowList) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "import-litellm CONFIG",
		Short: "Turn a LiteLLM proxy config.yaml into routes and keystore entries",
		Long: `Reads model_list (litellm_params model, api_base, api_key, timeout) and the
fallbacks of router_settings/litellm_settings. api_key: os.environ/VAR is read from
this process's environment (run it where LiteLLM ran, or export the variables);
literal keys are imported and flagged for rotation. Deployments sharing a
model_name become fallbacks of the first. Everything else is reported as unmapped.
The file is read, never executed.`,
		Example: `  tourniquet gateway import-litellm /etc/litellm/config.yaml
  tourniquet gateway import-litellm config.yaml --dry-run --json`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := os.Open(args[0])
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("import-litellm: %w", err))
			}
			imp, err := gateway.ParseLiteLLM(f, a.getenv)
			f.Close()
			if err != nil {
				return withCode(exitUsage, fmt.Errorf("import-litellm %s: %w", args[0], err))
			}
			imp.Restrict(allow())
			if !dryRun {
				if err := a.applyImport(ctx, imp, args[0]); err != nil {
					return err
				}
			}
			if a.json {
				return a.printJSON(map[string]any{"dry_run": dryRun, "routes": nonNilSlice(imp.Routes), "keys": nonNilSlice(imp.KeySources),
					"unmapped": imp.Unmapped, "warnings": imp.Warnings})
			}
			verb := "imported"
			if dryRun {
				verb = "would import"
			}
			a.outf("%s %d routes:\n", verb, len(imp.Routes))
			a.printRoutes(imp.Routes)
			a.outf("\nprovider keys:\n")
			for _, k := range imp.KeySources {
				state := k.Hint + " " + k.FP
				if !k.Found {
					state = "MISSING: set it with `tourniquet gateway provider-key set " + k.Ref + " --secret-from " + k.From + "`"
				}
				a.outf("  %-28s from %-28s %s\n", sanitize.Terminal(k.Ref), sanitize.Terminal(k.From), sanitize.Terminal(state))
			}
			for _, w := range imp.Warnings {
				a.outf("warning: %s\n", sanitize.Terminal(w))
			}
			if len(imp.Unmapped) > 0 {
				a.outf("\nnot mapped (%d):\n", len(imp.Unmapped))
				for _, u := range imp.Unmapped {
					a.outf("  %s: %s\n", sanitize.Terminal(u.Where), sanitize.Terminal(u.Why))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be imported, change nothing")
	return cmd
}

// applyImport stores routes and keys: keys first, so that a route never
// names a key the keystore was about to receive.
func (a *app) applyImport(ctx context.Context, imp *gateway.LiteLLMImport, src string) error {
	st, err := a.openStore(ctx, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(imp.Keys) > 0 {
		ks, err := a.openKeystore(st)
		if err != nil {
			return err
		}
		for _, k := range imp.KeySources {
			if sec, ok := imp.Keys[k.Ref]; ok {
				if err := ks.Put(ctx, k.Ref, sec); err != nil {
					return fmt.Errorf("import-litellm: %w", err)
				}
			}
		}
	}
	return st.Update(ctx, func(tx *store.Tx) error {
		// Fallbacks may name routes imported later in the list: two passes.
		for _, r := range imp.Routes {
			fb := r.Fallbacks
			r.Fallbacks = nil
			if err := tx.PutGatewayRoute(ctx, r); err != nil {
				return err
			}
			r.Fallbacks = fb
		}
		for _, r := range imp.Routes {
			if err := tx.PutGatewayRoute(ctx, r); err != nil {
				return err
			}
		}
		_, err := tx.Audit(ctx, a.incident, "gateway.import_litellm", src, map[string]any{
			"routes": len(imp.Routes), "keys": imp.KeySources, "unmapped": len(imp.Unmapped), "warnings": imp.Warnings})
		return err
	})
}

func newGatewayStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Routes, key fingerprints, last verification, request and error rates",
		Example: "  tourniquet gateway status\n  tourniquet gateway status --json",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			gs, err := a.gatewayReport(ctx, st)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(gs)
			}
			a.printGatewayStatus(gs)
			return nil
		},
	}
}

func (a *app) gatewayReport(ctx context.Context, st *store.Store) (*gateway.Report, error) {
	ks, err := a.openKeystore(st)
	if err != nil {
		return gateway.BuildReport(ctx, st, nil, err)
	}
	return gateway.BuildReport(ctx, st, ks, nil)
}

func (a *app) printGatewayStatus(r *gateway.Report) {
	a.outf("%s\n", r.Headline())
	if r.Note != "" {
		a.outf("keystore: %s\n", sanitize.Terminal(r.Note))
	}
	if len(r.Routes) == 0 {
		return
	}
	tw := tabwriter.NewWriter(a.io.Out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tKEY REF\tACTIVE KEY\tLAST VERIFICATION\tREQ/MIN\tERRORS")
	for _, row := range r.Rows() {
		key, verify, rate, errs := row.Key, "-", "-", "-"
		switch {
		case row.Live && key == "":
			key = "none verified"
		case !row.Live && key == "":
			key = "MISSING in keystore"
		case !row.Live:
			key += " (in keystore)"
		}
		if row.Verified != nil {
			verify = row.Verified.Local().Format("15:04:05") + " ok"
			if !row.VerifyOK {
				verify = row.Verified.Local().Format("15:04:05") + " FAILED: " + row.VerifyEr
			}
		}
		if row.Live {
			rate, errs = fmt.Sprintf("%.1f", row.PerMin), fmt.Sprintf("%d/%d", row.Errors, row.Requests)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sanitize.Terminal(row.Model), sanitize.Terminal(row.KeyRef), key,
			sanitize.Terminal(sanitize.Truncate(verify, 80)), rate, errs)
	}
	tw.Flush()
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
