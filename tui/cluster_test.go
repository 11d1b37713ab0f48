package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/store"
)

// clusterResult is a cluster scan as the kube collector records it (its
// shape is asserted against a real API server in collectors/kube): the
// payload's pods, the compromised app, its blast radius, a readable secret
// and seven nodes. The console's tests need no Kubernetes client.
func clusterResult(scanned time.Time) *collectors.Result {
	ref := func(ns, res, name string) string {
		return collectors.ObjectRef{Cluster: "prod", Namespace: ns, Resource: res, Name: name}.String()
	}
	start := time.Date(2026, 3, 24, 11, 2, 0, 0, time.UTC)
	obs := start
	res := &collectors.Result{Schema: collectors.ScanSchema,
		Host:    collectors.HostInfo{Kind: "cluster", Name: "prod", Root: "https://10.0.0.1:6443", ScannedAt: scanned},
		Packs:   []string{"canisterworm-2026-03", "litellm-2026-03"},
		Verdict: store.VerdictCompromised,
		Window:  collectors.Window{Start: &start, Open: true, Basis: []string{"2026-03-24T11:02:00Z litellm-2026-03/litellm-k8s-node-setup-pod matched Pod kube-system/node-setup-node-a"}},
		Findings: []collectors.Finding{
			{ID: "f-kube-000000000001", Pack: "litellm-2026-03", Rule: "litellm-k8s-node-setup-pod", Severity: "critical", Path: ref("kube-system", "pods", "node-setup-node-a"),
				Detail: "Pod kube-system/node-setup-node-a (phase Succeeded, node node-a): name node-setup-node-a", ObservedAt: &obs, Confidence: "confirmed"},
			{ID: "f-kube-000000000002", Pack: "litellm-2026-03", Rule: "litellm-pypi-malicious", Severity: "critical", Path: ref("ai", "deployments", "app"),
				Detail: "Deployment ai/app ran litellm 1.82.8: container app command[2] pins litellm 1.82.8; service account ai/app", ObservedAt: &obs, Confidence: "confirmed"},
			{ID: "f-kube-000000000003", Pack: "tourniquet-kube", Rule: "rbac-blast-radius", Severity: "critical", Path: ref("ai", "serviceaccounts", "app"),
				Detail: "service account ai/app can: list secrets in ai; create pods in kube-system (RoleBinding kube-system/app-pods → Role pod-creator); 1 secrets readable", Confidence: "inferred"},
			{ID: "f-kube-000000000004", Pack: "litellm-2026-03", Rule: "litellm-audit-urllib-list-secrets", Severity: "high", Path: ref("", "secrets", ""),
				Detail: "list secrets (every namespace) by system:serviceaccount:ai:app (user agent Python-urllib/3.12), 1 times", ObservedAt: &obs, Confidence: "single_source"},
		},
		Credentials: []collectors.Credential{{ID: "c-kube-000000000001", Kind: "kubernetes-secret", Path: ref("ai", "secrets", "openai"),
			Fingerprint: "sha256:00112233445566aa", Hint: "ai/openai", Exposure: store.Exposed, Reason: "readable by service account ai/app; the cluster's window is still open",
			Detail: "type Opaque; keys: OPENAI_API_KEY"}},
	}
	for i, v := range []string{"clean", "compromised", "unknown", "clean", "clean", "unknown", "clean"} {
		n := collectors.Node{Name: fmt.Sprintf("node-%c", 'a'+i), Verdict: v}
		switch v {
		case "compromised":
			n.Name = "node-a"
			n.Basis = []string{"pod kube-system/node-setup-node-a (litellm-k8s-node-setup-pod) completed on it"}
		case "unknown":
			n.Basis = []string{"events of pod kube-system/node-setup-" + n.Name + " came from it"}
		default:
			n.Basis = []string{"no cluster evidence against this node; its files were not read"}
		}
		if i == 0 {
			n.Name = "node-z"
		}
		res.Nodes = append(res.Nodes, n)
	}
	return res
}

// TestClusterGoldens: the cluster beside the hosts in the overview, its
// worst nodes under it; its findings in the evidence pane by object, and a
// finding's details with the object and a read-only kubectl command.
func TestClusterGoldens(t *testing.T) {
	t.Parallel()
	st, ps := incident(t, "compromised")
	if err := st.RecordScan(context.Background(), "default", clusterResult(fixedNow)); err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		m := loaded(t, newBackend(st, ps, nil), size[0], size[1])
		filter := []string{"2", "/"}
		for _, r := range "node-setup" {
			filter = append(filter, string(r))
		}
		views := map[string]Model{
			"overview-cluster":        m,
			"evidence-cluster":        press(m, "2"),
			"evidence-cluster-detail": press(m, append(filter, "enter", "enter")...),
		}
		for name, v := range views {
			got := screen(v)
			for i, l := range strings.Split(got, "\n") {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%s at %dx%d: line %d is %d cells wide", name, size[0], size[1], i+1, w)
				}
			}
			checkGolden(t, fmt.Sprintf("%s-%dx%d", name, size[0], size[1]), got)
		}
	}
}

// TestFlowScanCluster starts a cluster scan from the console (c), sees its
// progress, then the cluster and its nodes in the overview and its
// findings in the evidence pane.
func TestFlowScanCluster(t *testing.T) {
	t.Parallel()
	st, ps := incident(t)
	release := make(chan struct{})
	var asked []string
	b := &Local{Store: st, IncidentName: "default", Packs: ps, Params: map[string]any{},
		Cluster: &ClusterSource{Name: "prod", Collect: func(ctx context.Context, progress func(string)) (*collectors.Result, error) {
			progress("pods")
			asked = append(asked, "pods")
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return clusterResult(time.Now()), nil
		}}}
	m := New(Options{Backend: b, Packs: []string{"litellm-2026-03"}, Context: context.Background()})
	scr := &latestScreen{}
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(140, 40), teatest.WithProgramOptions(tea.WithFilter(scr.filter)))
	scr.tm = tm

	scr.wait(t, "Press c to scan the cluster prod")
	tm.Send(keyPress("c"))
	scr.wait(t, "Scanning cluster prod")
	scr.wait(t, "reading pods")
	close(release)
	scr.wait(t, "scan of cluster prod: COMPROMISED, 4 findings, 1 credentials, 7 nodes")
	scr.wait(t, "COMPROMISED      ↳ node-a")
	tm.Send(keyPress("2"))
	scr.wait(t, "pods kube-system/node-setup-node-a")
	tm.Send(keyPress("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	hosts, err := st.Hosts(context.Background(), "default")
	if err != nil || len(hosts) != 1 || hosts[0].Kind != "cluster" {
		t.Errorf("recorded targets = %+v, %v", hosts, err)
	}
}
