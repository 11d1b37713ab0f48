package collectors

import (
	"net/url"
	"regexp"
	"strings"
)

// kubeNameRE is what object names may hold (DNS subdomains, and the ':' of
// RBAC names such as system:node-proxier): nothing a shell interprets.
var kubeNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.:]{0,251}[a-z0-9])?$`)

func kubeName(s string) bool { return kubeNameRE.MatchString(s) }

// ObjectRefScheme starts the location of a finding or credential that is a
// Kubernetes object rather than a file.
const ObjectRefScheme = "kube://"

// ObjectRef names a Kubernetes object (or, with no Name, a collection) in
// a cluster: the location of cluster findings and credentials. It renders
// as the object's API path under its cluster,
//
//	kube://CLUSTER/namespaces/NS/RESOURCE/NAME[#KEY]   namespaced
//	kube://CLUSTER/RESOURCE/NAME                       cluster-scoped
//	kube://CLUSTER/RESOURCE                            every namespace
//
// with every part path-escaped, so that a cluster named by an ARN (with
// '/') or a hostile name from an audit log cannot change the structure.
type ObjectRef struct {
	Cluster   string
	Namespace string
	Resource  string // plural, lower case: pods, daemonsets, secrets
	Name      string
	Key       string // a key inside a ConfigMap or Secret, when the location is one entry
}

// String renders the reference.
func (r ObjectRef) String() string {
	var b strings.Builder
	b.WriteString(ObjectRefScheme)
	b.WriteString(url.PathEscape(r.Cluster))
	if r.Namespace != "" {
		b.WriteString("/namespaces/")
		b.WriteString(url.PathEscape(r.Namespace))
	}
	b.WriteString("/")
	b.WriteString(url.PathEscape(r.Resource))
	if r.Name != "" {
		b.WriteString("/")
		b.WriteString(url.PathEscape(r.Name))
	}
	if r.Key != "" {
		b.WriteString("#")
		b.WriteString(url.PathEscape(r.Key))
	}
	return b.String()
}

// ParseObjectRef reads a location written by String; ok is false for file
// paths and anything else.
func ParseObjectRef(loc string) (ObjectRef, bool) {
	rest, ok := strings.CutPrefix(loc, ObjectRefScheme)
	if !ok {
		return ObjectRef{}, false
	}
	var r ObjectRef
	if p, key, found := strings.Cut(rest, "#"); found {
		rest = p
		k, err := url.PathUnescape(key)
		if err != nil {
			return ObjectRef{}, false
		}
		r.Key = k
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return ObjectRef{}, false
		}
		parts[i] = u
	}
	r.Cluster = parts[0]
	parts = parts[1:]
	if len(parts) >= 3 && parts[0] == "namespaces" {
		r.Namespace = parts[1]
		parts = parts[2:]
	}
	switch len(parts) {
	case 1:
		r.Resource = parts[0]
	case 2:
		r.Resource, r.Name = parts[0], parts[1]
	default:
		return ObjectRef{}, false
	}
	if r.Cluster == "" || r.Resource == "" {
		return ObjectRef{}, false
	}
	return r, true
}

// Describe is the reference for people: "pods kube-system/node-setup-a
// (cluster prod)".
func (r ObjectRef) Describe() string {
	return r.Short() + " (cluster " + r.Cluster + ")"
}

// Short is the reference without its cluster, for a table whose row
// already names it: "pods kube-system/node-setup-a".
func (r ObjectRef) Short() string {
	s := r.Resource
	switch {
	case r.Namespace != "" && r.Name != "":
		s += " " + r.Namespace + "/" + r.Name
	case r.Name != "":
		s += " " + r.Name
	case r.Namespace != "":
		s += " in namespace " + r.Namespace
	default:
		s += " in every namespace"
	}
	if r.Key != "" {
		s += " key " + r.Key
	}
	return s
}

// Kubectl is the read-only command that shows the object, for the operator
// to paste; empty when the reference names no single object.
func (r ObjectRef) Kubectl() string {
	// Names from an audit log are not validated by anyone: only names the
	// API server could hold become a command to paste into a shell.
	if r.Name == "" || !kubeName(r.Name) || !kubeName(r.Resource) || (r.Namespace != "" && !kubeName(r.Namespace)) {
		return ""
	}
	s := "kubectl get " + r.Resource + " " + r.Name
	if r.Namespace != "" {
		s += " -n " + r.Namespace
	}
	if r.Resource == "secrets" {
		// Never print a Secret's values: its metadata is what matters here.
		return s + " -o jsonpath='{.metadata}'"
	}
	return s + " -o yaml"
}
