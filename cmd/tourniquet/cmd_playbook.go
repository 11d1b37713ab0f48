package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/gateway"
	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators"
	rotaws "github.com/tourniquet-ir/tourniquet/rotators/aws"
	rotgh "github.com/tourniquet-ir/tourniquet/rotators/github"
	rotllm "github.com/tourniquet-ir/tourniquet/rotators/llm"
	"github.com/tourniquet-ir/tourniquet/rotators/sinks"
	"github.com/tourniquet-ir/tourniquet/store"
)

// runFlags are the options shared by run and resume.
type runFlags struct {
	yes        bool
	confirm    []string
	params     []string
	with       []string
	secretFrom string
	aws        rotaws.Options
	self       bool
	githubAPI  string
	oldFrom    string
}

func (f *runFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.yes, "yes", false, "approve every destructive step and confirm manual ones, without asking")
	fl.StringArrayVar(&f.confirm, "confirm", nil, "approve or confirm only this step ID (repeatable)")
	fl.StringArrayVar(&f.params, "param", nil, "playbook parameter KEY=VALUE (repeatable; see `playbook show`)")
	fl.StringArrayVar(&f.with, "with", nil, "enable an optional step (repeatable; e.g. revoke-sessions)")
	fl.StringVar(&f.secretFrom, "secret-from", "", "read a new secret the operator supplies from FILE or env:VAR (never from the command line)")
	fl.StringVar(&f.aws.Profile, "aws-profile", "", "AWS profile for your own credentials (as in the AWS CLI)")
	fl.StringVar(&f.aws.Region, "region", "", "AWS region (as in the AWS CLI)")
	fl.StringVar(&f.aws.EndpointURL, "aws-endpoint-url", "", "AWS endpoint URL (emulators, VPC endpoints); AWS_ENDPOINT_URL is honoured too")
	fl.BoolVar(&f.self, "self", false, "act with the exposed AWS key itself instead of your own credentials")
	fl.StringVar(&f.githubAPI, "github-api-url", ghc.DefaultBaseURL, "GitHub REST API root (token: GH_TOKEN, GITHUB_TOKEN or gh's hosts.yml)")
	fl.StringVar(&f.oldFrom, "old-secret-from", "", "read the exposed secret from FILE or env:VAR when it is no longer where it was found (github-token revoke after a crash)")
}

func (f *runFlags) paramMap() (map[string]any, error) {
	m := map[string]any{}
	for _, kv := range f.params {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want KEY=VALUE", kv)
		}
		m[k] = v
	}
	if len(f.with) > 0 {
		var w []any
		for _, s := range f.with {
			w = append(w, s)
		}
		m["with"] = w
	}
	if f.self {
		m["self"] = true
	}
	return m, nil
}

// engine wires the engine with every provider's actions and the CLI's event
// printer.
// actions are every provider's actions, as the CLI and the console
// register them.
func (a *app) actions(st *store.Store, f *runFlags) map[string]rotators.Action {
	actions := map[string]rotators.Action{}
	for k, v := range rotaws.New(f.aws).Actions() {
		actions[k] = v
	}
	gh := rotgh.New(rotgh.Options{APIURL: f.githubAPI, Token: func() (ghc.TokenSource, error) {
		return ghc.TokenFromEnvironment(a.getenv, f.githubAPI)
	}})
	for k, v := range gh.Actions() {
		actions[k] = v
	}
	for k, v := range a.llmProvider(st).Actions() {
		actions[k] = v
	}
	return actions
}

func (a *app) engine(st *store.Store, f *runFlags) (*playbooks.Engine, error) {
	actions := a.actions(st, f)
	e := &playbooks.Engine{Store: st, Actions: actions, Yes: f.yes, Confirm: map[string]bool{}, CrashHook: crashHook(), Inputs: &rotators.Secrets{}}
	for _, c := range f.confirm {
		e.Confirm[c] = true
	}
	if f.secretFrom != "" {
		sec, err := readSecretFrom(f.secretFrom, a.getenv)
		if err != nil {
			return nil, err
		}
		e.Inputs.Put("new_secret", sec)
	}
	if f.oldFrom != "" {
		sec, err := readSecretFrom(f.oldFrom, a.getenv)
		if err != nil {
			return nil, err
		}
		e.Inputs.Put("old_secret", sec)
	}
	if a.json {
		enc := json.NewEncoder(a.io.Out)
		enc.SetEscapeHTML(false)
		e.OnEvent = func(ev playbooks.Event) { _ = enc.Encode(ev) }
	} else {
		e.OnEvent = func(ev playbooks.Event) { a.printEvent(ev) }
	}
	return e, nil
}

// llmProvider builds the LLM rotators: admin keys are read from the
// environment at run time, and the gateway keystore next to the database is
// opened only when a run asks for it (--param gateway_ref).
func (a *app) llmProvider(st *store.Store) *rotllm.Provider {
	return rotllm.New(rotllm.Options{Getenv: a.getenv, Keystore: func() (sinks.Keystore, error) {
		ks, id := keystore.DefaultPaths(st.Path())
		return keystore.Open(ks, id, a.getenv)
	}, GatewaySwitched: func(ctx context.Context, ref, fp string) error {
		// A running gateway verifies the new key with a canary and switches;
		// the old key is revoked only after that.
		return gateway.WaitSwitched(ctx, st, ref, fp, 90*time.Second)
	}})
}

// readSecretFrom reads an operator-supplied secret from a file or an
// environment variable: never from argv, where ps and shell history see it.
func readSecretFrom(src string, getenv func(string) string) (redact.Secret, error) {
	if name, ok := strings.CutPrefix(src, "env:"); ok {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return redact.Secret{}, withCode(exitUsage, fmt.Errorf("--secret-from env:%s: the variable is empty or unset", name))
		}
		return redact.NewSecretString(v), nil
	}
	f, err := os.Open(src)
	if err != nil {
		return redact.Secret{}, withCode(exitUsage, fmt.Errorf("--secret-from: %w", err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return redact.Secret{}, withCode(exitUsage, fmt.Errorf("--secret-from: %w", err))
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return redact.Secret{}, withCode(exitUsage, fmt.Errorf("--secret-from %s: the file is empty", src))
	}
	return redact.NewSecretString(v), nil
}

func (a *app) printEvent(ev playbooks.Event) {
	t := ev.Time.Local().Format("15:04:05")
	s := sanitize.Terminal
	switch ev.Type {
	case "step.started":
		a.outf("%s  step %d %s: %s\n", t, ev.Index+1, s(ev.Step), s(ev.Message))
	case "step.finished":
		a.outf("%s  step %d %s: done %s\n", t, ev.Index+1, s(ev.Step), sanitize.Truncate(ev.Message, 160))
	case "step.note":
		a.outf("%s    %s\n", t, sanitize.Truncate(ev.Message, 200))
	case "step.skipped":
		a.outf("%s  step %d %s: skipped (optional)\n", t, ev.Index+1, s(ev.Step))
	case "step.awaiting_approval":
		a.outf("%s  step %d %s: APPROVAL NEEDED\n           %s\n", t, ev.Index+1, s(ev.Step), s(ev.Message))
	case "run.rewound":
		a.outf("%s  back to step %s: %s\n", t, s(ev.Step), s(ev.Message))
	case "run.finished":
		a.outf("%s  run %s %s %s\n", t, ev.Run, strings.ToUpper(ev.State), s(ev.Message))
	case "run.created":
		a.outf("%s  run %s created: %s\n", t, ev.Run, s(ev.Message))
	}
}

// runExit maps a run's end state to the exit code contract.
func runExit(state string, err error) error {
	switch {
	case errors.Is(err, rotators.ErrAuth):
		return withCode(exitAuth, err)
	case errors.Is(err, context.Canceled):
		return withCode(exitCancel, nil)
	case state == store.RunDone:
		return nil
	case state == store.RunAwaitingApproval:
		return withCode(exitApproval, nil)
	case err != nil && (errors.Is(err, store.ErrLeased) || errors.Is(err, store.ErrNotFound)):
		return withCode(exitUsage, err)
	}
	if err == nil {
		err = fmt.Errorf("run ended %s", state)
	}
	return withCode(exitFound, err)
}

func newPlaybookCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "playbook",
		Short: "Run resumable rotation playbooks",
		Long: `Playbooks rotate one credential each, step by step, with every step's state in the
database: a crash, Ctrl-C or provider outage is resumed with 'playbook resume'.
Destructive steps (deactivate, delete, revoke) and manual steps pause for approval
unless --yes (or --confirm STEP). The old credential is never touched before the new
one is delivered and verified.

Exit status of run and resume: 0 done, 1 failed or paused (resumable), 3 cancelled,
4 provider refused your credentials, 8 awaiting approval.`,
		Example: `  tourniquet playbook list
  tourniquet playbook show aws-access-key
  tourniquet playbook run aws-access-key --credential c-1a2b3c --dry-run
  tourniquet playbook run aws-access-key --credential c-1a2b3c --json
  tourniquet playbook resume r-7f3e01aa92 --confirm deactivate-old`,
	}
	cmd.AddCommand(newPlaybookListCmd(a), newPlaybookShowCmd(a), newPlaybookRunCmd(a), newPlaybookResumeCmd(a), newPlaybookStatusCmd(a))
	return cmd
}

func newPlaybookListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List built-in playbooks", Example: "  tourniquet playbook list\n  tourniquet playbook list --json",
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := playbooks.Builtin()
			if err != nil {
				return err
			}
			if a.json {
				type item struct {
					ID         string   `json:"id"`
					Kind       string   `json:"kind"`
					Kinds      []string `json:"kinds"`
					Title      string   `json:"title"`
					Version    int      `json:"version"`
					Automation string   `json:"automation"`
				}
				out := struct {
					Schema    string `json:"schema"`
					Playbooks []item `json:"playbooks"`
				}{Schema: "tourniquet.playbooks/v1"}
				for _, p := range all {
					out.Playbooks = append(out.Playbooks, item{p.ID, p.Kind(), p.Kinds, p.Title, p.Version, p.Automation})
				}
				return a.printJSON(out)
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKINDS\tAUTOMATION\tVERSION\tTITLE")
			for _, p := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", p.ID, strings.Join(p.Kinds, ","), p.Automation, p.Version, p.Title)
			}
			return tw.Flush()
		},
	}
}

func newPlaybookShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show a playbook's steps and what it cannot automate",
		Example: "  tourniquet playbook show aws-access-key\n  tourniquet playbook show aws-access-key --json",
		Args:    argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := playbooks.Find(args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			if a.json {
				return a.printJSON(p)
			}
			a.outf("%s (version %d): %s\nrotates: %s\nautomation: %s\n\n%s\n", p.ID, p.Version, p.Title, strings.Join(p.Kinds, ", "), p.Automation, wrap(p.Description, 88))
			if len(p.Limits) > 0 {
				a.outf("\nWhat cannot be automated:\n")
				for _, l := range p.Limits {
					a.outf("  - %s\n", wrap(l, 84))
				}
			}
			a.outf("\nSteps:\n")
			for i, s := range p.Steps {
				tags := []string{s.Type}
				if s.Destructive {
					tags = append(tags, "destructive: asks for approval")
				}
				if s.Optional {
					tags = append(tags, "optional: --with "+s.ID)
				}
				a.outf("  %2d. %-16s %s [%s]\n", i+1, s.ID, s.Title, strings.Join(tags, "; "))
				if s.Description != "" {
					a.outf("      %s\n", wrap(s.Description, 80))
				}
				if s.Instructions != "" {
					a.outf("      you: %s\n", wrap(s.Instructions, 80))
				}
			}
			return nil
		},
	}
}

func wrap(s string, width int) string {
	words := strings.Fields(s)
	var b strings.Builder
	line := 0
	for _, w := range words {
		if line > 0 && line+1+len(w) > width {
			b.WriteString("\n        ")
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

func newPlaybookRunCmd(a *app) *cobra.Command {
	var f runFlags
	var credential string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "run ID --credential CRED",
		Short: "Start a playbook on a credential",
		Long: `Start a playbook on one credential (IDs from 'tourniquet exposure'). --dry-run prints
the plan, what would change in order, and touches nothing. With --json, one JSON
event per line is printed (step started, finished, awaiting approval...).`,
		Example: `  tourniquet playbook run aws-access-key --credential c-1a2b3c --dry-run
  tourniquet playbook run aws-access-key --credential c-1a2b3c --yes --json
  tourniquet playbook run aws-access-key --credential c-1a2b3c --param profile_path=$HOME/.aws/credentials --param profile=prod
  tourniquet playbook run aws-secretsmanager-secret --credential c-9f00 --param sm_secret=prod/db --secret-from env:NEW_PASSWORD`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if credential == "" {
				return withCode(exitUsage, fmt.Errorf("--credential is required (IDs: tourniquet exposure)"))
			}
			pb, err := playbooks.Find(args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			params, err := f.paramMap()
			if err != nil {
				return withCode(exitUsage, err)
			}
			st, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			e, err := a.engine(st, &f)
			if err != nil {
				return err
			}
			if dryRun {
				plan, err := e.Plan(ctx, pb, credential, params)
				if err != nil {
					return withCode(exitUsage, err)
				}
				if a.json {
					return a.printJSON(struct {
						Schema string               `json:"schema"`
						Plan   []playbooks.PlanLine `json:"plan"`
					}{"tourniquet.plan/v1", plan})
				}
				a.outf("Plan for %s on %s (nothing has been changed):\n", pb.ID, credential)
				for _, l := range plan {
					mark := " "
					if l.Destructive {
						mark = "!"
					}
					a.outf(" %s %2d. %-16s %s\n", mark, l.Index+1, l.Step, sanitize.Terminal(l.Change))
				}
				a.outf("\n! = destructive: asks for approval unless --yes or --confirm STEP.\n")
				return nil
			}
			_, state, err := e.Start(ctx, a.incident, pb, credential, params)
			if err != nil && state == "" {
				if errors.Is(err, store.ErrNotFound) {
					return withCode(exitUsage, err)
				}
				return err
			}
			return runExit(state, err)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&credential, "credential", "", "credential ID (from `tourniquet exposure`)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan (what would change, in order) and change nothing")
	return cmd
}

func newPlaybookResumeCmd(a *app) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "resume RUN",
		Short: "Resume an interrupted or paused run",
		Long: `Resume a run from its first unfinished step. A step that recorded its intent but
not its outcome is first reconciled with the provider (was the key created? was it
delivered?), never blindly repeated. Approve the step a run waits for with --confirm
STEP or --yes.`,
		Example: `  tourniquet playbook resume r-7f3e01aa92
  tourniquet playbook resume r-7f3e01aa92 --confirm deactivate-old --json`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			e, err := a.engine(st, &f)
			if err != nil {
				return err
			}
			state, err := e.Resume(ctx, args[0])
			return runExit(state, err)
		},
	}
	f.register(cmd)
	return cmd
}

func newPlaybookStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "status [RUN]", Short: "Show runs and their steps",
		Example: "  tourniquet playbook status\n  tourniquet playbook status r-7f3e01aa92 --json",
		Args:    argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if len(args) == 1 {
				r, err := st.GetRun(ctx, args[0])
				if err != nil {
					return withCode(exitUsage, err)
				}
				if a.json {
					return a.printJSON(struct {
						Schema string `json:"schema"`
						store.Run
					}{"tourniquet.run/v1", r})
				}
				a.printRun(r)
				return nil
			}
			runs, err := st.Runs(ctx, a.incident)
			if err != nil {
				return err
			}
			if a.json {
				if runs == nil {
					runs = []store.Run{}
				}
				return a.printJSON(struct {
					Schema string      `json:"schema"`
					Runs   []store.Run `json:"runs"`
				}{"tourniquet.runs/v1", runs})
			}
			if len(runs) == 0 {
				a.outf("No runs in incident %s. Start one: tourniquet playbook run ID --credential CRED\n", sanitize.Terminal(a.incident))
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tPLAYBOOK\tCREDENTIAL\tSTATE\tUPDATED")
			for _, r := range runs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Playbook, r.CredentialID, r.State, r.UpdatedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
}

func (a *app) printRun(r store.Run) {
	a.outf("run %s: %s on %s, %s (updated %s)\n", r.ID, r.Playbook, r.CredentialID, strings.ToUpper(r.State), r.UpdatedAt.Local().Format(time.DateTime))
	if r.Error != "" {
		a.outf("  %s\n", sanitize.Terminal(r.Error))
	}
	for _, s := range r.Steps {
		extra := ""
		if s.ApprovedBy != "" {
			extra = " approved by " + s.ApprovedBy
		}
		if s.Error != "" {
			extra += " error: " + s.Error
		}
		a.outf("  %2d. %-18s %-18s attempts %d%s\n", s.Index+1, s.Name, s.State, s.Attempts, sanitize.Terminal(extra))
	}
}
