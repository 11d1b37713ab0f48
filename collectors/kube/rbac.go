package kube

import (
	"fmt"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// account is a service account: namespace/name.
type account struct{ Namespace, Name string }

func (a account) String() string { return a.Namespace + "/" + a.Name }

// Username is how the API server (and its audit log) names the account.
func (a account) Username() string { return "system:serviceaccount:" + a.Namespace + ":" + a.Name }

// accountFromUser reads "system:serviceaccount:NS:NAME".
func accountFromUser(u string) (account, bool) {
	rest, ok := strings.CutPrefix(u, "system:serviceaccount:")
	if !ok {
		return account{}, false
	}
	ns, name, ok := strings.Cut(rest, ":")
	if !ok || ns == "" || name == "" || strings.Contains(name, ":") {
		return account{}, false
	}
	return account{ns, name}, true
}

// grant is a set of rules an account holds in one namespace ("" for the
// whole cluster), and the binding that gives it.
type grant struct {
	namespace string
	rules     []rbacv1.PolicyRule
	via       string
}

// rbac is the cluster's Roles, ClusterRoles and bindings, indexed.
type rbac struct {
	roles        map[string]*rbacv1.Role // namespace/name
	clusterRoles map[string]*rbacv1.ClusterRole
	rbs          []rbacv1.RoleBinding
	crbs         []rbacv1.ClusterRoleBinding
}

func newRBAC(roles []rbacv1.Role, crs []rbacv1.ClusterRole, rbs []rbacv1.RoleBinding, crbs []rbacv1.ClusterRoleBinding) *rbac {
	x := &rbac{roles: map[string]*rbacv1.Role{}, clusterRoles: map[string]*rbacv1.ClusterRole{}, rbs: rbs, crbs: crbs}
	for i := range roles {
		x.roles[roles[i].Namespace+"/"+roles[i].Name] = &roles[i]
	}
	for i := range crs {
		x.clusterRoles[crs[i].Name] = &crs[i]
	}
	return x
}

// subjectIs reports whether a binding subject covers the account: the
// account itself, its user name, or the groups every service account (of
// its namespace) and every authenticated client belong to.
func subjectIs(s rbacv1.Subject, bindingNS string, a account) bool {
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = bindingNS
		}
		return s.Name == a.Name && ns == a.Namespace
	case rbacv1.UserKind:
		return s.Name == a.Username()
	case rbacv1.GroupKind:
		return s.Name == "system:serviceaccounts" || s.Name == "system:serviceaccounts:"+a.Namespace || s.Name == "system:authenticated"
	}
	return false
}

// grants lists what the account holds, binding by binding.
func (x *rbac) grants(a account) []grant {
	var out []grant
	for _, b := range x.crbs {
		for _, s := range b.Subjects {
			if !subjectIs(s, "", a) {
				continue
			}
			if b.RoleRef.Kind == "ClusterRole" {
				if cr, ok := x.clusterRoles[b.RoleRef.Name]; ok {
					out = append(out, grant{"", cr.Rules, "ClusterRoleBinding " + b.Name + " → ClusterRole " + cr.Name})
				}
			}
			break
		}
	}
	for _, b := range x.rbs {
		for _, s := range b.Subjects {
			if !subjectIs(s, b.Namespace, a) {
				continue
			}
			switch b.RoleRef.Kind {
			case "ClusterRole":
				if cr, ok := x.clusterRoles[b.RoleRef.Name]; ok {
					out = append(out, grant{b.Namespace, cr.Rules, "RoleBinding " + b.Namespace + "/" + b.Name + " → ClusterRole " + cr.Name})
				}
			case "Role":
				if r, ok := x.roles[b.Namespace+"/"+b.RoleRef.Name]; ok {
					out = append(out, grant{b.Namespace, r.Rules, "RoleBinding " + b.Namespace + "/" + b.Name + " → Role " + r.Name})
				}
			}
			break
		}
	}
	return out
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v || x == "*" {
			return true
		}
	}
	return false
}

// allows reports whether a rule permits verb on a core resource, for the
// named object (name "" asks for every object of the resource).
func ruleAllows(r rbacv1.PolicyRule, verb, resource, name string) bool {
	if !has(r.APIGroups, "") || !has(r.Resources, resource) || !has(r.Verbs, verb) {
		return false
	}
	if len(r.ResourceNames) == 0 {
		return true
	}
	if name == "" {
		return false
	}
	for _, n := range r.ResourceNames {
		if n == name {
			return true
		}
	}
	return false
}

// can reports the first binding that lets the account do verb on resource
// in namespace ns ("" asks for the whole cluster at once).
func can(gs []grant, verb, resource, ns, name string) (string, bool) {
	for _, g := range gs {
		if g.namespace != "" && g.namespace != ns {
			continue
		}
		for _, r := range g.rules {
			if ruleAllows(r, verb, resource, name) {
				return g.via, true
			}
		}
	}
	return "", false
}

// capabilities is what an account can do that the payload used.
type capabilities struct {
	listSecretsCluster string   // the binding, "" when it cannot
	secretNamespaces   []string // namespaces whose secrets it can list (without the cluster-wide grant)
	createPodsKubeSys  string
	listNodes          string
}

func (x *rbac) capabilities(gs []grant) capabilities {
	var c capabilities
	c.listSecretsCluster, _ = can(gs, "list", "secrets", "", "")
	c.createPodsKubeSys, _ = can(gs, "create", "pods", "kube-system", "")
	c.listNodes, _ = can(gs, "list", "nodes", "", "")
	if c.listSecretsCluster == "" {
		seen := map[string]bool{}
		for _, g := range gs {
			if g.namespace == "" || seen[g.namespace] {
				continue
			}
			if _, ok := can([]grant{g}, "list", "secrets", g.namespace, ""); ok {
				seen[g.namespace] = true
				c.secretNamespaces = append(c.secretNamespaces, g.namespace)
			}
		}
		sort.Strings(c.secretNamespaces)
	}
	return c
}

func (c capabilities) summary() []string {
	var out []string
	if c.listSecretsCluster != "" {
		out = append(out, "list secrets cluster-wide ("+c.listSecretsCluster+")")
	}
	if len(c.secretNamespaces) > 0 {
		out = append(out, "list secrets in "+strings.Join(c.secretNamespaces, ", "))
	}
	if c.createPodsKubeSys != "" {
		out = append(out, "create pods in kube-system ("+c.createPodsKubeSys+")")
	}
	if c.listNodes != "" {
		out = append(out, "list nodes ("+c.listNodes+")")
	}
	return out
}

// readable reports whether the account can read the secret (get, list or
// watch; resourceNames honoured), and through which binding.
func readable(gs []grant, s SecretMeta) (string, bool) {
	for _, verb := range []string{"list", "get", "watch"} {
		if via, ok := can(gs, verb, "secrets", s.Namespace, s.Name); ok {
			return fmt.Sprintf("%s secrets via %s", verb, via), true
		}
	}
	return "", false
}
