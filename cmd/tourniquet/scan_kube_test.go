package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/kube/kubetest"
	"github.com/tourniquet-ir/tourniquet/store"
)

const plantedClusterSecret = "sk-proj-PLANTEDclusterSECRETvalue000111222333"

// plantCluster creates, on the real API server, a node-setup pod that
// completed on node-a, an app pod that installs litellm 1.82.8 as ai/app
// with RBAC to read the secrets of ai, and the secrets.
func plantCluster(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("create %s: %v", what, err)
		}
	}
	for _, ns := range []string{"ai", "other"} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		must("namespace", err)
	}
	for _, n := range []string{"node-a", "node-b"} {
		_, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		must("node", err)
	}
	for _, s := range []struct{ ns, name string }{{"ai", "openai"}, {"other", "db"}} {
		_, err := cs.CoreV1().Secrets(s.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.name},
			StringData: map[string]string{"value": plantedClusterSecret}}, metav1.CreateOptions{})
		must("secret", err)
	}
	_, err := cs.RbacV1().Roles("ai").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "read"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{})
	must("role", err)
	_, err = cs.RbacV1().RoleBindings("ai").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "app-read"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "read"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "ai", Name: "app"}}}, metav1.CreateOptions{})
	must("rolebinding", err)
	t0 := metav1.NewTime(time.Now().Add(-time.Hour).UTC().Truncate(time.Second))
	privileged := true
	pods := []struct {
		pod   *corev1.Pod
		phase corev1.PodPhase
	}{
		{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "node-setup-node-a", Namespace: "kube-system"}, Spec: corev1.PodSpec{
			NodeName: "node-a", HostPID: true, HostNetwork: true, RestartPolicy: corev1.RestartPolicyNever,
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{Name: "setup", Image: "alpine:latest", Command: []string{"sh", "-c", "true"},
				SecurityContext: &corev1.SecurityContext{Privileged: &privileged}, VolumeMounts: []corev1.VolumeMount{{Name: "host", MountPath: "/host"}}}},
			Volumes: []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}}}, corev1.PodSucceeded},
		{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ai"}, Spec: corev1.PodSpec{ServiceAccountName: "app", NodeName: "node-b",
			Containers: []corev1.Container{{Name: "app", Image: "python:3.12", Command: []string{"sh", "-c", "pip install litellm==1.82.8 && python app.py"}}}}},
			corev1.PodRunning},
	}
	for _, p := range pods {
		got, err := cs.CoreV1().Pods(p.pod.Namespace).Create(ctx, p.pod, metav1.CreateOptions{})
		must("pod", err)
		got.Status = corev1.PodStatus{Phase: p.phase, StartTime: &t0}
		_, err = cs.CoreV1().Pods(p.pod.Namespace).UpdateStatus(ctx, got, metav1.UpdateOptions{})
		must("pod status", err)
	}
}

// kubeconfig writes a kubeconfig with two contexts: the current one points
// at a server that is not there, "prod" at the test cluster with token.
func kubeconfig(t *testing.T, c *kubetest.Cluster, token string) string {
	t.Helper()
	body := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: prod-cluster
  cluster: {server: %q, certificate-authority: %q}
- name: gone
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: %q}
contexts:
- name: prod
  context: {cluster: prod-cluster, user: u}
- name: staging
  context: {cluster: gone, user: u}
current-context: staging
`, c.URL, c.CAFile, token)
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScanKubeCLI drives `scan --kube` against a real API server: the
// context chosen like kubectl's, the audit log read, the result recorded
// in the same database as host scans with object references as locations,
// and 403s turned into a partial result (or exit 4 when nothing is allowed).
func TestScanKubeCLI(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	plantCluster(t, cs)
	audit := filepath.Join(t.TempDir(), "audit.log")
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"x1","stage":"ResponseComplete","verb":"create","user":{"username":"system:serviceaccount:ai:app"},"userAgent":"Python-urllib/3.12","objectRef":{"resource":"pods","namespace":"kube-system","name":"node-setup-node-a","apiVersion":"v1"},"responseStatus":{"code":201},"requestReceivedTimestamp":"2026-03-24T11:02:00Z"}`
	if err := os.WriteFile(audit, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := kubeconfig(t, c, kubetest.AdminToken)
	db := filepath.Join(t.TempDir(), "t.db")

	// The current context's server is gone: nothing could be read.
	code, _, errOut := runCLI(t, "--db", db, "scan", "--kube", "--kubeconfig", kc, "--kube-timeout", "2s")
	if code != exitUsage || !strings.Contains(errOut, "kube: gone: nothing could be read") {
		t.Errorf("scan of the unreachable current context: exit %d, stderr %q", code, errOut)
	}

	start := time.Now()
	code, out, errOut := runCLI(t, "--db", db, "--json", "scan", "--kube", "--kubeconfig", kc, "--context", "prod", "--kube-audit-log", audit)
	t.Logf("scan --kube of the planted cluster: %v", time.Since(start))
	if code != exitFound || errOut != "" {
		t.Fatalf("scan --kube --context prod: exit %d, stderr %q", code, errOut)
	}
	var res collectors.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if res.Schema != collectors.ScanSchema || res.Host.Kind != "cluster" || res.Host.Name != "prod-cluster" || res.Host.Root != c.URL {
		t.Errorf("host = %+v", res.Host)
	}
	rules := map[string]string{}
	for _, f := range res.Findings {
		rules[f.Rule] = f.Path
	}
	want := map[string]string{
		"litellm-k8s-node-setup-pod":              "kube://prod-cluster/namespaces/kube-system/pods/node-setup-node-a",
		"litellm-audit-urllib-create-pod":         "kube://prod-cluster/namespaces/kube-system/pods/node-setup-node-a",
		"litellm-pypi-malicious":                  "kube://prod-cluster/namespaces/ai/pods/app",
		"rbac-blast-radius":                       "kube://prod-cluster/namespaces/ai/serviceaccounts/app",
		"litellm-k8s-privileged-alpine-shape":     "kube://prod-cluster/namespaces/kube-system/pods/node-setup-node-a",
		"litellm-audit-sa-create-pod-kube-system": "kube://prod-cluster/namespaces/kube-system/pods/node-setup-node-a",
	}
	for r, p := range want {
		if rules[r] != p {
			t.Errorf("finding %s at %q, want %q", r, rules[r], p)
		}
	}
	if strings.Contains(out, plantedClusterSecret) {
		t.Error("a secret value reached the output")
	}

	// Recorded like a host scan: exposure lists the readable secret (and
	// only it) at its object reference, under the cluster.
	code, out, _ = runCLI(t, "--db", db, "--json", "exposure")
	if code != exitOK || !strings.Contains(out, `"path": "kube://prod-cluster/namespaces/ai/secrets/openai"`) ||
		!strings.Contains(out, `"host": "prod-cluster"`) || strings.Contains(out, "secrets/db") {
		t.Errorf("exposure after scan --kube: exit %d\n%s", code, out)
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := st.Summary(context.Background(), "default")
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Hosts) != 1 || sum.Hosts[0].Kind != "cluster" || len(sum.Hosts[0].Nodes) != 2 || sum.Hosts[0].Nodes[0].Verdict != store.VerdictCompromised {
		t.Errorf("summary = %+v", sum.Hosts)
	}
	if b, _ := os.ReadFile(db); strings.Contains(string(b), plantedClusterSecret) {
		t.Error("a secret value reached the database")
	}

	// A reader allowed pods and nodes only: a partial result naming the
	// refused lists, in text.
	_, err = cs.RbacV1().ClusterRoles().Create(context.Background(), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "pods-nodes"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "nodes"}, Verbs: []string{"list"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cs.RbacV1().ClusterRoleBindings().Create(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "pods-nodes"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: kubetest.ReaderUser}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "--db", db, "scan", "--kube", "--kubeconfig", kubeconfig(t, c, kubetest.ReaderToken), "--context", "prod", "--no-record")
	for _, w := range []string{"Scanned cluster prod-cluster", "VERDICT: COMPROMISED", "Nodes (2): 1 compromised", "Not read (", "HTTP 403: the account lacks list secrets"} {
		if !strings.Contains(out, w) {
			t.Errorf("partial scan output lacks %q:\n%s", w, out)
		}
	}
	if code != exitFound {
		t.Errorf("partial scan: exit %d, want 1", code)
	}
	code, _, errOut = runCLI(t, "--db", db, "scan", "--kube", "--kubeconfig", kubeconfig(t, c, kubetest.NobodyToken), "--context", "prod", "--no-record")
	if code != exitAuth || !strings.Contains(errOut, "refused every read") {
		t.Errorf("scan with an account refused everything: exit %d, stderr %q", code, errOut)
	}
}

// TestConsoleClusterScanTmux starts a cluster scan from the console, in the
// real binary under tmux against the real API server: c scans the cluster
// of --context, the overview shows it with its nodes, the evidence pane its
// findings by object.
func TestConsoleClusterScanTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("needs tmux and the Kubernetes peer")
	}
	requireTmux(t)
	c := kubetest.Start(t)
	plantCluster(t, c.Admin(t))
	bin := buildCrashBinary(t) // no TOURNIQUET_CRASH_AT: the real behaviour
	dir := t.TempDir()
	cmdline := strings.Join([]string{
		"env", "TERM=xterm-256color", "HOME=" + dir, "TOURNIQUET_DB=" + filepath.Join(dir, "t.db"),
		bin, "console", "--kube", "--kubeconfig", kubeconfig(t, c, kubetest.AdminToken), "--context", "prod",
		"; echo EXITED $?; sleep 30",
	}, " ")
	s := startTmux(t, "tq-kube", cmdline)

	s.waitFor("Press c to scan the cluster prod-cluster", 10*time.Second)
	s.keys("c")
	s.waitFor("scan of cluster prod-cluster: COMPROMISED", 30*time.Second)
	s.waitFor("cluster prod-cluster", 5*time.Second)
	s.waitFor("↳ node-a", 5*time.Second)
	s.keys("2")
	s.waitFor("pods kube-system/node-setup-node-a", 5*time.Second)
	s.keys("q")
	s.waitFor("EXITED 0", 10*time.Second)
}
