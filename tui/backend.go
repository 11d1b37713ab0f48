// Package tui is Tourniquet's console: the root model routes keys and
// messages, the panes (one package each) render. It drives exactly the
// engine the CLI uses, through Backend: no logic lives here that the
// headless path lacks.
package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/gateway"
	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Backend is everything the console does to the world.
type Backend interface {
	Incident() string
	DBPath() string
	Summary(ctx context.Context) (store.Summary, error)
	Findings(ctx context.Context) ([]store.Finding, error)
	Credentials(ctx context.Context) ([]store.Credential, error)
	Runs(ctx context.Context) ([]store.Run, error)
	Run(ctx context.Context, id string) (store.Run, error)
	Audit(ctx context.Context, after int64, limit int) ([]store.AuditEvent, error)
	VerifyAudit(ctx context.Context) (store.VerifyResult, error)
	// Scan scans the configured target and records the result.
	Scan(ctx context.Context, progress func(collectors.Stats, int)) (*collectors.Result, error)
	ScanTarget() string
	// ScanCluster scans the configured Kubernetes cluster and records the
	// result; ClusterTarget names it, "" when none is configured.
	ScanCluster(ctx context.Context, progress func(what string)) (*collectors.Result, error)
	ClusterTarget() string
	PlaybooksFor(kind string) ([]*playbooks.Playbook, error)
	Plan(ctx context.Context, pb *playbooks.Playbook, credID string, params map[string]any) ([]playbooks.PlanLine, error)
	DescribeStep(ctx context.Context, runID, step string) (string, error)
	Start(ctx context.Context, pb *playbooks.Playbook, credID string, o RunOptions) (runID, state string, err error)
	Resume(ctx context.Context, runID string, o RunOptions) (string, error)
	Rule(pack, rule string) (*packs.Meta, bool)
	// Gateway reports the embedded gateway's routes and live state.
	Gateway(ctx context.Context) (*gateway.Report, error)
	// Export writes the incident's post-mortem in format (md, json, html,
	// timesketch) next to the database and returns the path written.
	Export(ctx context.Context, format string) (string, error)
}

// RunOptions are a console run's approvals, supplied secret and event sink.
type RunOptions struct {
	Confirm map[string]bool
	// Params add to the command line's run parameters (gateway_ref when a
	// rotation re-routes the gateway).
	Params  map[string]any
	Secret  *redact.Secret
	OnEvent func(playbooks.Event)
}

// Local is the Backend over a local store, the host scanner and the
// playbook engine; cmd/tourniquet builds it with the providers' actions.
type Local struct {
	Store        *store.Store
	IncidentName string
	Packs        []*packs.Pack
	ScanOpts     host.Options
	// Actions are every provider's actions, as the CLI registers them.
	Actions map[string]rotators.Action
	// Params are run parameters from the command line (AWS profile...).
	Params map[string]any
	// Getenv reads the keystore passphrase variable, if set.
	Getenv func(string) string
	// Cluster is the cluster the console can scan (console --kube); nil
	// when none was configured. cmd/tourniquet builds it over the kube
	// collector, so that this package needs no Kubernetes client.
	Cluster *ClusterSource
}

// ClusterSource is a configured cluster: its name and how to collect it.
type ClusterSource struct {
	Name    string
	Collect func(ctx context.Context, progress func(what string)) (*collectors.Result, error)
}

var _ Backend = (*Local)(nil)

func (l *Local) Incident() string { return l.IncidentName }
func (l *Local) DBPath() string   { return l.Store.Path() }

func (l *Local) Summary(ctx context.Context) (store.Summary, error) {
	return l.Store.Summary(ctx, l.IncidentName)
}

func (l *Local) Findings(ctx context.Context) ([]store.Finding, error) {
	return l.Store.Findings(ctx, l.IncidentName)
}

func (l *Local) Credentials(ctx context.Context) ([]store.Credential, error) {
	return l.Store.Credentials(ctx, l.IncidentName)
}

func (l *Local) Runs(ctx context.Context) ([]store.Run, error) {
	return l.Store.Runs(ctx, l.IncidentName)
}

func (l *Local) Run(ctx context.Context, id string) (store.Run, error) {
	return l.Store.GetRun(ctx, id)
}

func (l *Local) Audit(ctx context.Context, after int64, limit int) ([]store.AuditEvent, error) {
	return l.Store.AuditEvents(ctx, after, limit)
}

func (l *Local) VerifyAudit(ctx context.Context) (store.VerifyResult, error) {
	return l.Store.VerifyAudit(ctx)
}

func (l *Local) ScanTarget() string {
	if l.ScanOpts.Root == "" || l.ScanOpts.Root == "/" {
		return "this machine"
	}
	return l.ScanOpts.Root
}

func (l *Local) Scan(ctx context.Context, progress func(collectors.Stats, int)) (*collectors.Result, error) {
	o := l.ScanOpts
	o.Packs = l.Packs
	o.Progress = progress
	res, err := host.Scan(ctx, o)
	if err != nil {
		return nil, err
	}
	return res, l.Store.RecordScan(ctx, l.IncidentName, res)
}

func (l *Local) ClusterTarget() string {
	if l.Cluster == nil {
		return ""
	}
	return l.Cluster.Name
}

// ScanCluster collects the configured cluster's evidence and records it as
// `scan --kube` does.
func (l *Local) ScanCluster(ctx context.Context, progress func(string)) (*collectors.Result, error) {
	if l.Cluster == nil {
		return nil, fmt.Errorf("no cluster configured: start the console with --kube (and --context)")
	}
	res, err := l.Cluster.Collect(ctx, progress)
	if err != nil {
		return nil, err
	}
	return res, l.Store.RecordScan(ctx, l.IncidentName, res)
}

func (l *Local) PlaybooksFor(kind string) ([]*playbooks.Playbook, error) {
	return playbooks.ForKind(kind)
}

func (l *Local) engine(o RunOptions) *playbooks.Engine {
	e := &playbooks.Engine{Store: l.Store, Actions: l.Actions, Confirm: o.Confirm, OnEvent: o.OnEvent}
	if o.Secret != nil && !o.Secret.IsZero() {
		e.Inputs = &rotators.Secrets{}
		e.Inputs.Put("new_secret", *o.Secret)
	}
	return e
}

func (l *Local) Plan(ctx context.Context, pb *playbooks.Playbook, credID string, params map[string]any) ([]playbooks.PlanLine, error) {
	return l.engine(RunOptions{}).Plan(ctx, pb, credID, l.params(params))
}

func (l *Local) DescribeStep(ctx context.Context, runID, step string) (string, error) {
	return l.engine(RunOptions{}).DescribeStep(ctx, runID, step)
}

func (l *Local) Start(ctx context.Context, pb *playbooks.Playbook, credID string, o RunOptions) (string, string, error) {
	return l.engine(o).Start(ctx, l.IncidentName, pb, credID, l.params(o.Params))
}

func (l *Local) Resume(ctx context.Context, runID string, o RunOptions) (string, error) {
	return l.engine(o).Resume(ctx, runID)
}

func (l *Local) params(extra map[string]any) map[string]any {
	p := map[string]any{}
	for k, v := range l.Params {
		p[k] = v
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

func (l *Local) Gateway(ctx context.Context) (*gateway.Report, error) {
	getenv := l.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	ksPath, idPath := keystore.DefaultPaths(l.Store.Path())
	if _, err := os.Stat(ksPath); err != nil {
		// No keystore yet: do not create one (and its identity) just to look.
		return gateway.BuildReport(ctx, l.Store, nil, nil)
	}
	ks, err := keystore.Open(ksPath, idPath, getenv)
	if err != nil {
		return gateway.BuildReport(ctx, l.Store, nil, err)
	}
	return gateway.BuildReport(ctx, l.Store, ks, nil)
}

func (l *Local) Rule(pack, rule string) (*packs.Meta, bool) {
	for _, p := range l.Packs {
		if p.ID == pack {
			return p.Rule(rule)
		}
	}
	return nil, false
}

// Export writes the post-mortem next to the database (its directory is the
// user's own, 0700), named after the incident and the time, so that
// repeated exports never overwrite each other. The export is recorded in the
// audit chain like the CLI's.
func (l *Local) Export(ctx context.Context, format string) (string, error) {
	f, err := postmortem.ParseFormat(format)
	if err != nil {
		return "", err
	}
	now := l.Store.Now()
	name := fmt.Sprintf("postmortem-%s-%s%s", fileSafe(l.IncidentName), now.Format("20060102T150405Z"), f.Ext())
	path := filepath.Join(filepath.Dir(l.Store.Path()), name)
	o := postmortem.Options{Incident: l.IncidentName, Now: l.Store.Now, Packs: l.Packs, Generator: "tourniquet console"}
	if _, err := postmortem.ExportFile(ctx, l.Store, o, f, path); err != nil {
		return "", err
	}
	return path, nil
}

// fileSafe keeps an incident name usable in a file name: letters, digits,
// '.', '-' and '_'; anything else (a '/', a control character) becomes '_'.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	s = strings.TrimLeft(s, ".")
	if s == "" {
		return "incident"
	}
	return s
}
