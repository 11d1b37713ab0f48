package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/kube"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
	"github.com/tourniquet-ir/tourniquet/tui"
)

// kubeOptions are the cluster flags of scan (and console).
type kubeOptions struct {
	kubeconfig string
	context    string
	auditLogs  []string
	timeout    time.Duration
}

// kubeTarget resolves the kubeconfig like kubectl does (--kubeconfig, else
// $KUBECONFIG's files, else ~/.kube/config; --context, else the current
// context) into the collector's options. Only the operator's kubeconfig is
// used: never one found inside a scanned root.
func (a *app) kubeTarget(o kubeOptions, name string, ps []*packs.Pack) (kube.Options, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: o.kubeconfig}
	if o.kubeconfig == "" {
		if env := a.getenv("KUBECONFIG"); env != "" {
			rules.Precedence = filepath.SplitList(env)
		} else if home := a.getenv("HOME"); home != "" {
			rules.Precedence = []string{filepath.Join(home, ".kube", "config")}
		}
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	raw, err := cc.RawConfig()
	if err != nil {
		return kube.Options{}, withCode(exitUsage, fmt.Errorf("scan --kube: kubeconfig: %w", err))
	}
	ctxName := o.context
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	kctx, ok := raw.Contexts[ctxName]
	if !ok || ctxName == "" {
		return kube.Options{}, withCode(exitUsage, fmt.Errorf("scan --kube: no context %q in the kubeconfig (give --context; `kubectl config get-contexts` lists them)", ctxName))
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return kube.Options{}, withCode(exitUsage, fmt.Errorf("scan --kube: context %s: %w", ctxName, err))
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "tourniquet (read-only evidence collection)"
	cfg.QPS, cfg.Burst = 20, 40
	cfg.WarningHandler = rest.NoWarnings{}
	// client-go logs through klog to stderr, unescaped (a truncated answer,
	// a server's error text); the collector reports every failed read
	// itself, sanitized, so klog is silenced.
	klog.SetSlogLogger(slog.New(slog.DiscardHandler))
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return kube.Options{}, withCode(exitUsage, fmt.Errorf("scan --kube: context %s: %w", ctxName, err))
	}
	if name == "" {
		name = kctx.Cluster
	}
	if name == "" {
		name = ctxName
	}
	timeout := o.timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return kube.Options{API: &kube.Clientset{C: cs, Timeout: timeout}, Cluster: name, Server: cfg.Host, Packs: ps,
		AuditLogs: o.auditLogs, Timeout: timeout}, nil
}

// scanKube collects a cluster's evidence and records it under a target of
// kind "cluster", as host scans are recorded.
func (a *app) scanKube(ctx context.Context, o scanOptions) error {
	if o.root != "/" || len(o.homes) > 0 || len(o.exclude) > 0 || o.crossDevices {
		return withCode(exitUsage, errors.New("scan: --kube scans a cluster, not a host: drop --root, --home, --exclude and --cross-devices (scan the nodes' files with the node DaemonSet)"))
	}
	ps, err := packs.Resolve(o.packRefs)
	if err != nil {
		return withCode(exitUsage, err)
	}
	ko, err := a.kubeTarget(o.kubeOpts, o.name, ps)
	if err != nil {
		return err
	}
	var st *store.Store
	if !o.noRecord {
		if st, err = a.openStore(ctx, false); err != nil {
			return err
		}
		defer st.Close()
	}
	if !a.json && isTerminal(a.io.Err) {
		ko.Progress = func(format string, args ...any) {
			a.errf("\r\x1b[Kreading %s", sanitize.Truncate(fmt.Sprintf(format, args...), 100))
		}
	}
	res, err := kube.Collect(ctx, ko)
	if ko.Progress != nil {
		a.errf("\r\x1b[K")
	}
	if errors.Is(err, kube.ErrNoAccess) {
		return withCode(exitAuth, err)
	}
	if err != nil {
		return err
	}
	return a.recordAndPrint(ctx, st, res)
}

// clusterSource is the console's cluster (console --kube): resolved now,
// so that a bad kubeconfig fails before the console opens; collected when
// the operator presses c.
func (a *app) clusterSource(o kubeOptions, ps []*packs.Pack) (*tui.ClusterSource, error) {
	ko, err := a.kubeTarget(o, "", ps)
	if err != nil {
		return nil, err
	}
	return &tui.ClusterSource{Name: ko.Cluster, Collect: func(ctx context.Context, progress func(string)) (*collectors.Result, error) {
		o := ko
		o.Progress = func(format string, args ...any) { progress(fmt.Sprintf(format, args...)) }
		return kube.Collect(ctx, o)
	}}, nil
}

// printNodes lists a cluster's nodes and their verdicts.
func (a *app) printNodes(res *collectors.Result) {
	if len(res.Nodes) == 0 {
		return
	}
	counts := map[string]int{}
	for _, n := range res.Nodes {
		counts[n.Verdict]++
	}
	a.outf("\nNodes (%d): %d compromised, %d unknown, %d clean.\n", len(res.Nodes), counts[store.VerdictCompromised], counts[store.VerdictUnknown], counts[store.VerdictClean])
	for i, n := range res.Nodes {
		if i == 30 {
			a.outf("  … %d more (scan --json lists them all)\n", len(res.Nodes)-30)
			break
		}
		why := ""
		if len(n.Basis) > 0 {
			why = ": " + n.Basis[0]
		}
		a.outf("  %-16s %s%s\n", strings.ToUpper(n.Verdict), sanitize.Terminal(n.Name), sanitize.Truncate(why, 140))
	}
}
