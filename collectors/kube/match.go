package kube

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
)

// workload is one object that runs containers: a Pod, or a controller's
// pod template.
type workload struct {
	kind      string // Pod, DaemonSet, Deployment, StatefulSet, Job, CronJob
	resource  string // pods, daemonsets, ...
	namespace string
	name      string
	spec      *corev1.PodSpec
	exists    bool // a controller that will run its pods again (not a finished pod)
	// Pods only.
	phase    corev1.PodPhase
	nodeName string
	times    times
}

func (w workload) serviceAccount() string {
	if w.spec.ServiceAccountName != "" {
		return w.spec.ServiceAccountName
	}
	if w.spec.DeprecatedServiceAccount != "" {
		return w.spec.DeprecatedServiceAccount
	}
	return "default"
}

func (w workload) containers() []corev1.Container {
	out := append([]corev1.Container{}, w.spec.InitContainers...)
	out = append(out, w.spec.Containers...)
	for _, e := range w.spec.EphemeralContainers {
		out = append(out, corev1.Container(e.EphemeralContainerCommon))
	}
	return out
}

// nodeAccess names what lets the workload's containers reach their node
// (privileged, host namespaces, hostPath volumes), "" when nothing does.
func (w workload) nodeAccess() string {
	var out []string
	if privileged(w.containers()) {
		out = append(out, "privileged")
	}
	if w.spec.HostPID {
		out = append(out, "hostPID")
	}
	for _, v := range w.spec.Volumes {
		if v.HostPath != nil {
			out = append(out, "hostPath "+v.HostPath.Path)
			break
		}
	}
	return strings.Join(out, ", ")
}

// ruleKind maps a workload kind to the kinds pack rules name: a CronJob's
// pods are a Job's.
func ruleKind(kind string) string {
	if kind == "CronJob" {
		return "Job"
	}
	return kind
}

// matchShape reports whether w has every property the rule asks for, and
// what matched, for the finding's detail.
func matchShape(r *packs.KubeRule, w workload) (bool, []string) {
	if r.Kind != ruleKind(w.kind) {
		return false, nil
	}
	var why []string
	if r.Namespace != "" {
		if w.namespace != r.Namespace {
			return false, nil
		}
	}
	if len(r.NamePatterns) > 0 {
		if !anyGlob(r.NamePatterns, w.name) {
			return false, nil
		}
		why = append(why, "name "+w.name)
	}
	cs := w.containers()
	if len(r.Images) > 0 {
		img := ""
		for _, c := range cs {
			for _, want := range r.Images {
				if ok, _ := path.Match(normImage(want), normImage(c.Image)); ok {
					img = c.Image
				}
			}
		}
		if img == "" {
			return false, nil
		}
		why = append(why, "image "+img)
	}
	if len(r.Containers) > 0 {
		found := ""
		for _, c := range cs {
			for _, want := range r.Containers {
				if c.Name == want {
					found = c.Name
				}
			}
		}
		if found == "" {
			return false, nil
		}
		why = append(why, "container "+found)
	}
	if r.Privileged != nil {
		if privileged(cs) != *r.Privileged {
			return false, nil
		}
		if *r.Privileged {
			why = append(why, "privileged")
		}
	}
	if r.HostPID != nil {
		if w.spec.HostPID != *r.HostPID {
			return false, nil
		}
		if *r.HostPID {
			why = append(why, "hostPID")
		}
	}
	if r.HostNetwork != nil {
		if w.spec.HostNetwork != *r.HostNetwork {
			return false, nil
		}
		if *r.HostNetwork {
			why = append(why, "hostNetwork")
		}
	}
	if len(r.HostPaths) > 0 {
		hp := ""
		for _, v := range w.spec.Volumes {
			if v.HostPath == nil {
				continue
			}
			for _, want := range r.HostPaths {
				if cleanHostPath(v.HostPath.Path) == cleanHostPath(want) {
					hp = v.HostPath.Path
				}
			}
		}
		if hp == "" {
			return false, nil
		}
		why = append(why, "hostPath "+hp)
	}
	if r.TolerateAll != nil {
		if tolerateAll(w.spec.Tolerations) != *r.TolerateAll {
			return false, nil
		}
		if *r.TolerateAll {
			why = append(why, "tolerates every taint")
		}
	}
	if r.RestartPolicy != "" {
		if string(w.spec.RestartPolicy) != r.RestartPolicy {
			return false, nil
		}
		why = append(why, "restartPolicy "+r.RestartPolicy)
	}
	return true, why
}

func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

func privileged(cs []corev1.Container) bool {
	for _, c := range cs {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			return true
		}
	}
	return false
}

// tolerateAll: a toleration with operator Exists and no key tolerates every
// taint (of its effect, or of every effect when none is given).
func tolerateAll(ts []corev1.Toleration) bool {
	for _, t := range ts {
		if t.Operator == corev1.TolerationOpExists && t.Key == "" && t.Effect == "" {
			return true
		}
	}
	return false
}

func cleanHostPath(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean("/" + p)
}

// normImage writes an image reference the way Docker resolves it for
// comparison: Docker Hub's default registry and library/ namespace dropped,
// ":latest" when no tag or digest is given.
func normImage(img string) string {
	img = strings.TrimSpace(strings.ToLower(img))
	for _, p := range []string{"docker.io/", "index.docker.io/", "registry-1.docker.io/"} {
		img = strings.TrimPrefix(img, p)
	}
	img = strings.TrimPrefix(img, "library/")
	last := img[strings.LastIndex(img, "/")+1:]
	if !strings.Contains(last, ":") && !strings.Contains(last, "@") {
		img += ":latest"
	}
	return img
}

// splitImage returns an image's repository (normalised) and tag ("" for a
// digest-only reference).
func splitImage(img string) (repo, tag string) {
	n := normImage(img)
	if i := strings.Index(n, "@"); i >= 0 {
		n = n[:i]
		if !strings.Contains(n[strings.LastIndex(n, "/")+1:], ":") {
			return n, ""
		}
	}
	i := strings.LastIndex(n, ":")
	if i < 0 || strings.Contains(n[i:], "/") {
		return n, ""
	}
	return n[:i], n[i+1:]
}

// pkgMatcher finds a package rule's bad versions in what a workload shows:
// image tags, command lines, arguments and environment values.
type pkgMatcher struct {
	pack *packs.Pack
	rule *packs.PackageRule
	// pin finds "name==1.82.8", "name[extra]==1.82.8" and the wheel or
	// sdist file names "name-1.82.8-..." / "name-1.82.8.tar.gz".
	pin *regexp.Regexp
}

func newPkgMatcher(p *packs.Pack, r *packs.PackageRule) *pkgMatcher {
	vs := make([]string, len(r.Versions))
	for i, v := range r.Versions {
		vs[i] = regexp.QuoteMeta(v)
	}
	name := regexp.QuoteMeta(strings.ToLower(r.Name))
	vers := "(" + strings.Join(vs, "|") + ")"
	re := `(?i)(?:^|[^a-z0-9_.-])` + name + `(?:\[[^\]]{0,100}\])?(?:\s{0,4}={2,3}\s{0,4}v?` + vers + `(?:$|[^0-9a-z.])|-` + vers + `(?:-|\.tar|\.zip|\.whl))`
	return &pkgMatcher{pack: p, rule: r, pin: regexp.MustCompile(re)}
}

// text reports the bad version pinned in s, if any.
func (m *pkgMatcher) text(s string) (string, bool) {
	sub := m.pin.FindStringSubmatch(s)
	if sub == nil {
		return "", false
	}
	if sub[1] != "" {
		return sub[1], true
	}
	return sub[2], true
}

// image reports whether an image is the package at a bad version: for a
// docker package rule its repository and tag; for a language package an
// image whose repository is named after the package with a tag that
// carries a bad version (a custom build that installed it).
func (m *pkgMatcher) image(img string) (string, bool) {
	repo, tag := splitImage(img)
	if tag == "" {
		return "", false
	}
	name := strings.ToLower(m.rule.Name)
	if m.rule.Ecosystem == "docker" {
		if repo != normRepo(name) {
			return "", false
		}
		for _, v := range m.rule.Versions {
			if tag == v || tag == "v"+v {
				return v, true
			}
		}
		return "", false
	}
	if !strings.Contains(repo[strings.LastIndex(repo, "/")+1:], name) {
		return "", false
	}
	for _, v := range m.rule.Versions {
		if versionToken(tag, v) {
			return v, true
		}
	}
	return "", false
}

// runs reports whether the workload names the package at all (in its
// image repository or as its command), whatever the version.
func (m *pkgMatcher) runs(c corev1.Container) bool {
	if m.rule.Ecosystem == "docker" {
		repo, _ := splitImage(c.Image)
		return repo == normRepo(strings.ToLower(m.rule.Name))
	}
	name := strings.ToLower(m.rule.Name)
	repo, _ := splitImage(c.Image)
	if strings.Contains(repo[strings.LastIndex(repo, "/")+1:], name) {
		return true
	}
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		if len(a) < 256 && strings.EqualFold(path.Base(strings.Fields(a + " x")[0]), name) {
			return true
		}
	}
	return false
}

func normRepo(name string) string {
	r, _ := splitImage(name + ":x")
	return r
}

// versionToken reports whether tag holds v delimited by anything but a
// digit or a dot: "1.82.8", "v1.82.8", "main-v1.82.8-stable", not "11.82.80".
func versionToken(tag, v string) bool {
	for i := 0; ; {
		j := strings.Index(tag[i:], v)
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !isVerChar(tag[j-1])
		end := j + len(v)
		after := end == len(tag) || !isVerChar(tag[end])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func isVerChar(c byte) bool { return c == '.' || (c >= '0' && c <= '9') }

// badVersion looks for the rule's bad versions in one container; where
// says where (never an environment value: it may be a secret).
func (m *pkgMatcher) badVersion(c corev1.Container) (version, where string, ok bool) {
	if v, ok := m.image(c.Image); ok {
		return v, fmt.Sprintf("container %s image %s", c.Name, c.Image), true
	}
	for i, a := range c.Command {
		if v, ok := m.text(a); ok {
			return v, fmt.Sprintf("container %s command[%d] pins %s %s", c.Name, i, m.rule.Name, v), true
		}
	}
	for i, a := range c.Args {
		if v, ok := m.text(a); ok {
			return v, fmt.Sprintf("container %s args[%d] pins %s %s", c.Name, i, m.rule.Name, v), true
		}
	}
	for _, e := range c.Env {
		if v, ok := m.text(e.Value); ok {
			return v, fmt.Sprintf("container %s env %s pins %s %s", c.Name, e.Name, m.rule.Name, v), true
		}
		up := strings.ToUpper(e.Name)
		if strings.Contains(up, strings.ToUpper(m.rule.Name)) && strings.Contains(up, "VERSION") {
			val := strings.TrimPrefix(strings.TrimSpace(e.Value), "v")
			for _, v := range m.rule.Versions {
				if val == v {
					return v, fmt.Sprintf("container %s env %s is %s", c.Name, e.Name, v), true
				}
			}
		}
	}
	return "", "", false
}

// references lists the Secrets and ConfigMaps a pod spec reads: volumes,
// projected sources, envFrom and env valueFrom.
func references(spec *corev1.PodSpec) (secrets, configMaps []string) {
	seenS, seenC := map[string]bool{}, map[string]bool{}
	addS := func(n string) {
		if n != "" && !seenS[n] {
			seenS[n] = true
			secrets = append(secrets, n)
		}
	}
	addC := func(n string) {
		if n != "" && !seenC[n] {
			seenC[n] = true
			configMaps = append(configMaps, n)
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			addS(v.Secret.SecretName)
		}
		if v.ConfigMap != nil {
			addC(v.ConfigMap.Name)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					addS(s.Secret.Name)
				}
				if s.ConfigMap != nil {
					addC(s.ConfigMap.Name)
				}
			}
		}
	}
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		for _, ef := range c.EnvFrom {
			if ef.SecretRef != nil {
				addS(ef.SecretRef.Name)
			}
			if ef.ConfigMapRef != nil {
				addC(ef.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.SecretKeyRef != nil {
				addS(e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				addC(e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	}
	return secrets, configMaps
}
