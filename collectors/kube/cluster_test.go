package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/kube"
	"github.com/tourniquet-ir/tourniquet/collectors/kube/kubetest"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Planted secret values: they must appear nowhere the tool writes.
const (
	plantedOpenAI  = "sk-proj-PLANTEDopenaiVALUEdoNotLeak0123456789abcdef"
	plantedDB      = "PLANTED-db-password-value-9f8e7d"
	plantedInline  = "sk-ant-api03-PLANTEDinlineCONFIGMAPkey0123456789abcdefghij"
	plantedApplied = "PLANTED-last-applied-value-5a4b3c"
)

type fixture struct {
	t  *testing.T
	cs kubernetes.Interface
}

func (f fixture) must(what string, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("create %s: %v", what, err)
	}
}

func (f fixture) ns(names ...string) {
	for _, n := range names {
		_, err := f.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		f.must("namespace "+n, err)
	}
}

func (f fixture) node(name string) {
	_, err := f.cs.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	f.must("node "+name, err)
}

func (f fixture) sa(ns, name string) {
	_, err := f.cs.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	f.must("serviceaccount "+ns+"/"+name, err)
}

func (f fixture) secret(ns, name string, data map[string]string, ann map[string]string) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}, Type: corev1.SecretTypeOpaque, StringData: data}
	_, err := f.cs.CoreV1().Secrets(ns).Create(context.Background(), s, metav1.CreateOptions{})
	f.must("secret "+ns+"/"+name, err)
}

// pod creates a pod and sets its status (no kubelet runs here).
func (f fixture) pod(p *corev1.Pod, st corev1.PodStatus) {
	f.t.Helper()
	ctx := context.Background()
	got, err := f.cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
	f.must("pod "+p.Namespace+"/"+p.Name, err)
	if st.Phase == "" {
		return
	}
	got.Status = st
	_, err = f.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, got, metav1.UpdateOptions{})
	f.must("pod status "+p.Name, err)
}

func (f fixture) clusterRole(name string, rules ...rbacv1.PolicyRule) {
	_, err := f.cs.RbacV1().ClusterRoles().Create(context.Background(), &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
	f.must("clusterrole "+name, err)
}

func (f fixture) role(ns, name string, rules ...rbacv1.PolicyRule) {
	_, err := f.cs.RbacV1().Roles(ns).Create(context.Background(), &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
	f.must("role "+ns+"/"+name, err)
}

func saSubject(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

func (f fixture) bindCluster(name, role string, subjects ...rbacv1.Subject) {
	_, err := f.cs.RbacV1().ClusterRoleBindings().Create(context.Background(), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}, metav1.CreateOptions{})
	f.must("clusterrolebinding "+name, err)
}

func (f fixture) bind(ns, name, kind, role string, subjects ...rbacv1.Subject) {
	_, err := f.cs.RbacV1().RoleBindings(ns).Create(context.Background(), &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role}, Subjects: subjects}, metav1.CreateOptions{})
	f.must("rolebinding "+ns+"/"+name, err)
}

func rule(verbs []string, resources []string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: resources, Verbs: verbs, ResourceNames: names}
}

func ptr[T any](v T) *T { return &v }

// nodeSetupPod is the LiteLLM payload's pod, exactly as the fact sheet
// (section 5) describes it.
func nodeSetupPod(node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "node-setup-" + node, Namespace: "kube-system"},
		Spec: corev1.PodSpec{
			NodeName: node, HostPID: true, HostNetwork: true, RestartPolicy: corev1.RestartPolicyNever,
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name: "setup", Image: "alpine:latest",
				Command:         []string{"sh", "-c", "mkdir -p /host/root/.config/sysmon && echo cHJpbnQ= | base64 -d > /host/root/.config/sysmon/sysmon.py"},
				SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)},
				VolumeMounts:    []corev1.VolumeMount{{Name: "host", MountPath: "/host"}},
			}},
			Volumes: []corev1.Volume{{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
		},
	}
}

func terminated(exit int32, at time.Time) corev1.PodStatus {
	phase := corev1.PodSucceeded
	if exit != 0 {
		phase = corev1.PodFailed
	}
	start := metav1.NewTime(at.Add(-time.Minute))
	return corev1.PodStatus{Phase: phase, StartTime: &start, ContainerStatuses: []corev1.ContainerStatus{{Name: "setup", Image: "alpine:latest",
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, StartedAt: start, FinishedAt: metav1.NewTime(at)}}}}}
}

func running(at time.Time) corev1.PodStatus {
	t := metav1.NewTime(at)
	return corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &t}
}

func container(name, image string) corev1.Container {
	return corev1.Container{Name: name, Image: image}
}

func builtin(t *testing.T) []*packs.Pack {
	ps, err := packs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// auditLog writes an API server audit log (JSON lines) with the payload's
// calls, noise around them, and hostile lines.
func auditLog(t *testing.T) string {
	ev := func(id, stage, verb, user, ua, resource, ns, name string, code int, at string) string {
		m := map[string]any{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": id, "stage": stage,
			"verb": verb, "user": map[string]any{"username": user}, "userAgent": ua, "sourceIPs": []string{"10.0.0.7"},
			"objectRef":      map[string]any{"resource": resource, "namespace": ns, "name": name, "apiVersion": "v1"},
			"responseStatus": map[string]any{"code": code}, "requestReceivedTimestamp": at, "stageTimestamp": at}
		b, _ := json.Marshal(m)
		return string(b)
	}
	lines := []string{
		// The payload, from the compromised app's token, inside the window.
		ev("a1", "ResponseComplete", "list", "system:serviceaccount:ai:litellm-app", "Python-urllib/3.12", "secrets", "", "", 200, "2026-03-24T11:01:00Z"),
		ev("a1", "RequestReceived", "list", "system:serviceaccount:ai:litellm-app", "Python-urllib/3.12", "secrets", "", "", 200, "2026-03-24T11:01:00Z"),
		ev("a2", "ResponseComplete", "create", "system:serviceaccount:ai:litellm-app", "Python-urllib/3.12", "pods", "kube-system", "node-setup-node-a", 201, "2026-03-24T11:02:00Z"),
		// A second account whose token was used, refused by RBAC.
		ev("a3", "ResponseComplete", "list", "system:serviceaccount:ci:deployer", "Python-urllib/3.11", "secrets", "", "", 403, "2026-03-25T08:00:00Z"),
		// Before the window: not the payload.
		ev("a4", "ResponseComplete", "list", "system:serviceaccount:ops:backup", "Python-urllib/3.12", "secrets", "", "", 200, "2026-03-01T00:00:00Z"),
		// A controller creating pods in kube-system: matches only the noisy rule.
		ev("a5", "ResponseComplete", "create", "system:serviceaccount:kube-system:daemon-set-controller", "kube-controller-manager/v1.33.13", "pods", "kube-system", "kube-proxy-x1", 201, "2026-03-24T12:00:00Z"),
		// A person listing secrets in one namespace: no rule.
		ev("a6", "ResponseComplete", "list", "alice", "kubectl/v1.33", "secrets", "billing", "", 200, "2026-03-24T12:00:00Z"),
		"not json at all",
		`{"verb": 42}`,
		"",
		`{"kind":"Event","verb":"list","user":{"username":"system:serviceaccount:x:y\u001b[31m"},"objectRef":{"resource":"secrets"},"requestReceivedTimestamp":"2026-03-24T11:00:00Z","userAgent":"Python-urllib/\u202e3"}`,
		`{"padding":"` + strings.Repeat("A", kube.MaxAuditLine+10) + `"}`,
	}
	p := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// plantAttack creates the attacker's objects, the compromised and suspect
// workloads, and RBAC that allows and denies.
func plantAttack(t *testing.T, cs kubernetes.Interface) {
	f := fixture{t, cs}
	ctx := context.Background()
	f.ns("ai", "billing", "other", "proxy", "ci", "ops", "batch")
	for _, n := range []string{"node-a", "node-b", "node-c", "node-d"} {
		f.node(n)
	}
	for _, s := range [][2]string{{"ai", "litellm-app"}, {"proxy", "litellm-proxy"}, {"ci", "deployer"}, {"ops", "backup"}, {"batch", "worker"}} {
		f.sa(s[0], s[1])
	}
	// Secrets, with values that must never leave the API server's answer.
	f.secret("ai", "openai", map[string]string{"OPENAI_API_KEY": plantedOpenAI}, nil)
	f.secret("ai", "app-env", map[string]string{"DATABASE_URL": "postgres://app:" + plantedDB + "@db/app"}, nil)
	f.secret("billing", "db-password", map[string]string{"password": plantedDB}, map[string]string{
		"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"password":"` + plantedApplied + `"}}`})
	f.secret("billing", "stripe", map[string]string{"STRIPE_KEY": "sk_live_PLANTEDstripe00000000"}, nil)
	f.secret("proxy", "litellm-keys", map[string]string{"LITELLM_MASTER_KEY": "sk-PLANTEDmaster1234", "ANTHROPIC_API_KEY": "sk-ant-PLANTED"}, nil)
	f.secret("other", "unrelated", map[string]string{"token": "PLANTED-unrelated"}, nil)
	_, err := cs.CoreV1().ConfigMaps("proxy").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "litellm-config"},
		Data: map[string]string{"config.yaml": "model_list:\n  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-3-5-sonnet\n      api_key: " + plantedInline + "\n  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: os.environ/OPENAI_API_KEY\n"}},
		metav1.CreateOptions{})
	f.must("configmap", err)

	// RBAC. The compromised app can list secrets in ai and billing (not
	// cluster-wide), create pods in kube-system and list nodes.
	f.clusterRole("secret-reader", rule([]string{"get", "list"}, []string{"secrets"}))
	f.clusterRole("node-lister", rule([]string{"list"}, []string{"nodes"}))
	f.role("ai", "read-secrets", rule([]string{"list", "get", "watch"}, []string{"secrets"}))
	f.role("kube-system", "pod-creator", rule([]string{"create"}, []string{"pods"}))
	f.bind("ai", "app-secrets", "Role", "read-secrets", saSubject("ai", "litellm-app"))
	f.bind("billing", "app-billing", "ClusterRole", "secret-reader", saSubject("ai", "litellm-app"))
	f.bind("kube-system", "app-pods", "Role", "pod-creator", saSubject("ai", "litellm-app"))
	f.bindCluster("app-nodes", "node-lister", saSubject("ai", "litellm-app"))
	// The proxy can get two named secrets only.
	f.role("proxy", "own-keys", rule([]string{"get"}, []string{"secrets"}, "litellm-keys"))
	f.role("billing", "db-only", rule([]string{"get"}, []string{"secrets"}, "db-password"))
	f.bind("proxy", "proxy-keys", "Role", "own-keys", saSubject("proxy", "litellm-proxy"))
	f.bind("billing", "proxy-db", "Role", "db-only", saSubject("proxy", "litellm-proxy"))
	// Denials: a cluster-wide reader that is not suspect, and bindings that
	// must not be taken for the suspects' (other namespace, other name,
	// other verb, other group).
	f.bindCluster("backup-reads-all", "secret-reader", saSubject("ops", "backup"))
	f.bind("other", "lookalike", "ClusterRole", "secret-reader", saSubject("other", "litellm-app"), saSubject("ai", "litellm-appx"))
	f.role("other", "configmaps-only", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"*"}})
	f.bind("other", "app-configmaps", "Role", "configmaps-only", saSubject("ai", "litellm-app"))
	f.role("other", "wrong-group", rbacv1.PolicyRule{APIGroups: []string{"example.com"}, Resources: []string{"secrets"}, Verbs: []string{"*"}})
	f.bind("other", "app-wrong-group", "Role", "wrong-group", saSubject("ai", "litellm-app"))

	// The compromised app: pip installs litellm 1.82.8 at start, reads two secrets.
	now := time.Now().UTC().Truncate(time.Second)
	f.pod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ai"}, Spec: corev1.PodSpec{ServiceAccountName: "litellm-app", NodeName: "node-d",
		Containers: []corev1.Container{{Name: "app", Image: "python:3.12-slim",
			Command: []string{"sh", "-c", "pip install 'litellm[proxy]==1.82.8' && python app.py"},
			Env: []corev1.EnvVar{{Name: "OPENAI_API_KEY", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "openai"}, Key: "OPENAI_API_KEY"}}}},
			EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-env"}}}}}}}},
		running(now.Add(-time.Hour)))
	// A workload on a custom image built with litellm 1.82.7: no RBAC.
	_, err = cs.AppsV1().Deployments("batch").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "embedder"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "embedder"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "embedder"}},
				Spec: corev1.PodSpec{ServiceAccountName: "worker", Containers: []corev1.Container{container("w", "registry.example.com/ml/litellm-worker:1.82.7")}}}}},
		metav1.CreateOptions{})
	f.must("deployment embedder", err)
	// The LiteLLM proxy: official image at a clean version, config map and keys.
	_, err = cs.AppsV1().Deployments("proxy").Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "litellm-proxy"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "litellm"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "litellm"}},
				Spec: corev1.PodSpec{ServiceAccountName: "litellm-proxy", Containers: []corev1.Container{{Name: "proxy", Image: "ghcr.io/berriai/litellm:main-v1.82.3",
					Args:    []string{"--config", "/app/config.yaml"},
					EnvFrom: []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "litellm-keys"}}}}}},
					Volumes: []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "litellm-config"}}}}}}}}},
		metav1.CreateOptions{})
	f.must("deployment litellm-proxy", err)
	// trivy 0.69.4 in a CronJob (a docker package rule of the trivy pack).
	_, err = cs.BatchV1().CronJobs("ci").Create(ctx, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "image-scan"},
		Spec: batchv1.CronJobSpec{Schedule: "0 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{container("trivy", "docker.io/aquasec/trivy:0.69.4")}}}}}}},
		metav1.CreateOptions{})
	f.must("cronjob", err)

	// The attacker's pods: completed on node-a, failed on node-b; on node-c
	// only Events are left of a deleted one.
	f.pod(nodeSetupPod("node-a"), terminated(0, now.Add(-30*time.Minute)))
	f.pod(nodeSetupPod("node-b"), terminated(1, now.Add(-29*time.Minute)))
	first := metav1.NewTime(now.Add(-28 * time.Minute))
	for i, msg := range []string{"Successfully assigned kube-system/node-setup-node-c to node-c", "Pulling image \"alpine:latest\"", "Started container setup"} {
		_, err := cs.CoreV1().Events("kube-system").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-setup-node-c.%d", i)},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "kube-system", Name: "node-setup-node-c"},
			Reason:         []string{"Scheduled", "Pulling", "Started"}[i], Message: msg, Source: corev1.EventSource{Component: "kubelet", Host: "node-c"},
			FirstTimestamp: first, LastTimestamp: first, Count: 1, Type: "Normal"}, metav1.CreateOptions{})
		f.must("event", err)
	}
	// Look-alikes that must not match: a privileged kube-system agent with
	// another image, a benign event, a monitoring DaemonSet mounting /.
	f.pod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy-x1", Namespace: "kube-system"}, Spec: corev1.PodSpec{NodeName: "node-a", HostNetwork: true,
		Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		Containers:  []corev1.Container{{Name: "kube-proxy", Image: "registry.k8s.io/kube-proxy:v1.33.13", SecurityContext: &corev1.SecurityContext{Privileged: ptr(true)}}}}},
		running(now))
	_, err = cs.CoreV1().Events("kube-system").Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy-x1.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "kube-system", Name: "kube-proxy-x1"}, Reason: "Started", Message: "Started container kube-proxy",
		FirstTimestamp: first, LastTimestamp: first, Count: 1}, metav1.CreateOptions{})
	f.must("event", err)
	ds := func(name, cname string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: cname, Image: "alpine:3.19", VolumeMounts: []corev1.VolumeMount{{Name: "h", MountPath: "/mnt/host"}}}},
						Volumes: []corev1.Volume{{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}}}}}
	}
	_, err = cs.AppsV1().DaemonSets("kube-system").Create(ctx, ds("host-provisioner-std", "provisioner"), metav1.CreateOptions{})
	f.must("daemonset", err)
	_, err = cs.AppsV1().DaemonSets("kube-system").Create(ctx, ds("node-exporter", "node-exporter"), metav1.CreateOptions{})
	f.must("daemonset", err)
}

type hit struct{ Pack, Rule, Path string }

func hits(res *collectors.Result) []hit {
	var out []hit
	for _, f := range res.Findings {
		out = append(out, hit{f.Pack, f.Rule, f.Path})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Path+out[i].Pack+out[i].Rule < out[j].Path+out[j].Pack+out[j].Rule
	})
	return out
}

func TestClusterEvidenceAgainstAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	plantAttack(t, cs)
	audit := auditLog(t)

	res, err := kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: cs}, Cluster: "prod", Server: c.URL,
		Packs: builtin(t), AuditLogs: []string{audit}})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	ref := func(ns, res, name string) string {
		return collectors.ObjectRef{Cluster: "prod", Namespace: ns, Resource: res, Name: name}.String()
	}
	want := []hit{
		{"trivy-action-2026-03", "trivy-0.69.4-image-dockerhub", ref("ci", "cronjobs", "image-scan")},
		{"litellm-2026-03", "litellm-pypi-malicious", ref("ai", "pods", "app")},
		{"tourniquet-kube", "rbac-blast-radius", ref("ai", "serviceaccounts", "litellm-app")},
		{"litellm-2026-03", "litellm-pypi-malicious", ref("batch", "deployments", "embedder")},
		{"tourniquet-kube", "rbac-blast-radius", ref("batch", "serviceaccounts", "worker")},
		{"tourniquet-kube", "rbac-blast-radius", ref("ci", "serviceaccounts", "deployer")},
		// The trivy CronJob runs as its namespace's default account.
		{"tourniquet-kube", "rbac-blast-radius", ref("ci", "serviceaccounts", "default")},
		{"canisterworm-2026-03", "canisterworm-host-provisioner-daemonset", ref("kube-system", "daemonsets", "host-provisioner-std")},
		{"canisterworm-2026-03", "canisterworm-kamikaze-shape", ref("kube-system", "daemonsets", "host-provisioner-std")},
		{"litellm-2026-03", "litellm-k8s-node-setup-pod", ref("kube-system", "pods", "node-setup-node-a")},
		{"litellm-2026-03", "litellm-k8s-privileged-alpine-shape", ref("kube-system", "pods", "node-setup-node-a")},
		{"litellm-2026-03", "litellm-audit-sa-create-pod-kube-system", ref("kube-system", "pods", "node-setup-node-a")},
		{"litellm-2026-03", "litellm-audit-urllib-create-pod", ref("kube-system", "pods", "node-setup-node-a")},
		{"litellm-2026-03", "litellm-k8s-node-setup-pod", ref("kube-system", "pods", "node-setup-node-b")},
		{"litellm-2026-03", "litellm-k8s-privileged-alpine-shape", ref("kube-system", "pods", "node-setup-node-b")},
		{"litellm-2026-03", "litellm-k8s-node-setup-event", ref("kube-system", "pods", "node-setup-node-c")},
		{"litellm-2026-03", "litellm-audit-sa-create-pod-kube-system", ref("kube-system", "pods", "kube-proxy-x1")},
		{"tourniquet-kube", "package-workload", ref("proxy", "deployments", "litellm-proxy")},
		{"tourniquet-kube", "rbac-blast-radius", ref("proxy", "serviceaccounts", "litellm-proxy")},
		// Three accounts listed secrets cluster-wide in the window: the
		// compromised app, ci/deployer (refused) and a hostile line's.
		{"litellm-2026-03", "litellm-audit-sa-list-secrets-cluster", ref("", "secrets", "")},
		{"litellm-2026-03", "litellm-audit-sa-list-secrets-cluster", ref("", "secrets", "")},
		{"litellm-2026-03", "litellm-audit-sa-list-secrets-cluster", ref("", "secrets", "")},
		{"litellm-2026-03", "litellm-audit-urllib-list-secrets", ref("", "secrets", "")},
		{"litellm-2026-03", "litellm-audit-urllib-list-secrets", ref("", "secrets", "")},
		{"litellm-2026-03", "litellm-audit-urllib-list-secrets", ref("", "secrets", "")},
		{"tourniquet-kube", "rbac-blast-radius", ref("x", "serviceaccounts", "y\x1b[31m")},
	}
	sort.Slice(want, func(i, j int) bool {
		return want[i].Path+want[i].Pack+want[i].Rule < want[j].Path+want[j].Pack+want[j].Rule
	})
	if diff := cmp.Diff(want, hits(res)); diff != "" {
		for _, f := range res.Findings {
			t.Logf("%s %s/%s %s: %s", f.Severity, f.Pack, f.Rule, f.Path, f.Detail)
		}
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	byRule := map[string]collectors.Finding{}
	for _, f := range res.Findings {
		byRule[f.Rule+" "+f.Path] = f
	}
	// The audit hits are two distinct accounts' list calls in one group
	// each, deduplicated by auditID, refused calls marked.
	ls := res.Findings
	var listDetails []string
	for _, f := range ls {
		if f.Rule == "litellm-audit-urllib-list-secrets" || f.Rule == "litellm-audit-sa-list-secrets-cluster" {
			listDetails = append(listDetails, f.Detail)
		}
	}
	joined := strings.Join(listDetails, "\n")
	for _, w := range []string{"system:serviceaccount:ai:litellm-app", "1 times", "system:serviceaccount:ci:deployer", "403 (refused)"} {
		if !strings.Contains(joined, w) {
			t.Errorf("audit list-secrets details lack %q:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "ops:backup") {
		t.Errorf("an audit entry before the window matched:\n%s", joined)
	}
	ev := byRule["litellm-k8s-node-setup-event "+ref("kube-system", "pods", "node-setup-node-c")]
	if !strings.Contains(ev.Detail, "no longer exists") || !strings.Contains(ev.Detail, "3 events") {
		t.Errorf("event finding detail = %q, want the deleted pod and 3 events", ev.Detail)
	}
	blast := byRule["rbac-blast-radius "+ref("ai", "serviceaccounts", "litellm-app")]
	if blast.Severity != "critical" || !strings.Contains(blast.Detail, "list secrets in ai, billing") ||
		!strings.Contains(blast.Detail, "create pods in kube-system (RoleBinding kube-system/app-pods → Role pod-creator)") ||
		!strings.Contains(blast.Detail, "list nodes") || strings.Contains(blast.Detail, "cluster-wide") {
		t.Errorf("blast radius of ai/litellm-app = %s %q", blast.Severity, blast.Detail)
	}
	if d := byRule["rbac-blast-radius "+ref("ci", "serviceaccounts", "deployer")]; d.Severity != "info" || !strings.Contains(d.Detail, "0 secrets readable") {
		t.Errorf("blast radius of ci/deployer (no bindings) = %s %q", d.Severity, d.Detail)
	}

	// The readable-secrets set, exactly, with exposure.
	type cred struct{ Kind, Path, Exposure string }
	var gotCreds []cred
	for _, c := range res.Credentials {
		gotCreds = append(gotCreds, cred{c.Kind, c.Path, c.Exposure})
	}
	sort.Slice(gotCreds, func(i, j int) bool { return gotCreds[i].Path < gotCreds[j].Path })
	wantCreds := []cred{
		{"kubernetes-secret", ref("ai", "secrets", "app-env"), "exposed"},
		{"kubernetes-secret", ref("ai", "secrets", "openai"), "exposed"},
		{"kubernetes-secret", ref("billing", "secrets", "db-password"), "exposed"},
		{"kubernetes-secret", ref("billing", "secrets", "stripe"), "exposed"},
		{"anthropic-api-key", collectors.ObjectRef{Cluster: "prod", Namespace: "proxy", Resource: "configmaps", Name: "litellm-config", Key: "config.yaml"}.String(), "unknown"},
		{"kubernetes-secret", ref("proxy", "secrets", "litellm-keys"), "unknown"},
	}
	sort.Slice(wantCreds, func(i, j int) bool { return wantCreds[i].Path < wantCreds[j].Path })
	if diff := cmp.Diff(wantCreds, gotCreds); diff != "" {
		t.Errorf("credentials (-want +got):\n%s", diff)
	}
	for _, c := range res.Credentials {
		if c.Path == ref("billing", "secrets", "db-password") {
			if !strings.Contains(c.Detail, "type Opaque; keys: password") || c.ModifiedAt == nil || !strings.Contains(c.Owner, "serviceaccount ai/litellm-app") {
				t.Errorf("db-password credential = %+v", c)
			}
		}
	}

	// Verdicts: the cluster is compromised (a node-setup pod completed, the
	// bad app still runs); per node.
	if res.Verdict != store.VerdictCompromised || !res.Window.Open || res.Window.Start == nil {
		t.Errorf("verdict %s window %+v", res.Verdict, res.Window)
	}
	nodes := map[string]string{}
	for _, n := range res.Nodes {
		nodes[n.Name] = n.Verdict
	}
	// The wiper DaemonSet targets every node, so none is clean here.
	wantNodes := map[string]string{"node-a": "compromised", "node-b": "unknown", "node-c": "unknown", "node-d": "unknown"}
	if diff := cmp.Diff(wantNodes, nodes); diff != "" {
		t.Errorf("node verdicts (-want +got):\n%s", diff)
	}
	// Hostile and unreadable audit lines are counted, not lost.
	errs := strings.Join(res.Errors, "\n")
	for _, w := range []string{"1 lines longer than 1048576 bytes skipped", "lines are not audit events (skipped)"} {
		if !strings.Contains(errs, w) {
			t.Errorf("errors lack %q:\n%s", w, errs)
		}
	}

	// The hostile audit line's escape and bidi override reach no text the
	// tool prints: they are shown escaped.
	js, _ := json.Marshal(res)
	var decoded any
	_ = json.Unmarshal(js, &decoded)
	flat := fmt.Sprint(decoded)
	if strings.ContainsAny(flat, "\x1b\u202e") {
		t.Errorf("a raw escape or bidi override from the audit log reached the result")
	}
	if !strings.Contains(flat, `y\x1b[31m`) {
		t.Errorf("the hostile account name is not shown escaped")
	}

	// Recorded and printed: no secret value anywhere, not even the one in
	// the last-applied annotation.
	assertNoValues(t, res)
}

// assertNoValues records res into a database and prints it as JSON, then
// looks for every planted value in the JSON, the database and its WAL.
func assertNoValues(t *testing.T, res *collectors.Result) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "t.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordScan(context.Background(), "default", res); err != nil {
		t.Fatalf("RecordScan: %v", err)
	}
	js, _ := json.Marshal(res)
	// Read the database files before closing (the WAL is folded in on close).
	files := map[string][]byte{"json": js}
	for _, p := range []string{db, db + "-wal"} {
		if b, err := os.ReadFile(p); err == nil {
			files[filepath.Base(p)] = b
		}
	}
	st.Close()
	if b, err := os.ReadFile(db); err == nil {
		files["db-after-close"] = b
	}
	for name, b := range files {
		for _, v := range []string{plantedOpenAI, plantedDB, plantedInline, plantedApplied, "PLANTEDstripe", "PLANTEDmaster", "PLANTED-unrelated"} {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("planted value %q found in %s", v, name)
			}
		}
	}
}

// TestClusterPartialOn403 scans with an account that may list pods and
// nodes only: the result says what it could not read and why.
func TestClusterPartialOn403(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	f := fixture{t, cs}
	f.ns("ai")
	f.node("node-a")
	f.node("node-z")
	f.pod(nodeSetupPod("node-a"), terminated(0, time.Now().UTC().Truncate(time.Second)))
	f.pod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ai"}, Spec: corev1.PodSpec{ServiceAccountName: "app",
		Containers: []corev1.Container{{Name: "app", Image: "python:3.12", Command: []string{"pip", "install", "litellm==1.82.7"}}}}}, running(time.Now()))
	f.clusterRole("pods-and-nodes", rule([]string{"list"}, []string{"pods", "nodes"}))
	f.bindCluster("reader-pods", "pods-and-nodes", rbacv1.Subject{Kind: rbacv1.UserKind, Name: kubetest.ReaderUser})

	reader, err := kubernetes.NewForConfig(c.Config(kubetest.ReaderToken))
	if err != nil {
		t.Fatal(err)
	}
	res, err := kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: reader}, Cluster: "prod", Packs: builtin(t)})
	if err != nil {
		t.Fatalf("Collect with a partial account: %v", err)
	}
	rules := map[string]bool{}
	for _, f := range res.Findings {
		rules[f.Rule] = true
	}
	for _, r := range []string{"litellm-k8s-node-setup-pod", "litellm-pypi-malicious", "rbac-blast-radius"} {
		if !rules[r] {
			t.Errorf("finding %s missing from the partial result", r)
		}
	}
	errs := strings.Join(res.Errors, "\n")
	for _, w := range []string{
		"daemonsets: HTTP 403: the account lacks list daemonsets (every namespace)",
		"events: HTTP 403: the account lacks list events (every namespace)",
		"secrets: HTTP 403: the account lacks list secrets",
		"the Secrets these accounts can read are not known",
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("partial result lacks %q:\n%s", w, errs)
		}
	}
	if len(res.Credentials) != 0 {
		t.Errorf("credentials without a secret list: %+v", res.Credentials)
	}
	nodes := map[string]string{}
	for _, n := range res.Nodes {
		nodes[n.Name] = n.Verdict
	}
	if diff := cmp.Diff(map[string]string{"node-a": "compromised", "node-z": "clean"}, nodes); diff != "" {
		t.Errorf("node verdicts (-want +got):\n%s", diff)
	}

	nobody, _ := kubernetes.NewForConfig(c.Config(kubetest.NobodyToken))
	_, err = kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: nobody}, Cluster: "prod", Packs: builtin(t)})
	if !errors.Is(err, kube.ErrNoAccess) {
		t.Errorf("Collect with an account refused everything: err = %v, want ErrNoAccess", err)
	}
}

// TestClusterPartialOnTimeout puts a proxy in front of the API server that
// never answers event lists: the scan reports the timeout and keeps the rest.
func TestClusterPartialOnTimeout(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	f := fixture{t, cs}
	f.pod(nodeSetupPod("node-a"), terminated(0, time.Now().UTC().Truncate(time.Second)))

	target, _ := url.Parse(c.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	cfg := c.Config(kubetest.AdminToken)
	rp.Transport = mustTransport(t, cfg)
	release := make(chan struct{})
	srv := newTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(release) })
	slow := c.Config(kubetest.AdminToken)
	slow.Host = srv.URL
	slow.TLSClientConfig.CAData = nil
	slow.TLSClientConfig.Insecure = true
	slowCS, err := kubernetes.NewForConfig(slow)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: slowCS, Timeout: time.Second}, Timeout: time.Second, Cluster: "prod", Packs: builtin(t)})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the scan took %v: the stalled list was not bounded", d)
	}
	if errs := strings.Join(res.Errors, "\n"); !strings.Contains(errs, "events: timed out after 1s") {
		t.Errorf("partial result lacks the events timeout:\n%s", errs)
	}
	found := false
	for _, f := range res.Findings {
		found = found || f.Rule == "litellm-k8s-node-setup-pod"
	}
	if !found {
		t.Errorf("the pods read before the stall are missing: %+v", res.Findings)
	}
}

// TestClusterWindowClosed: a bad pod that finished closes the window at its
// end; a Secret written after that is not exposed, one written before is.
func TestClusterWindowClosed(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	f := fixture{t, cs}
	f.ns("ai")
	f.secret("ai", "before", map[string]string{"k": "v1"}, nil)
	f.secret("ai", "rewritten", map[string]string{"k": "v1"}, nil)
	time.Sleep(1100 * time.Millisecond) // creation times have one-second precision
	end := time.Now().UTC().Truncate(time.Second)
	time.Sleep(1100 * time.Millisecond)
	f.secret("ai", "after", map[string]string{"k": "v2"}, nil)
	s, err := cs.CoreV1().Secrets("ai").Get(context.Background(), "rewritten", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.StringData = map[string]string{"k": "v3"}
	if _, err := cs.CoreV1().Secrets("ai").Update(context.Background(), s, metav1.UpdateOptions{FieldManager: "rotation"}); err != nil {
		t.Fatal(err)
	}
	f.role("ai", "read", rule([]string{"list"}, []string{"secrets"}))
	f.bind("ai", "job-read", "Role", "read", saSubject("ai", "job"))
	st := terminated(0, end)
	st.ContainerStatuses[0].Name = "job"
	f.pod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "ai"}, Spec: corev1.PodSpec{ServiceAccountName: "job", RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "job", Image: "python:3.12", Args: []string{"pip", "install", "litellm==1.82.8"}}}}}, st)

	res, err := kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: cs}, Cluster: "prod", Packs: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != store.VerdictWasCompromised || res.Window.End == nil || !res.Window.End.Equal(end) {
		t.Fatalf("verdict %s window %+v, want was_compromised ending %s", res.Verdict, res.Window, end)
	}
	got := map[string]string{}
	for _, c := range res.Credentials {
		r, _ := collectors.ParseObjectRef(c.Path)
		got[r.Name] = c.Exposure
	}
	want := map[string]string{"before": "exposed", "after": "not_exposed", "rewritten": "not_exposed"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exposure (-want +got):\n%s", diff)
	}
}

func mustTransport(t *testing.T, cfg *rest.Config) http.RoundTripper {
	t.Helper()
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestClusterPodShapeEachProperty creates, on the real API server, the
// payload's pod and variants that each lack one property of the shape rule
// (or sit in another namespace): only the full shape matches it, and the
// name rule matches every node-setup-* pod in kube-system, running or not.
func TestClusterPodShapeEachProperty(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	f := fixture{t, cs}
	f.ns("apps")
	now := time.Now().UTC().Truncate(time.Second)
	variants := []struct {
		name   string
		mutate func(p *corev1.Pod)
		shape  bool // litellm-k8s-privileged-alpine-shape
		named  bool // litellm-k8s-node-setup-pod
	}{
		{"full", func(*corev1.Pod) {}, true, true},
		{"not-privileged", func(p *corev1.Pod) { p.Spec.Containers[0].SecurityContext = nil }, false, true},
		{"no-hostpid", func(p *corev1.Pod) { p.Spec.HostPID = false }, false, true},
		{"no-hostnetwork", func(p *corev1.Pod) { p.Spec.HostNetwork = false }, false, true},
		{"hostpath-var", func(p *corev1.Pod) { p.Spec.Volumes[0].HostPath.Path = "/var/log" }, false, true},
		{"keyed-toleration", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists}}
		}, false, true},
		{"pinned-alpine", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "alpine:3.19" }, false, true},
		{"docker-io-alpine", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "docker.io/library/alpine" }, true, true},
		{"renamed", func(p *corev1.Pod) { p.Name = "kube-helper-x" }, true, false},
		{"other-namespace", func(p *corev1.Pod) { p.Namespace = "apps" }, false, false},
	}
	for i, v := range variants {
		p := nodeSetupPod("node-" + v.name)
		v.mutate(p)
		st := running(now)
		if i%2 == 1 {
			st = terminated(0, now)
		}
		f.pod(p, st)
	}
	res, err := kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: cs}, Cluster: "prod", Packs: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]bool{}
	for _, fd := range res.Findings {
		r, _ := collectors.ParseObjectRef(fd.Path)
		g := got[r.Namespace+"/"+r.Name]
		switch fd.Rule {
		case "litellm-k8s-privileged-alpine-shape":
			g[0] = true
		case "litellm-k8s-node-setup-pod":
			g[1] = true
		default:
			continue
		}
		got[r.Namespace+"/"+r.Name] = g
	}
	want := map[string][2]bool{}
	for _, v := range variants {
		p := nodeSetupPod("node-" + v.name)
		v.mutate(p)
		if v.shape || v.named {
			want[p.Namespace+"/"+p.Name] = [2]bool{v.shape, v.named}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pods matched [shape, name] (-want +got):\n%s", diff)
	}
}

// TestClusterBlastRadiusClusterWide: an account that holds "list secrets"
// cluster-wide through its namespace's group can read every Secret; an
// account of another namespace cannot read them through that binding.
func TestClusterBlastRadiusClusterWide(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	f := fixture{t, cs}
	f.ns("ml", "web", "db")
	f.secret("web", "tls", map[string]string{"tls.key": "PLANTED-tls"}, nil)
	f.secret("db", "root", map[string]string{"password": "PLANTED-root"}, nil)
	f.clusterRole("read-all-secrets", rule([]string{"list"}, []string{"secrets"}))
	f.bindCluster("ml-reads-all", "read-all-secrets", rbacv1.Subject{Kind: rbacv1.GroupKind, Name: "system:serviceaccounts:ml"})
	now := time.Now().UTC()
	for _, p := range []struct{ ns, sa, cmd string }{
		{"ml", "trainer", "pip install litellm==1.82.8"},
		{"web", "frontend", "pip install litellm==1.82.7"},
	} {
		f.pod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: p.ns}, Spec: corev1.PodSpec{ServiceAccountName: p.sa,
			Containers: []corev1.Container{{Name: "c", Image: "python:3.12", Command: []string{"sh", "-c", p.cmd}}}}}, running(now))
	}
	res, err := kube.Collect(context.Background(), kube.Options{API: &kube.Clientset{C: cs}, Cluster: "prod", Packs: builtin(t)})
	if err != nil {
		t.Fatal(err)
	}
	blast := map[string]collectors.Finding{}
	for _, fd := range res.Findings {
		if fd.Rule == "rbac-blast-radius" {
			r, _ := collectors.ParseObjectRef(fd.Path)
			blast[r.Namespace+"/"+r.Name] = fd
		}
	}
	ml := blast["ml/trainer"]
	if ml.Severity != "critical" || !strings.Contains(ml.Detail, "list secrets cluster-wide (ClusterRoleBinding ml-reads-all → ClusterRole read-all-secrets)") ||
		!strings.Contains(ml.Detail, "2 secrets readable") {
		t.Errorf("ml/trainer blast radius = %s %q", ml.Severity, ml.Detail)
	}
	if web := blast["web/frontend"]; web.Severity != "info" || !strings.Contains(web.Detail, "0 secrets readable") {
		t.Errorf("web/frontend blast radius = %s %q", web.Severity, web.Detail)
	}
	var got []string
	for _, cr := range res.Credentials {
		r, _ := collectors.ParseObjectRef(cr.Path)
		got = append(got, r.Namespace+"/"+r.Name+" "+cr.Exposure)
	}
	sort.Strings(got)
	if diff := cmp.Diff([]string{"db/root exposed", "web/tls exposed"}, got); diff != "" {
		t.Errorf("readable secrets (-want +got):\n%s", diff)
	}
}
