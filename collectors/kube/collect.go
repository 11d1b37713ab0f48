// Package kube collects evidence from a Kubernetes cluster: the packs'
// object rules (attacker pods, completed or failed included; DaemonSets of
// neighbouring waves; Events that outlive deleted pods), workloads that ran a
// bad package version and LiteLLM-style proxies, the RBAC blast radius of
// every compromised or suspect service account with the Secrets it could
// read (names, namespaces, types, key names and times: never a value), and
// the API server's audit log when one is given. It only reads: every call is
// a list or a get. Results use the collectors.Result types, under a target
// of kind "cluster", so they land in the same database and JSON as host
// scans, with object references (collectors.ObjectRef) as locations.
package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Pack names the findings that come from the collector's own knowledge
// (blast radius, package workloads) rather than from a pack rule.
const Pack = "tourniquet-kube"

// KindSecret is the credential kind of a Kubernetes Secret: one credential
// per Secret, whatever its keys hold.
const KindSecret = "kubernetes-secret"

// maxConfigMapValue bounds a ConfigMap entry parsed for credentials.
const maxConfigMapValue = 1 << 20

// ErrNoAccess is returned when the cluster refused every read (401/403):
// there is no partial result to give.
var ErrNoAccess = errors.New("the cluster refused every read")

// Options say what to collect.
type Options struct {
	// API reads the cluster; nil reads only AuditLogs (a cluster that is
	// gone, or not reachable from here).
	API API
	// Cluster names the target (the kubeconfig context's cluster); Server is
	// recorded as its root.
	Cluster, Server string
	Packs           []*packs.Pack
	// AuditLogs are API server audit log files (JSON lines).
	AuditLogs []string
	// Timeout is the per-request timeout the API uses, for the notes.
	Timeout time.Duration
	Now     func() time.Time
	// Progress reports what is being read.
	Progress func(format string, args ...any)
}

type kubeRule struct {
	pack *packs.Pack
	rule *packs.KubeRule
}

type auditRule struct {
	pack       *packs.Pack
	rule       *packs.KubeAuditRule
	start      time.Time
	end        *time.Time
	windowName string
}

// evidence is one dated fact of compromise, for the window.
type evidence struct {
	at   time.Time
	end  time.Time // zero: unknown
	open bool      // an executable artefact remains
	what string
}

// acct is a compromised or suspect service account and why.
type acct struct {
	compromised bool
	why         []string
}

// exposure is how a Secret or ConfigMap came within the payload's reach.
type exposure struct {
	compromised bool // reached by a compromised account or workload
	owners      []string
	reasons     []string
}

func (e *exposure) add(compromised bool, owner, reason string) {
	e.compromised = e.compromised || compromised
	if !contains(e.owners, owner) {
		e.owners = append(e.owners, owner)
	}
	if !contains(e.reasons, reason) && len(e.reasons) < 5 {
		e.reasons = append(e.reasons, reason)
	}
}

type nodeState struct {
	verdict string
	basis   []string
}

type collector struct {
	o       Options
	res     *collectors.Result
	kube    []kubeRule
	audit   []auditRule
	pkgs    []*pkgMatcher
	seenF   map[string]bool
	skipped map[string][]string
	reads   int // successful list calls
	refused int // 401/403
	failed  int // other failures

	evidence []evidence
	nodes    map[string]*nodeState
	accounts map[account]*acct
	pods     map[string]bool // namespace/name of existing pods
	// secretsFrom and configsFrom are the Secrets and ConfigMaps that
	// compromised or suspect workloads reference, by namespace/name.
	secretsFrom map[string]*exposure
	configsFrom map[string]*exposure
	secretMetas map[string]SecretMeta
	configCreds []configCred
}

// Collect scans one cluster.
func Collect(ctx context.Context, o Options) (*collectors.Result, error) {
	if o.API == nil && len(o.AuditLogs) == 0 {
		return nil, errors.New("kube: no cluster to read and no audit log")
	}
	if o.Cluster == "" {
		return nil, errors.New("kube: the cluster needs a name")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	started := o.Now()
	root := o.Server
	if root == "" {
		root = "-"
	}
	k := &collector{o: o, seenF: map[string]bool{}, skipped: map[string][]string{}, nodes: map[string]*nodeState{},
		accounts: map[account]*acct{}, pods: map[string]bool{}, secretsFrom: map[string]*exposure{}, configsFrom: map[string]*exposure{}}
	k.res = &collectors.Result{Schema: collectors.ScanSchema,
		Host:     collectors.HostInfo{Kind: "cluster", Name: o.Cluster, Root: root, ScannedAt: started.UTC()},
		Findings: []collectors.Finding{}, Credentials: []collectors.Credential{}}
	k.index()

	if o.API != nil {
		if err := k.objects(ctx); err != nil {
			return nil, err
		}
	}
	for _, name := range o.AuditLogs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o.Progress("audit log %s", name)
		k.auditLog(ctx, name)
	}
	if o.API != nil {
		k.blastRadius(ctx)
		if k.reads == 0 && k.refused > 0 && k.failed == 0 {
			return nil, fmt.Errorf("kube: %s: %w (HTTP 401/403 on every list): give an account with the read permissions the README lists", o.Cluster, ErrNoAccess)
		}
		if k.reads == 0 && len(o.AuditLogs) == 0 {
			return nil, fmt.Errorf("kube: %s: nothing could be read: %s", o.Cluster, k.firstSkip())
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k.finish(ctx, started)
	return k.res, nil
}

func (k *collector) firstSkip() string {
	for p, w := range k.skipped {
		return p + ": " + strings.Join(w, "; ")
	}
	return "no answer"
}

// index gathers the packs' cluster rules and package matchers.
func (k *collector) index() {
	for _, p := range k.o.Packs {
		for i := range p.Kubernetes {
			k.kube = append(k.kube, kubeRule{p, &p.Kubernetes[i]})
		}
		for i := range p.KubeAudit {
			r := &p.KubeAudit[i]
			ar := auditRule{pack: p, rule: r, start: p.Window.Start, end: p.Window.End}
			if w, ok := p.NamedWindow(r.Window); ok {
				ar.start, ar.end, ar.windowName = w.Start, w.End, w.ID
			}
			k.audit = append(k.audit, ar)
		}
		for i := range p.Packages {
			r := &p.Packages[i]
			switch r.Ecosystem {
			case "pypi", "docker":
				if len(r.Versions) > 0 && r.Name != "" {
					k.pkgs = append(k.pkgs, newPkgMatcher(p, r))
				}
			}
		}
		if len(p.Kubernetes)+len(p.KubeAudit) > 0 {
			k.res.Packs = append(k.res.Packs, p.ID)
		}
	}
}

func (k *collector) ref(namespace, resource, name string) collectors.ObjectRef {
	return collectors.ObjectRef{Cluster: k.o.Cluster, Namespace: namespace, Resource: resource, Name: name}
}

func findingID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "f-kube-" + hex.EncodeToString(h[:6])
}

// add records a finding once. Details carry names from the cluster and the
// audit log (hostile input): they are escaped here, for every finding.
func (k *collector) add(f collectors.Finding) {
	if k.seenF[f.ID] {
		return
	}
	k.seenF[f.ID] = true
	f.Detail = sanitize.Truncate(f.Detail, 1000)
	k.res.Findings = append(k.res.Findings, f)
}

// skip records a part that could not be read, and why.
func (k *collector) skip(part, why string) {
	for _, w := range k.skipped[part] {
		if w == why {
			return
		}
	}
	k.skipped[part] = append(k.skipped[part], why)
}

// read notes the outcome of one list; it reports whether to use the data.
func (k *collector) read(part, need string, err error) bool {
	switch {
	case err == nil:
		k.reads++
		return true
	case errors.Is(err, errTruncated):
		k.reads++
		k.skip(part, explain(part, need, err, k.o.Timeout))
		return true
	}
	if c := statusCode(err); c == 401 || c == 403 {
		k.refused++
	} else {
		k.failed++
	}
	k.skip(part, explain(part, need, err, k.o.Timeout))
	return false
}

func (k *collector) node(name string) *nodeState {
	n := k.nodes[name]
	if n == nil {
		n = &nodeState{verdict: store.VerdictClean}
		k.nodes[name] = n
	}
	return n
}

func (n *nodeState) raise(verdict, basis string) {
	rank := map[string]int{store.VerdictClean: 0, store.VerdictUnknown: 1, store.VerdictWasCompromised: 2, store.VerdictCompromised: 3}
	if rank[verdict] > rank[n.verdict] {
		n.verdict = verdict
	}
	if !contains(n.basis, basis) && len(n.basis) < 10 {
		n.basis = append(n.basis, basis)
	}
}

func (k *collector) account(a account) *acct {
	x := k.accounts[a]
	if x == nil {
		x = &acct{}
		k.accounts[a] = x
	}
	return x
}

func (x *acct) mark(compromised bool, why string) {
	x.compromised = x.compromised || compromised
	if !contains(x.why, why) && len(x.why) < 5 {
		x.why = append(x.why, why)
	}
}

// objects reads the cluster's workloads and events and applies the rules.
func (k *collector) objects(ctx context.Context) error {
	api := k.o.API
	k.o.Progress("nodes")
	if nodes, err := api.Nodes(ctx); k.read("nodes", "list nodes (cluster-wide)", err) {
		for _, n := range nodes {
			k.node(n.Name)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var ws []workload
	k.o.Progress("pods")
	if pods, err := api.Pods(ctx); k.read("pods", "list pods (every namespace)", err) {
		for i := range pods {
			p := &pods[i]
			k.pods[p.Namespace+"/"+p.Name] = true
			ws = append(ws, workload{kind: "Pod", resource: "pods", namespace: p.Namespace, name: p.Name, spec: &p.Spec,
				phase: p.Status.Phase, nodeName: p.Spec.NodeName, exists: p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed,
				times: podTimes(p)})
		}
	}
	k.o.Progress("workloads")
	if ds, err := api.DaemonSets(ctx); k.read("daemonsets", "list daemonsets (every namespace)", err) {
		for i := range ds {
			ws = append(ws, controller("DaemonSet", &ds[i].ObjectMeta, &ds[i].Spec.Template.Spec))
		}
	}
	if ds, err := api.Deployments(ctx); k.read("deployments", "list deployments (every namespace)", err) {
		for i := range ds {
			ws = append(ws, controller("Deployment", &ds[i].ObjectMeta, &ds[i].Spec.Template.Spec))
		}
	}
	if ss, err := api.StatefulSets(ctx); k.read("statefulsets", "list statefulsets (every namespace)", err) {
		for i := range ss {
			ws = append(ws, controller("StatefulSet", &ss[i].ObjectMeta, &ss[i].Spec.Template.Spec))
		}
	}
	if js, err := api.Jobs(ctx); k.read("jobs", "list jobs (every namespace)", err) {
		for i := range js {
			d := &js[i]
			t := objTimes(d.CreationTimestamp)
			if d.Status.CompletionTime != nil {
				t.end = d.Status.CompletionTime.UTC()
			}
			ws = append(ws, workload{kind: "Job", resource: "jobs", namespace: d.Namespace, name: d.Name, spec: &d.Spec.Template.Spec, exists: d.Status.CompletionTime == nil, times: t})
		}
	}
	if cs, err := api.CronJobs(ctx); k.read("cronjobs", "list cronjobs (every namespace)", err) {
		for i := range cs {
			ws = append(ws, controller("CronJob", &cs[i].ObjectMeta, &cs[i].Spec.JobTemplate.Spec.Template.Spec))
		}
	}
	for _, w := range ws {
		if err := ctx.Err(); err != nil {
			return err
		}
		k.workload(ctx, w)
	}
	k.o.Progress("events")
	if evs, err := api.Events(ctx); k.read("events", "list events (every namespace)", err) {
		k.events(evs)
	}
	return ctx.Err()
}

// controller is a workload that (re)creates pods from its template.
func controller(kind string, m *metav1.ObjectMeta, spec *corev1.PodSpec) workload {
	return workload{kind: kind, resource: strings.ToLower(kind) + "s", namespace: m.Namespace, name: m.Name, spec: spec,
		exists: true, times: objTimes(m.CreationTimestamp)}
}

// times are a workload's start and, when it finished, its end.
type times struct{ start, end time.Time }

func objTimes(t metav1.Time) times { return times{start: t.UTC()} }

func podTimes(p *corev1.Pod) times {
	t := times{start: p.CreationTimestamp.UTC()}
	if p.Status.StartTime != nil && !p.Status.StartTime.IsZero() {
		t.start = p.Status.StartTime.UTC()
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.UTC().After(t.end) {
			t.end = term.FinishedAt.UTC()
		}
	}
	return t
}

func (w workload) describe() string {
	s := w.kind + " " + w.namespace + "/" + w.name
	if w.kind == "Pod" {
		phase := string(w.phase)
		if phase == "" {
			phase = "unknown"
		}
		s += " (phase " + phase
		if w.nodeName != "" {
			s += ", node " + w.nodeName
		}
		s += ")"
	}
	return s
}

// workload applies the object rules and the package checks to one
// workload.
func (k *collector) workload(ctx context.Context, w workload) {
	ref := k.ref(w.namespace, w.resource, w.name).String()
	sa := account{w.namespace, w.serviceAccount()}
	start := w.times.start
	for _, kr := range k.kube {
		ok, why := matchShape(kr.rule, w)
		if !ok {
			continue
		}
		at := start
		detail := fmt.Sprintf("%s: %s", w.describe(), strings.Join(why, ", "))
		k.add(collectors.Finding{ID: findingID(k.o.Cluster, kr.pack.ID, kr.rule.ID, ref), Pack: kr.pack.ID, Rule: kr.rule.ID,
			Severity: string(kr.rule.Severity), Path: ref, Detail: detail, ObservedAt: timePtr(at), Confidence: string(kr.rule.Confidence)})
		k.evidence = append(k.evidence, evidence{at: clamp(at, kr.pack.Window.Start), end: w.times.end, open: w.exists || (w.kind == "Pod" && w.phase == corev1.PodSucceeded && w.nodeName != ""),
			what: fmt.Sprintf("%s/%s matched %s", kr.pack.ID, kr.rule.ID, w.describe())})
		switch {
		case w.kind == "Pod" && w.nodeName != "" && w.phase == corev1.PodSucceeded:
			k.node(w.nodeName).raise(store.VerdictCompromised, fmt.Sprintf("pod %s/%s (%s) completed on it: its command exited 0; read the node's files (node DaemonSet) before trusting it", w.namespace, w.name, kr.rule.ID))
		case w.kind == "Pod" && w.nodeName != "":
			k.node(w.nodeName).raise(store.VerdictUnknown, fmt.Sprintf("pod %s/%s (%s) was placed on it, phase %s", w.namespace, w.name, kr.rule.ID, orDefault(string(w.phase), "unknown")))
		case w.kind == "DaemonSet":
			for name := range k.nodes {
				k.node(name).raise(store.VerdictUnknown, fmt.Sprintf("DaemonSet %s/%s (%s) targets every node", w.namespace, w.name, kr.rule.ID))
			}
		}
	}
	runs := false
	for _, m := range k.pkgs {
		for _, c := range w.containers() {
			if v, where, ok := m.badVersion(c); ok {
				detail := fmt.Sprintf("%s ran %s %s: %s; service account %s", w.describe(), m.rule.Name, v, where, sa)
				k.add(collectors.Finding{ID: findingID(k.o.Cluster, m.pack.ID, m.rule.ID, ref, c.Name), Pack: m.pack.ID, Rule: m.rule.ID,
					Severity: string(m.rule.Severity), Path: ref, Detail: detail, ObservedAt: timePtr(start), Confidence: string(m.rule.Confidence)})
				k.evidence = append(k.evidence, evidence{at: clamp(start, m.pack.Window.Start), end: w.times.end, open: w.exists,
					what: fmt.Sprintf("%s runs %s %s", w.describe(), m.rule.Name, v)})
				k.account(sa).mark(true, fmt.Sprintf("%s runs %s %s", w.describe(), m.rule.Name, v))
				k.reach(w, true, fmt.Sprintf("referenced by %s, which ran %s %s: the payload read its environment and files", w.describe(), m.rule.Name, v))
				if w.nodeName != "" {
					if reach := w.nodeAccess(); reach != "" {
						k.node(w.nodeName).raise(store.VerdictUnknown, fmt.Sprintf("ran pod %s/%s with %s %s, which could reach the node (%s): read the node's files", w.namespace, w.name, m.rule.Name, v, reach))
					} else {
						k.node(w.nodeName).raise(store.VerdictClean, fmt.Sprintf("ran pod %s/%s with %s %s in its container only (its token and mounts were exposed)", w.namespace, w.name, m.rule.Name, v))
					}
				}
				runs = true
				break
			}
		}
	}
	if runs {
		return
	}
	for _, m := range k.pkgs {
		if m.rule.Ecosystem != "pypi" {
			continue
		}
		for _, c := range w.containers() {
			if !m.runs(c) {
				continue
			}
			detail := fmt.Sprintf("%s runs %s (image %s; the version is not visible from the API): its ConfigMaps and Secrets hold every key it routes with; service account %s",
				w.describe(), m.rule.Name, c.Image, sa)
			k.add(collectors.Finding{ID: findingID(k.o.Cluster, Pack, "package-workload", m.rule.Name, ref), Pack: Pack, Rule: "package-workload",
				Severity: string(packs.Medium), Path: ref, Detail: detail, ObservedAt: timePtr(start), Confidence: string(packs.Inferred)})
			k.account(sa).mark(false, fmt.Sprintf("%s runs %s (version not visible)", w.describe(), m.rule.Name))
			k.reach(w, false, fmt.Sprintf("held by %s, which runs %s: exposed if it ran %s", w.describe(), m.rule.Name, strings.Join(m.rule.Versions, " or ")))
			return
		}
	}
}

// reach records the Secrets and ConfigMaps a workload reads.
func (k *collector) reach(w workload, compromised bool, reason string) {
	secrets, cms := references(w.spec)
	owner := w.kind + " " + w.namespace + "/" + w.name
	for _, s := range secrets {
		key := w.namespace + "/" + s
		if k.secretsFrom[key] == nil {
			k.secretsFrom[key] = &exposure{}
		}
		k.secretsFrom[key].add(compromised, owner, reason)
	}
	for _, c := range cms {
		key := w.namespace + "/" + c
		if k.configsFrom[key] == nil {
			k.configsFrom[key] = &exposure{}
		}
		k.configsFrom[key].add(compromised, owner, reason)
	}
}

// events applies the Event rules: Events outlive the pods they name (for
// the API server's event TTL), so they can show a deleted attacker pod.
func (k *collector) events(evs []corev1.Event) {
	type group struct {
		kr          kubeRule
		ev          corev1.Event
		first, last time.Time
		count       int
		reasons     []string
	}
	groups := map[string]*group{}
	var order []string
	for _, kr := range k.kube {
		if kr.rule.Kind != "Event" {
			continue
		}
		for _, ev := range evs {
			if kr.rule.Namespace != "" && ev.Namespace != kr.rule.Namespace {
				continue
			}
			io := ev.InvolvedObject
			if len(kr.rule.MessagePatterns) > 0 && !anyGlob(kr.rule.MessagePatterns, ev.Message) && !anyGlob(kr.rule.MessagePatterns, io.Name) {
				continue
			}
			if len(kr.rule.NamePatterns) > 0 && !anyGlob(kr.rule.NamePatterns, io.Name) {
				continue
			}
			key := kr.pack.ID + "\x00" + kr.rule.ID + "\x00" + io.Kind + "\x00" + io.Namespace + "\x00" + io.Name
			g := groups[key]
			if g == nil {
				g = &group{kr: kr, ev: ev}
				groups[key] = g
				order = append(order, key)
			}
			t := eventTime(ev)
			if g.first.IsZero() || t.Before(g.first) {
				g.first = t
			}
			if t.After(g.last) {
				g.last = t
			}
			g.count += max(1, int(ev.Count))
			if !contains(g.reasons, ev.Reason) && len(g.reasons) < 6 {
				g.reasons = append(g.reasons, ev.Reason)
			}
			if ev.Source.Host != "" {
				k.node(ev.Source.Host).raise(store.VerdictUnknown, fmt.Sprintf("events of %s %s/%s (%s) came from it", strings.ToLower(io.Kind), io.Namespace, io.Name, kr.rule.ID))
			}
		}
	}
	for _, key := range order {
		g := groups[key]
		io := g.ev.InvolvedObject
		resource := strings.ToLower(io.Kind) + "s"
		ref := k.ref(io.Namespace, resource, io.Name).String()
		state := "it still exists"
		if io.Kind == "Pod" && !k.pods[io.Namespace+"/"+io.Name] {
			state = "the pod no longer exists: these events are what is left of it"
		}
		detail := fmt.Sprintf("%d events name %s %s/%s (%s) from %s to %s; %s", g.count, io.Kind, io.Namespace, io.Name,
			strings.Join(g.reasons, ", "), g.first.Format(time.RFC3339), g.last.Format(time.RFC3339), state)
		k.add(collectors.Finding{ID: findingID(k.o.Cluster, g.kr.pack.ID, g.kr.rule.ID, ref), Pack: g.kr.pack.ID, Rule: g.kr.rule.ID,
			Severity: string(g.kr.rule.Severity), Path: ref, Detail: detail, ObservedAt: timePtr(g.first), Confidence: string(g.kr.rule.Confidence)})
		k.evidence = append(k.evidence, evidence{at: clamp(g.first, g.kr.pack.Window.Start), end: g.last, what: fmt.Sprintf("events of %s %s/%s", io.Kind, io.Namespace, io.Name)})
	}
}

func eventTime(ev corev1.Event) time.Time {
	switch {
	case !ev.FirstTimestamp.IsZero():
		return ev.FirstTimestamp.UTC()
	case !ev.EventTime.IsZero():
		return ev.EventTime.UTC()
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.UTC()
	}
	return ev.CreationTimestamp.UTC()
}

// auditLog applies the audit rules to one file; what it cannot read is
// reported, never fatal.
func (k *collector) auditLog(ctx context.Context, name string) {
	part := "audit log " + filepath.Base(name)
	f, err := openAuditLog(name)
	if err != nil {
		k.skip(part, err.Error())
		return
	}
	defer f.Close()
	type group struct {
		ar          auditRule
		ev          AuditEvent
		first, last time.Time
		line        int
		count       int
		agents      []string
		codes       []int
	}
	groups := map[string]*group{}
	var order []string
	seen := map[string]bool{}
	st, err := ReadAuditLog(ctx, f, func(line int, ev AuditEvent) {
		if ev.Stage != "" && ev.Stage != "ResponseComplete" && ev.Stage != "Panic" {
			return
		}
		if ev.AuditID != "" {
			if seen[ev.AuditID] {
				return
			}
			if len(seen) < 1_000_000 {
				seen[ev.AuditID] = true
			}
		}
		for _, ar := range k.audit {
			if !auditMatch(ar, ev) {
				continue
			}
			or := ev.ObjectRef
			key := ar.pack.ID + "\x00" + ar.rule.ID + "\x00" + ev.User.Username + "\x00" + ev.Verb + "\x00" + or.Resource + "\x00" + or.Namespace + "\x00" + or.Name
			g := groups[key]
			if g == nil {
				if len(groups) >= 10_000 {
					k.skip(part, "more than 10,000 distinct matching requests: the rest are counted in the first ones only")
					continue
				}
				g = &group{ar: ar, ev: ev, line: line}
				groups[key] = g
				order = append(order, key)
			}
			t := ev.At()
			if g.first.IsZero() || t.Before(g.first) {
				g.first = t
			}
			if t.After(g.last) {
				g.last = t
			}
			g.count++
			if !contains(g.agents, ev.UserAgent) && len(g.agents) < 3 {
				g.agents = append(g.agents, ev.UserAgent)
			}
			if ev.ResponseStatus != nil && !containsInt(g.codes, ev.ResponseStatus.Code) && len(g.codes) < 5 {
				g.codes = append(g.codes, ev.ResponseStatus.Code)
			}
		}
	})
	k.res.Stats.FilesRead++
	k.res.Stats.BytesRead += st.Bytes
	if err != nil {
		k.skip(part, err.Error())
	}
	if st.Truncated {
		k.skip(part, fmt.Sprintf("larger than %d bytes: only the first %d were read", int64(MaxAuditLogSize), int64(MaxAuditLogSize)))
	}
	if st.TooLong > 0 {
		k.skip(part, fmt.Sprintf("%d lines longer than %d bytes skipped", st.TooLong, MaxAuditLine))
	}
	if st.Skipped > 0 {
		k.skip(part, fmt.Sprintf("%d of %d lines are not audit events (skipped)", st.Skipped, st.Lines))
	}
	for _, key := range order {
		g := groups[key]
		ev, or := g.ev, g.ev.ObjectRef
		var ref collectors.ObjectRef
		what := ev.Verb + " " + or.Resource
		switch {
		case or.Namespace == "" && or.Name == "":
			ref = k.ref("", or.Resource, "")
			what += " (every namespace)"
		case or.Name == "":
			ref = k.ref(or.Namespace, or.Resource, "")
			what += " in " + or.Namespace
		default:
			ref = k.ref(or.Namespace, or.Resource, or.Name)
			what += " " + strings.TrimPrefix(or.Namespace+"/", "/") + or.Name
		}
		codes := make([]string, len(g.codes))
		for i, c := range g.codes {
			codes[i] = fmt.Sprint(c)
			if c == 403 {
				codes[i] += " (refused)"
			}
		}
		detail := fmt.Sprintf("%s by %s (user agent %s), %d times from %s to %s, HTTP %s; %s line %d",
			what, ev.User.Username, strings.Join(g.agents, ", "), g.count, g.first.Format(time.RFC3339), g.last.Format(time.RFC3339),
			orDefault(strings.Join(codes, ", "), "?"), filepath.Base(name), g.line)
		if g.ar.windowName != "" {
			detail += "; inside window " + g.ar.windowName
		}
		a, isSA := accountFromUser(ev.User.Username)
		if isSA && a.Namespace == "kube-system" {
			detail += "; a kube-system account: usually a controller (daemon-set, job): check the pod names"
		}
		k.add(collectors.Finding{ID: findingID(k.o.Cluster, g.ar.pack.ID, g.ar.rule.ID, ev.User.Username, ev.Verb, ref.String()),
			Pack: g.ar.pack.ID, Rule: g.ar.rule.ID, Severity: string(g.ar.rule.Severity), Path: ref.String(), Detail: detail,
			ObservedAt: timePtr(g.first), Confidence: string(g.ar.rule.Confidence)})
		k.evidence = append(k.evidence, evidence{at: clamp(g.first, g.ar.start), end: g.last, what: fmt.Sprintf("audit: %s by %s", what, ev.User.Username)})
		if isSA && a.Namespace != "kube-system" {
			k.account(a).mark(true, fmt.Sprintf("its token made %s calls (from %s)", what, g.first.Format(time.RFC3339)))
		}
	}
}

func auditMatch(ar auditRule, ev AuditEvent) bool {
	r := ar.rule
	if ev.ObjectRef == nil || ev.ObjectRef.Subresource != "" {
		return false
	}
	if !strings.EqualFold(ev.ObjectRef.Resource, r.Resource) || (isCore(r.Resource) && ev.ObjectRef.APIGroup != "") {
		return false
	}
	ok := false
	for _, v := range r.Verbs {
		if strings.EqualFold(v, ev.Verb) {
			ok = true
		}
	}
	if !ok {
		return false
	}
	if r.Namespace != "" && ev.ObjectRef.Namespace != r.Namespace {
		return false
	}
	if r.ClusterWide && ev.ObjectRef.Namespace != "" {
		return false
	}
	if !hasPrefixFold(ev.User.Username, r.UserPrefixes) || !hasPrefixFold(ev.UserAgent, r.UserAgentPrefixes) {
		return false
	}
	t := ev.At()
	return !t.Before(ar.start) && (ar.end == nil || !t.After(*ar.end))
}

// isCore: the resources the audit rules name live in the core API group.
func isCore(resource string) bool {
	switch strings.ToLower(resource) {
	case "pods", "secrets", "nodes", "namespaces", "configmaps", "serviceaccounts":
		return true
	}
	return false
}

// blastRadius reads RBAC for every compromised or suspect account: what it
// can do, and every Secret it can read.
func (k *collector) blastRadius(ctx context.Context) {
	if len(k.accounts) == 0 && len(k.secretsFrom) == 0 && len(k.configsFrom) == 0 {
		return
	}
	api := k.o.API
	k.o.Progress("RBAC")
	roles, err1 := api.Roles(ctx)
	crs, err2 := api.ClusterRoles(ctx)
	rbs, err3 := api.RoleBindings(ctx)
	crbs, err4 := api.ClusterRoleBindings(ctx)
	rbacOK := k.read("rbac roles", "list roles (every namespace)", err1)
	rbacOK = k.read("rbac clusterroles", "list clusterroles", err2) && rbacOK
	rbacOK = k.read("rbac rolebindings", "list rolebindings (every namespace)", err3) && rbacOK
	rbacOK = k.read("rbac clusterrolebindings", "list clusterrolebindings", err4) && rbacOK
	if !rbacOK {
		k.skip("blast radius", "RBAC could not be read whole: what the accounts below can do is not known")
	}
	x := newRBAC(roles, crs, rbs, crbs)
	k.o.Progress("secrets (names and keys only)")
	secrets, serr := api.Secrets(ctx)
	secretsOK := k.read("secrets", "list secrets (every namespace): names, types and key names are recorded, never values", serr)
	if !secretsOK {
		k.skip("blast radius", "the Secrets these accounts can read are not known (the secret list was refused)")
	}
	accts := slices.SortedFunc(maps.Keys(k.accounts), func(a, b account) int { return strings.Compare(a.String(), b.String()) })
	for _, a := range accts {
		st := k.accounts[a]
		gs := x.grants(a)
		caps := x.capabilities(gs)
		var readableN int
		if secretsOK {
			for _, s := range secrets {
				via, ok := readable(gs, s)
				if !ok {
					continue
				}
				readableN++
				key := s.Namespace + "/" + s.Name
				if k.secretsFrom[key] == nil {
					k.secretsFrom[key] = &exposure{}
				}
				k.secretsFrom[key].add(st.compromised, "serviceaccount "+a.String(), "readable by service account "+a.String()+" ("+via+")")
			}
		}
		sev := packs.Info
		switch {
		case st.compromised && (caps.listSecretsCluster != "" || caps.createPodsKubeSys != ""):
			sev = packs.Critical
		case st.compromised && readableN > 0:
			sev = packs.High
		case readableN > 0 || caps.listSecretsCluster != "" || caps.createPodsKubeSys != "":
			sev = packs.Medium
		}
		state := "suspect"
		if st.compromised {
			state = "compromised"
		}
		can := caps.summary()
		if len(can) == 0 {
			can = []string{"none of: list secrets, create pods in kube-system, list nodes"}
		}
		detail := fmt.Sprintf("service account %s can: %s; %d secrets readable; %s: %s", a, strings.Join(can, "; "), readableN, state, strings.Join(st.why, "; "))
		if !secretsOK {
			detail = fmt.Sprintf("service account %s can: %s; readable secrets unknown (secret list refused); %s: %s", a, strings.Join(can, "; "), state, strings.Join(st.why, "; "))
		}
		ref := k.ref(a.Namespace, "serviceaccounts", a.Name).String()
		k.add(collectors.Finding{ID: findingID(k.o.Cluster, Pack, "rbac-blast-radius", ref), Pack: Pack, Rule: "rbac-blast-radius",
			Severity: string(sev), Path: ref, Detail: detail, Confidence: string(packs.Inferred)})
	}
	k.secretMetas = map[string]SecretMeta{}
	for _, s := range secrets {
		if k.secretsFrom[s.Namespace+"/"+s.Name] != nil {
			k.secretMetas[s.Namespace+"/"+s.Name] = s
		}
	}
	k.configs(ctx)
}
