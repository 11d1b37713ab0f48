package kube

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/credentials"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

// configCred is a credential found inside a ConfigMap (a LiteLLM
// config.yaml with inline keys): fingerprinted from its value, as a host
// scan does for a file, then the value is dropped.
type configCred struct {
	c   collectors.Credential
	exp *exposure
}

// configs reads the ConfigMaps that compromised or suspect workloads use
// and inventories the credentials written inline in them.
func (k *collector) configs(ctx context.Context) {
	for _, key := range slices.Sorted(maps.Keys(k.configsFrom)) {
		if ctx.Err() != nil {
			return
		}
		ns, name, _ := strings.Cut(key, "/")
		cm, err := k.o.API.ConfigMap(ctx, ns, name)
		if err != nil {
			if statusCode(err) != 404 {
				k.read("configmaps", "get configmaps in the namespaces of the suspect workloads", err)
			}
			continue
		}
		k.reads++
		mod := configMapModified(cm)
		for _, dk := range slices.Sorted(maps.Keys(cm.Data)) {
			v := cm.Data[dk]
			if len(v) > maxConfigMapValue {
				k.skip("configmaps", fmt.Sprintf("%s/%s key %s is larger than %d bytes: not read", ns, name, dk, maxConfigMapValue))
				continue
			}
			for _, f := range credentials.Parse(dk, []byte(v)) {
				ref := collectors.ObjectRef{Cluster: k.o.Cluster, Namespace: ns, Resource: "configmaps", Name: name, Key: dk}
				hint := f.Hint
				if hint == "" {
					hint = f.Secret.Hint()
				}
				fp := f.Secret.Fingerprint()
				f.Secret.Wipe()
				m := mod
				k.configCreds = append(k.configCreds, configCred{exp: k.configsFrom[key], c: collectors.Credential{
					ID: stableID("c-kube", k.o.Cluster, ref.String(), fp), Kind: f.Kind, Path: ref.String(), Fingerprint: fp, Hint: hint,
					ModifiedAt: &m, Owner: f.Owner, Detail: f.Detail, Note: f.Note,
				}})
			}
		}
	}
}

func configMapModified(cm *corev1.ConfigMap) time.Time {
	t := cm.CreationTimestamp.UTC()
	for _, mf := range cm.ManagedFields {
		if mf.Time != nil && mf.Time.UTC().After(t) {
			t = mf.Time.UTC()
		}
	}
	return t
}

func stableID(prefix string, parts ...string) string {
	return prefix + "-" + strings.TrimPrefix(findingID(parts...), "f-kube-")
}

// finish sets the window, the verdict, the nodes, the credentials' exposure
// and the partial-result notes.
func (k *collector) finish(_ context.Context, started time.Time) {
	res := k.res
	open := false
	var lo, hi time.Time
	for _, e := range k.evidence {
		if e.open {
			open = true
		}
		if lo.IsZero() || e.at.Before(lo) {
			lo = e.at
		}
		end := e.end
		if end.IsZero() {
			end = e.at
		}
		if end.After(hi) {
			hi = end
		}
	}
	for _, n := range k.nodes {
		if n.verdict == store.VerdictCompromised {
			open = true
		}
	}
	switch {
	case open:
		res.Verdict = store.VerdictCompromised
	case len(k.evidence) > 0:
		res.Verdict = store.VerdictWasCompromised
	case len(res.Findings) > 0:
		res.Verdict = store.VerdictUnknown
	default:
		res.Verdict = store.VerdictClean
	}
	if len(k.evidence) > 0 {
		s := lo
		res.Window.Start = &s
		res.Window.Open = open
		if !open {
			h := hi
			res.Window.End = &h
		}
		sort.Slice(k.evidence, func(i, j int) bool { return k.evidence[i].at.Before(k.evidence[j].at) })
		for i, e := range k.evidence {
			if i == 8 {
				res.Window.Basis = append(res.Window.Basis, fmt.Sprintf("… and %d more", len(k.evidence)-8))
				break
			}
			line := e.at.Format(time.RFC3339) + " " + e.what
			if e.open {
				line += " (still present)"
			}
			res.Window.Basis = append(res.Window.Basis, sanitize.Truncate(line, 500))
		}
	}

	// Credentials: Secrets within reach, then inline ConfigMap credentials.
	for _, key := range slices.Sorted(maps.Keys(k.secretsFrom)) {
		exp := k.secretsFrom[key]
		ns, name, _ := strings.Cut(key, "/")
		meta, known := k.secretMetas[key]
		ref := collectors.ObjectRef{Cluster: k.o.Cluster, Namespace: ns, Resource: "secrets", Name: name}
		fpKey := k.o.Cluster + "/" + ns + "/" + name
		c := collectors.Credential{
			ID: stableID("c-kube", k.o.Cluster, ns, name), Kind: KindSecret, Path: ref.String(),
			Fingerprint: redact.Fingerprint([]byte(fpKey)), Hint: ns + "/" + name,
			Owner: strings.Join(exp.owners, ", "),
			Note:  "The value was not read into Tourniquet: the fingerprint is sha256 of \"" + fpKey + "\" (cluster/namespace/name), not of the value.",
		}
		if known {
			m := meta.Modified
			c.ModifiedAt = &m
			c.Detail = fmt.Sprintf("type %s; keys: %s; created %s", meta.Type, orDefault(strings.Join(meta.Keys, ", "), "none"), meta.Created.Format(time.RFC3339))
		} else {
			c.Detail = "referenced by a workload; not listed (missing, or the secret list was refused)"
		}
		c.Exposure, c.Reason = k.exposureOf(exp, c.ModifiedAt)
		res.Credentials = append(res.Credentials, cleanCredential(c))
	}
	for _, cc := range k.configCreds {
		c := cc.c
		c.Exposure, c.Reason = k.exposureOf(cc.exp, c.ModifiedAt)
		res.Credentials = append(res.Credentials, cleanCredential(c))
	}

	// Nodes, by name.
	for _, n := range slices.Sorted(maps.Keys(k.nodes)) {
		st := k.nodes[n]
		basis := st.basis
		if st.verdict == store.VerdictClean {
			basis = append(basis, "no cluster evidence against this node; its files were not read (scan it with the node DaemonSet)")
		}
		for i := range basis {
			basis[i] = sanitize.Truncate(basis[i], 300)
		}
		res.Nodes = append(res.Nodes, collectors.Node{Name: sanitize.Terminal(n), Verdict: st.verdict, Basis: basis})
	}

	for _, p := range slices.Sorted(maps.Keys(k.skipped)) {
		res.Errors = append(res.Errors, sanitize.Truncate("skipped or partial: "+p+": "+strings.Join(k.skipped[p], "; "), 600))
	}
	sort.SliceStable(res.Findings, func(i, j int) bool { return res.Findings[i].Path < res.Findings[j].Path })
	res.Stats.DurationMS = k.o.Now().Sub(started).Milliseconds()
}

// cleanCredential escapes the text of a credential that comes from the
// cluster (names, owners, key names): hostile input, printed later.
func cleanCredential(c collectors.Credential) collectors.Credential {
	c.Hint = sanitize.Truncate(c.Hint, 120)
	c.Owner = sanitize.Truncate(c.Owner, 300)
	c.Detail = sanitize.Truncate(c.Detail, 400)
	c.Reason = sanitize.Truncate(c.Reason, 600)
	return c
}

// exposureOf classifies a Secret or ConfigMap credential against the
// cluster's window: exposed when a compromised account or workload could
// read it and its current content existed inside the window.
func (k *collector) exposureOf(exp *exposure, modified *time.Time) (string, string) {
	why := strings.Join(exp.reasons, "; ")
	w := k.res.Window
	switch {
	case !exp.compromised:
		return store.Unknown, why + " (no evidence that this account or workload ran the payload)"
	case w.Start == nil:
		return store.Unknown, why + " (no dated evidence of the compromise)"
	case w.Open:
		return store.Exposed, why + "; the cluster's window is still open"
	case modified == nil:
		return store.Unknown, why + "; its last write time is not known"
	case !modified.After(*w.End):
		return store.Exposed, fmt.Sprintf("%s; last written %s, before the window ended (%s)", why, modified.Format(time.RFC3339), w.End.Format(time.RFC3339))
	}
	return store.NotExposed, fmt.Sprintf("%s; last written %s, after the window ended (%s): the current value is newer", why, modified.Format(time.RFC3339), w.End.Format(time.RFC3339))
}

func clamp(t, floor time.Time) time.Time {
	if t.Before(floor) {
		return floor
	}
	return t
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// scrub keeps error text short: API errors can carry whole response bodies.
func scrub(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
