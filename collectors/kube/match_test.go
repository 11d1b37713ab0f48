package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
)

func litellmRule() (*packs.Pack, *packs.PackageRule) {
	p := &packs.Pack{ID: "litellm-2026-03"}
	r := &packs.PackageRule{Meta: packs.Meta{ID: "litellm-pypi-malicious"}, Ecosystem: "pypi", Name: "litellm", Versions: []string{"1.82.7", "1.82.8"}}
	return p, r
}

func TestPackageMatcher(t *testing.T) {
	t.Parallel()
	m := newPkgMatcher(litellmRule())
	tests := []struct {
		name string
		c    corev1.Container
		want string // version found, "" for none
	}{
		{"pip pin in a shell command", corev1.Container{Command: []string{"sh", "-c", "pip install litellm==1.82.8 && run"}}, "1.82.8"},
		{"extras and spaces", corev1.Container{Args: []string{"pip install 'litellm[proxy] == 1.82.7'"}}, "1.82.7"},
		{"wheel file name", corev1.Container{Args: []string{"pip install /w/litellm-1.82.8-py3-none-any.whl"}}, "1.82.8"},
		{"sdist file name", corev1.Container{Args: []string{"pip install litellm-1.82.7.tar.gz"}}, "1.82.7"},
		{"env value", corev1.Container{Env: []corev1.EnvVar{{Name: "PIP_SPEC", Value: "litellm===1.82.8"}}}, "1.82.8"},
		{"version variable", corev1.Container{Env: []corev1.EnvVar{{Name: "LITELLM_VERSION", Value: "v1.82.7"}}}, "1.82.7"},
		{"custom image tag", corev1.Container{Image: "reg.example/ml/litellm-worker:main-v1.82.8-slim"}, "1.82.8"},
		{"clean pin", corev1.Container{Args: []string{"pip install litellm==1.82.6"}}, ""},
		{"longer version", corev1.Container{Args: []string{"pip install litellm==1.82.80"}}, ""},
		{"another package", corev1.Container{Args: []string{"pip install notlitellm==1.82.8"}}, ""},
		{"prefix of a name", corev1.Container{Args: []string{"pip install litellm-proxy-extras==1.82.8"}}, ""},
		{"tag of an unrelated image", corev1.Container{Image: "python:1.82.8"}, ""},
		{"version in a tag that only contains it", corev1.Container{Image: "litellm:11.82.8"}, ""},
		{"digest only", corev1.Container{Image: "litellm@sha256:0000"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, where, ok := m.badVersion(tt.c)
			if v != tt.want || ok != (tt.want != "") {
				t.Fatalf("badVersion = %q, %q, %v; want %q", v, where, ok, tt.want)
			}
			if ok {
				for _, e := range tt.c.Env {
					if e.Value != "" && strings.Contains(where, e.Value) && e.Value != tt.want && "v"+tt.want != e.Value {
						t.Errorf("detail %q repeats an environment value", where)
					}
				}
			}
		})
	}
}

func TestNormImage(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"alpine":                           "alpine:latest",
		"alpine:latest":                    "alpine:latest",
		"docker.io/library/alpine":         "alpine:latest",
		"index.docker.io/library/alpine:3": "alpine:3",
		"ghcr.io/berriai/litellm:v1":       "ghcr.io/berriai/litellm:v1",
		"localhost:5000/alpine":            "localhost:5000/alpine:latest",
		"Alpine@sha256:abc":                "alpine@sha256:abc",
	} {
		if got := normImage(in); got != want {
			t.Errorf("normImage(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRuleAllows(t *testing.T) {
	t.Parallel()
	core := func(verbs, res []string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{""}, Verbs: verbs, Resources: res, ResourceNames: names}
	}
	tests := []struct {
		name                  string
		r                     rbacv1.PolicyRule
		verb, resource, which string
		want                  bool
	}{
		{"exact", core([]string{"list"}, []string{"secrets"}), "list", "secrets", "", true},
		{"wildcards", rbacv1.PolicyRule{APIGroups: []string{"*"}, Verbs: []string{"*"}, Resources: []string{"*"}}, "list", "secrets", "", true},
		{"other verb", core([]string{"get"}, []string{"secrets"}), "list", "secrets", "", false},
		{"other group", rbacv1.PolicyRule{APIGroups: []string{"apps"}, Verbs: []string{"*"}, Resources: []string{"secrets"}}, "list", "secrets", "", false},
		{"named, asked for all", core([]string{"get"}, []string{"secrets"}, "a"), "get", "secrets", "", false},
		{"named, that one", core([]string{"get"}, []string{"secrets"}, "a"), "get", "secrets", "a", true},
		{"named, another", core([]string{"get"}, []string{"secrets"}, "a"), "get", "secrets", "b", false},
	}
	for _, tt := range tests {
		if got := ruleAllows(tt.r, tt.verb, tt.resource, tt.which); got != tt.want {
			t.Errorf("%s: ruleAllows = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSecretMetaDropsValues(t *testing.T) {
	t.Parallel()
	s := &corev1.Secret{Data: map[string][]byte{"b": []byte("VALUE-1")}, StringData: map[string]string{"a": "VALUE-2"}, Type: corev1.SecretTypeOpaque}
	s.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "VALUE-3"}
	m := secretMeta(s)
	if strings.Join(m.Keys, ",") != "a,b" || m.Type != "Opaque" {
		t.Fatalf("secretMeta = %+v", m)
	}
	if strings.Contains(strings.ToLower(strings.Join(append(m.Keys, m.Type, m.Name), " ")), "value") {
		t.Fatalf("a value reached SecretMeta: %+v", m)
	}
}

func TestObjectRefRoundTrip(t *testing.T) {
	t.Parallel()
	for _, r := range []collectors.ObjectRef{
		{Cluster: "arn:aws:eks:eu-west-1:1:cluster/prod", Namespace: "kube-system", Resource: "pods", Name: "node-setup-a"},
		{Cluster: "c", Resource: "secrets"},
		{Cluster: "c", Namespace: "ns", Resource: "secrets"},
		{Cluster: "c", Resource: "nodes", Name: "n1"},
		{Cluster: "c", Namespace: "ns", Resource: "configmaps", Name: "cfg", Key: "config.yaml"},
		{Cluster: "c/#?", Namespace: "n/s", Resource: "pods", Name: "x\x1b[31m/../y#z"},
	} {
		got, ok := collectors.ParseObjectRef(r.String())
		if !ok || got != r {
			t.Errorf("ParseObjectRef(%q) = %+v, %v; want %+v", r.String(), got, ok, r)
		}
	}
	if _, ok := collectors.ParseObjectRef("/etc/passwd"); ok {
		t.Error("a file path parsed as an object reference")
	}
	for _, tt := range []struct {
		r    collectors.ObjectRef
		want string
	}{
		{collectors.ObjectRef{Cluster: "c", Namespace: "kube-system", Resource: "pods", Name: "node-setup-a"}, "kubectl get pods node-setup-a -n kube-system -o yaml"},
		{collectors.ObjectRef{Cluster: "c", Namespace: "ai", Resource: "secrets", Name: "openai"}, "kubectl get secrets openai -n ai -o jsonpath='{.metadata}'"},
		{collectors.ObjectRef{Cluster: "c", Resource: "clusterroles", Name: "system:node"}, "kubectl get clusterroles system:node -o yaml"},
		{collectors.ObjectRef{Cluster: "c", Resource: "secrets"}, ""},
		{collectors.ObjectRef{Cluster: "c", Namespace: "kube-system", Resource: "pods", Name: "x$(rm -rf ~)"}, ""},
		{collectors.ObjectRef{Cluster: "c", Namespace: "a;b", Resource: "pods", Name: "x"}, ""},
	} {
		if got := tt.r.Kubectl(); got != tt.want {
			t.Errorf("Kubectl(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}
