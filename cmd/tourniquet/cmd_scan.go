package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tourniquet-ir/tourniquet/collectors"
	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

type scanOptions struct {
	root         string
	homes        []string
	packRefs     []string
	kube         bool
	name         string
	crossDevices bool
	noRecord     bool
	exclude      []string
	githubOrg    string
	githubUser   string
	githubAPIURL string
	kubeOpts     kubeOptions
	exitZero     bool
}

func newScanCmd(a *app) *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Gather host (and cluster) evidence, inventory credentials, compute the window",
		Long: `Scan a machine, or a mounted image of one, against the IOC packs.

Nothing found is executed: Python environments, .pth files, caches, manifests,
persistence, shell histories and CI workflows are read as files. Credentials are
parsed and recorded as fingerprint and hint only, each classified against the host's
compromised window (exposed, not_exposed, unknown) with the reason.

Results are recorded in the database under --incident (a re-scan updates, never
duplicates). Progress goes to stderr when it is a terminal. With --root, every path
printed is as seen inside that root, including /home/* and /root.

With --kube the target is a Kubernetes cluster instead (kubeconfig and --context as
kubectl): the packs' object rules over pods (completed and failed ones too),
workloads and events, workloads that ran a bad package version, and for every
compromised or suspect service account what RBAC lets it do and which Secrets it
can read (names, types and key names; never values). Locations are object
references (kube://CLUSTER/namespaces/NS/pods/NAME). Only lists and gets are sent.
A refused (403) or slow list is named in the result, which is partial, not lost.
The nodes' own files are read by the node DaemonSet (deploy/node-scan-daemonset.yaml).

Exit status: 0 clean, 1 IOC hits found (0 with --exit-zero), 2 error, 3 cancelled,
4 the cluster refused every read (--kube).`,
		Example: `  # This machine, built-in packs
  tourniquet scan

  # A mounted disk image; every path printed is as seen inside the image
  tourniquet scan --root /mnt/disk --json

  # Only one user's home, with an extra pack of your own
  tourniquet scan --home /home/alice --pack ./my-incident.yaml

  # A GitHub organization: compromised workflow refs, runs in the windows,
  # the secrets they could read, dead-drop repositories, keys, audit log
  GH_TOKEN=$(gh auth token) tourniquet scan --github-org acme --json

  # A Kubernetes cluster (kubeconfig and --context as kubectl), with the API
  # server's audit log: attacker pods, bad workloads, RBAC blast radius
  tourniquet scan --kube --context prod --kube-audit-log audit.log`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			err := a.scan(cmd.Context(), o)
			var ee *exitError
			if o.exitZero && errors.As(err, &ee) && ee.code == exitFound && ee.err == nil {
				return nil // hits are in the output; the scan itself succeeded
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "/", "treat DIR as / of a mounted image (a disk image, a container layer, a node's filesystem)")
	f.StringArrayVar(&o.homes, "home", nil, "limit the scan to this home directory, inside the root (repeatable)")
	f.StringArrayVar(&o.packRefs, "pack", nil, "pack ID or FILE (repeatable; default: every built-in pack)")
	f.BoolVar(&o.kube, "kube", false, "scan a Kubernetes cluster (the kubeconfig's current context) instead of a host: read-only lists of pods, workloads, events, RBAC and secret names")
	f.StringVar(&o.kubeOpts.kubeconfig, "kubeconfig", "", "with --kube: kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&o.kubeOpts.context, "context", "", "with --kube: kubeconfig context (default: the current context)")
	f.StringArrayVar(&o.kubeOpts.auditLogs, "kube-audit-log", nil, "with --kube: an API server audit log file, JSON lines (repeatable)")
	f.DurationVar(&o.kubeOpts.timeout, "kube-timeout", 30*time.Second, "with --kube: timeout of each API request (a slow list is reported, the rest is read)")
	f.StringVar(&o.name, "name", "", "name to record the host under (default: the root's /etc/hostname)")
	f.BoolVar(&o.crossDevices, "cross-devices", false, "let the walk enter other file systems below the starting points")
	f.BoolVar(&o.noRecord, "no-record", false, "print results without writing them to the database")
	f.StringArrayVar(&o.exclude, "exclude", nil, "do not walk this directory, inside the root (repeatable; e.g. an evidence store)")
	f.BoolVar(&o.exitZero, "exit-zero", false, "exit 0 when the scan ran, even with hits (for runners that take exit 1 as a failure: Kubernetes init containers, some CI)")
	f.StringVar(&o.githubOrg, "github-org", "", "scan a GitHub organization's workflows, runs, secrets and keys instead of a host (token: GH_TOKEN, GITHUB_TOKEN or gh's hosts.yml)")
	f.StringVar(&o.githubUser, "github-user", "", "scan a GitHub user's repositories instead of a host")
	f.StringVar(&o.githubAPIURL, "github-api-url", ghc.DefaultBaseURL, "GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3/)")
	return cmd
}

func (a *app) scan(ctx context.Context, o scanOptions) error {
	if o.githubOrg != "" || o.githubUser != "" {
		return a.scanGitHub(ctx, o)
	}
	if o.kube {
		return a.scanKube(ctx, o)
	}
	if o.kubeOpts.kubeconfig != "" || o.kubeOpts.context != "" || len(o.kubeOpts.auditLogs) > 0 {
		return withCode(exitUsage, fmt.Errorf("scan: --kubeconfig, --context and --kube-audit-log need --kube"))
	}
	ps, err := packs.Resolve(o.packRefs)
	if err != nil {
		return withCode(exitUsage, err)
	}
	var st *store.Store
	if !o.noRecord {
		// Open first: a refused database must stop the scan before the work.
		if st, err = a.openStore(ctx, false); err != nil {
			return err
		}
		defer st.Close()
	}
	opts := host.Options{
		Root: o.root, Homes: o.homes, Packs: ps, HostName: o.name,
		Live: o.root == "/" && len(o.homes) == 0, CrossDevices: o.crossDevices, Exclude: o.exclude,
	}
	progress := !a.json && isTerminal(a.io.Err)
	if progress {
		last := time.Now()
		var lastFiles int64
		opts.Progress = func(s collectors.Stats, findings int) {
			now := time.Now()
			rate := float64(s.Files-lastFiles) / now.Sub(last).Seconds()
			last, lastFiles = now, s.Files
			a.errf("\r\x1b[Kscanning: %d files (%.0f/s), %d Python environments, %d findings", s.Files, rate, s.Environments, findings)
		}
	}
	res, err := host.Scan(ctx, opts)
	if progress {
		a.errf("\r\x1b[K")
	}
	if err != nil {
		return err
	}
	return a.recordAndPrint(ctx, st, res)
}

// recordAndPrint records a scan (st nil: --no-record), prints it and maps
// hits to exit 1: every kind of target ends the same way.
func (a *app) recordAndPrint(ctx context.Context, st *store.Store, res *collectors.Result) error {
	if st != nil {
		if err := st.RecordScan(ctx, a.incident, res); err != nil {
			return err
		}
	}
	if a.json {
		if err := a.printJSON(res); err != nil {
			return err
		}
	} else {
		a.printScan(res, st)
	}
	if len(res.Findings) > 0 {
		return withCode(exitFound, nil)
	}
	return nil
}

func (a *app) printScan(res *collectors.Result, st *store.Store) {
	s := sanitize.Terminal
	if res.Host.Kind == "cluster" {
		a.outf("Scanned cluster %s (%s) in %.1fs, packs %s.\n", s(res.Host.Name), s(res.Host.Root), float64(res.Stats.DurationMS)/1000, strings.Join(res.Packs, ", "))
	} else {
		a.outf("Scanned %s (root %s) in %.1fs: %d files, %d Python environments, packs %s.\n",
			s(res.Host.Name), s(res.Host.Root), float64(res.Stats.DurationMS)/1000, res.Stats.Files, res.Stats.Environments, strings.Join(res.Packs, ", "))
	}
	const layout = "2006-01-02 15:04 UTC"
	switch res.Verdict {
	case store.VerdictCompromised:
		a.outf("\nVERDICT: COMPROMISED. Window open since %s: an executable artefact remains.\n", res.Window.Start.Format(layout))
	case store.VerdictWasCompromised:
		a.outf("\nVERDICT: WAS COMPROMISED. Window %s to %s.\n", res.Window.Start.Format(layout), res.Window.End.Format(layout))
	case store.VerdictUnknown:
		a.outf("\nVERDICT: UNKNOWN. Findings need review; none dates a compromise.\n")
	default:
		a.outf("\nVERDICT: CLEAN. No indicator of the packs was found.\n")
	}
	for _, b := range res.Window.Basis {
		a.outf("  %s\n", s(b))
	}
	if len(res.Findings) > 0 {
		a.outf("\nFindings (%d):\n", len(res.Findings))
		tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
		for _, f := range res.Findings {
			fmt.Fprintf(tw, "  %s\t%s/%s\t%s\n", strings.ToUpper(f.Severity), s(f.Pack), s(f.Rule), sanitize.Truncate(f.Path, 100))
			fmt.Fprintf(tw, "  \t\t%s\n", sanitize.Truncate(f.Detail, 140))
		}
		tw.Flush()
	}
	a.printNodes(res)
	counts := map[string]int{}
	for _, c := range res.Credentials {
		counts[c.Exposure]++
	}
	a.outf("\nCredentials (%d): %d exposed, %d not exposed, %d unknown.\n", len(res.Credentials), counts[store.Exposed], counts[store.NotExposed], counts[store.Unknown])
	creds := append([]collectors.Credential(nil), res.Credentials...)
	rank := map[string]int{store.Exposed: 0, store.Unknown: 1, store.NotExposed: 2}
	sort.SliceStable(creds, func(i, j int) bool { return rank[creds[i].Exposure] < rank[creds[j].Exposure] })
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	for i, c := range creds {
		if i == 30 {
			fmt.Fprintf(tw, "  … %d more: tourniquet exposure\n", len(creds)-30)
			break
		}
		where := c.Path
		if c.Detail != "" {
			where += " (" + c.Detail + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Exposure, s(c.Kind), s(c.Hint), sanitize.Truncate(where, 100))
	}
	tw.Flush()
	if len(res.Errors) > 0 {
		// The result is partial: say what is missing, one item a line.
		a.outf("\nNot read (%d):\n", len(res.Errors))
		for i, e := range res.Errors {
			if i == 20 {
				a.outf("  … %d more (scan --json lists them all)\n", len(res.Errors)-20)
				break
			}
			a.outf("  %s\n", sanitize.Truncate(e, 300))
		}
	}
	if st != nil {
		a.outf("\nRecorded in %s (incident %s).\n", s(st.Path()), s(a.incident))
	}
}

// isTerminal reports whether w is a character device (a terminal), without
// a dependency for it.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// scanGitHub collects CI evidence from GitHub (issue 6) and records it under
// a target of kind "ci" named github:ACCOUNT, as host scans are recorded.
func (a *app) scanGitHub(ctx context.Context, o scanOptions) error {
	if o.githubOrg != "" && o.githubUser != "" {
		return withCode(exitUsage, fmt.Errorf("scan: give --github-org or --github-user, not both"))
	}
	if o.kube || o.root != "/" || len(o.homes) > 0 {
		return withCode(exitUsage, fmt.Errorf("scan: --github-org/--github-user scan GitHub, not a host: drop --root, --home and --kube"))
	}
	ps, err := packs.Resolve(o.packRefs)
	if err != nil {
		return withCode(exitUsage, err)
	}
	ts, err := ghc.TokenFromEnvironment(a.getenv, o.githubAPIURL)
	if err != nil {
		return withCode(exitAuth, err)
	}
	client, err := ghc.NewClient(ghc.ClientOptions{BaseURL: o.githubAPIURL, Token: ts.Token})
	if err != nil {
		return withCode(exitUsage, err)
	}
	var st *store.Store
	if !o.noRecord {
		if st, err = a.openStore(ctx, false); err != nil {
			return err
		}
		defer st.Close()
	}
	opts := ghc.Options{Org: o.githubOrg, User: o.githubUser, Client: client, Packs: ps, TokenFrom: ts.From}
	if !a.json && isTerminal(a.io.Err) {
		opts.Progress = func(format string, args ...any) {
			a.errf("\r\x1b[K%s", sanitize.Truncate(fmt.Sprintf(format, args...), 100))
		}
	}
	res, err := ghc.Collect(ctx, opts)
	if opts.Progress != nil {
		a.errf("\r\x1b[K")
	}
	if err != nil {
		if ghc.Status(err) == 401 || ghc.Status(err) == 403 {
			return withCode(exitAuth, err)
		}
		return err
	}
	return a.recordAndPrint(ctx, st, res)
}
