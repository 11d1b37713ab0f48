package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/kube/kubetest"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
)

const nodeScanManifest = "../../deploy/node-scan-daemonset.yaml"

// manifestObjects decodes every document of the node-scan manifest.
func manifestObjects(t *testing.T) []runtime.Object {
	t.Helper()
	b, err := os.ReadFile(nodeScanManifest)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []runtime.Object
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", nodeScanManifest, err)
		}
		if len(bytes.TrimSpace(raw.Raw)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(raw.Raw, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", nodeScanManifest, err)
		}
		out = append(out, obj)
	}
	return out
}

func manifestDaemonSet(t *testing.T, objs []runtime.Object) *appsv1.DaemonSet {
	t.Helper()
	for _, o := range objs {
		if ds, ok := o.(*appsv1.DaemonSet); ok {
			return ds
		}
	}
	t.Fatalf("%s holds no DaemonSet", nodeScanManifest)
	return nil
}

// expandArgs resolves $(VAR) references as the kubelet does.
func expandArgs(args []string, env map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range env {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out[i] = a
	}
	return out
}

// TestNodeScanDaemonSetCommand runs the manifest's scan command, as the
// kubelet would start it, over a generated node root mounted at /host: it
// prints one scan of that node named after it, exits 0 with hits, writes no
// database, and its output imports as the node's host record.
func TestNodeScanDaemonSetCommand(t *testing.T) {
	t.Parallel()
	objs := manifestObjects(t)
	ds := manifestDaemonSet(t, objs)
	spec := ds.Spec.Template.Spec

	// The shape that makes the scan safe to run on a compromised node.
	if len(spec.InitContainers) != 1 || spec.InitContainers[0].Name != "scan" {
		t.Fatalf("init containers = %+v, want the one scan container", spec.InitContainers)
	}
	c := spec.InitContainers[0]
	var hostVol *corev1.Volume
	for i := range spec.Volumes {
		if spec.Volumes[i].HostPath != nil {
			hostVol = &spec.Volumes[i]
		}
	}
	mountOK := false
	for _, m := range c.VolumeMounts {
		mountOK = mountOK || hostVol != nil && m.Name == hostVol.Name && m.MountPath == "/host" && m.ReadOnly
	}
	sc := c.SecurityContext
	checks := []struct {
		what string
		ok   bool
	}{
		{"hostPath / mounted read-only at /host", hostVol != nil && hostVol.HostPath.Path == "/" && mountOK},
		{"the command is tourniquet scan --root /host --json", len(c.Command) == 1 && strings.HasSuffix(c.Command[0], "tourniquet") &&
			len(c.Args) > 4 && slices.Equal(c.Args[:4], []string{"scan", "--root", "/host", "--json"})},
		{"not privileged, no escalation, read-only root file system", sc != nil && sc.Privileged != nil && !*sc.Privileged &&
			sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem},
		{"every capability dropped but reading", sc != nil && sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) &&
			slices.Equal(sc.Capabilities.Add, []corev1.Capability{"DAC_READ_SEARCH"})},
		{"no service account token, no host network or PID", spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken &&
			!spec.HostNetwork && !spec.HostPID},
		{"runs on every node", slices.ContainsFunc(spec.Tolerations, func(t corev1.Toleration) bool { return t.Operator == corev1.TolerationOpExists && t.Key == "" })},
		{"no egress", slices.ContainsFunc(objs, func(o runtime.Object) bool {
			np, ok := o.(*networkingv1.NetworkPolicy)
			return ok && slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) && len(np.Spec.Egress) == 0 &&
				np.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] == ds.Spec.Template.Labels["app.kubernetes.io/name"]
		})},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("manifest: %s: not so", ch.what)
		}
	}

	// Run the command over a generated node root, /host being that root.
	root := t.TempDir()
	if err := hostimage.BuildFile(root, filepath.Join("testdata", "images", "node.txtar")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "spec.nodeName" {
			env[e.Name] = "node-a"
		}
	}
	args := expandArgs(c.Args, env)
	for i := range args {
		if args[i] == "/host" {
			args[i] = root
		} else if strings.HasPrefix(args[i], "/host/") {
			t.Fatalf("argument %q names a path through the mount: give it inside the root", args[i])
		}
	}
	db := filepath.Join(t.TempDir(), "must-not-exist.db")
	code, out, errOut := runCLI(t, append([]string{"--db", db}, args...)...)
	if code != exitOK || errOut != "" {
		t.Fatalf("the DaemonSet's command: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the node scan wrote a database (%v): the container's file system is read-only", err)
	}
	scans, err := collectors.DecodeBundles(strings.NewReader(out))
	if err != nil || len(scans) != 1 {
		t.Fatalf("output is not one scan bundle: %v\n%s", err, out)
	}
	res := scans[0]
	if res.Host.Name != "node-a" || res.Verdict != "compromised" {
		t.Errorf("host %q verdict %q, want node-a compromised", res.Host.Name, res.Verdict)
	}
	rules := map[string]bool{}
	for _, f := range res.Findings {
		rules[f.Rule] = true
		if strings.Contains(f.Path, "/var/lib/containerd/") {
			t.Errorf("a finding inside the excluded image layers: %s %s", f.Rule, f.Path)
		}
		if strings.HasPrefix(f.Path, root) {
			t.Errorf("a path outside the node's view: %s", f.Path)
		}
	}
	for _, r := range []string{"litellm-sysmon-py-file", "litellm-sysmon-user-unit", "canisterworm-k8s-node-backdoor"} {
		if !rules[r] {
			t.Errorf("finding %s missing from the node scan (got %v)", r, rules)
		}
	}
	tokenFound := false
	for _, cr := range res.Credentials {
		tokenFound = tokenFound || strings.HasPrefix(cr.Path, "/var/lib/kubelet/pods/")
		if strings.Contains(out, "FAKEsignatureFAKEsignature") {
			t.Error("the token's value reached the output")
		}
	}
	if !tokenFound {
		t.Errorf("the pod's service-account token on the node's disk is not inventoried: %+v", res.Credentials)
	}

	// Collected with kubectl logs, then imported: the node is a host.
	bundle := filepath.Join(t.TempDir(), "tourniquet-node-scan-x7k2p.json")
	if err := os.WriteFile(bundle, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	incidentDB := filepath.Join(t.TempDir(), "incident.db")
	code, out, _ = runCLI(t, "--db", incidentDB, "import", bundle)
	if code != exitOK || !strings.Contains(out, "host node-a (root "+root+", scanned ") || !strings.Contains(out, "imported: COMPROMISED") {
		t.Errorf("import of the node's log: exit %d\n%s", code, out)
	}
}

// TestNodeScanDaemonSetOnAPIServer applies the manifest to a real API
// server: it validates every object (no controller runs there, so no pod
// starts; TestNodeScanDaemonSetCommand runs the command).
func TestNodeScanDaemonSetOnAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	cs := c.Admin(t)
	ctx := context.Background()
	for _, o := range manifestObjects(t) {
		var err error
		switch v := o.(type) {
		case *corev1.Namespace:
			_, err = cs.CoreV1().Namespaces().Create(ctx, v, metav1.CreateOptions{FieldValidation: "Strict"})
		case *networkingv1.NetworkPolicy:
			_, err = cs.NetworkingV1().NetworkPolicies(v.Namespace).Create(ctx, v, metav1.CreateOptions{FieldValidation: "Strict"})
		case *appsv1.DaemonSet:
			_, err = cs.AppsV1().DaemonSets(v.Namespace).Create(ctx, v, metav1.CreateOptions{FieldValidation: "Strict"})
		default:
			t.Fatalf("unexpected object %T in the manifest", o)
		}
		if err != nil {
			t.Errorf("the API server refused %T: %v", o, err)
		}
	}
	got, err := cs.AppsV1().DaemonSets("tourniquet-scan").Get(ctx, "tourniquet-node-scan", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := got.Spec.Template.Spec.InitContainers[0].VolumeMounts[0]; !m.ReadOnly || m.MountPath != "/host" {
		t.Errorf("stored mount = %+v", m)
	}
}
