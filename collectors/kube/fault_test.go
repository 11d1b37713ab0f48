package kube_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/kube"
	"github.com/tourniquet-ir/tourniquet/collectors/kube/kubetest"
	"github.com/tourniquet-ir/tourniquet/internal/faultinject"
)

// TestClusterScanThroughFaults scans the planted attack on the real API
// server through client-go with every fault kind injected on a random
// schedule (429 with Retry-After, 503, resets before and after the request,
// timeouts, truncated bodies). A scan through faults never fails as a
// whole and never invents evidence: what it reports is a subset of the
// fault-free scan, and whatever it could not read is named in its errors
// (a partial result, not a silent gap). Then the scan is simply run again,
// as an operator would, and must give the fault-free result exactly.
func TestClusterScanThroughFaults(t *testing.T) {
	c := kubetest.Start(t)
	plantAttack(t, c.Admin(t))
	ctx := context.Background()
	packs := builtin(t)
	scan := func(t *testing.T, ft *faultinject.Transport) *collectors.Result {
		t.Helper()
		cfg := c.Config(kubetest.AdminToken)
		if ft != nil {
			cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { ft.Base = rt; return ft }
		}
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := kube.Collect(ctx, kube.Options{API: &kube.Clientset{C: cs, Timeout: 10 * time.Second}, Timeout: 10 * time.Second,
			Cluster: "prod", Server: c.URL, Packs: packs})
		if err != nil {
			t.Fatalf("Collect failed as a whole: %v", err)
		}
		return res
	}
	clean := scan(t, nil)
	if len(clean.Errors) != 0 || len(clean.Findings) == 0 || len(clean.Credentials) == 0 {
		t.Fatalf("the fault-free scan: %d findings, %d credentials, errors %q", len(clean.Findings), len(clean.Credentials), clean.Errors)
	}
	cleanFindings, cleanCreds := findingIDs(clean), credentialIDs(clean)

	var total, partial atomic.Int64
	// The scans only read: they run in parallel, which overlaps client-go's
	// Retry-After and backoff waits.
	t.Run("faults", func(t *testing.T) {
		for _, kind := range faultinject.All {
			for seed := int64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%s/seed-%d", kind, seed), func(t *testing.T) {
					t.Parallel()
					faultScan(t, scan, kind, seed, cleanFindings, cleanCreds, &total, &partial)
				})
			}
		}
	})
	if total.Load() == 0 {
		t.Fatal("no fault was injected")
	}
	t.Logf("%d faults injected over %d scans; %d scans reported a partial result", total.Load(), 3*len(faultinject.All), partial.Load())
}

// faultScan is one scan through kind faults on seed's schedule, checked
// against the fault-free scan, then run again without faults.
func faultScan(t *testing.T, scan func(*testing.T, *faultinject.Transport) *collectors.Result, kind faultinject.Kind, seed int64,
	cleanFindings, cleanCreds []string, total, partial *atomic.Int64) {
	ft := &faultinject.Transport{Schedule: faultinject.Random(seed, 0.3, kind, nil)}
	res := scan(t, ft)
	total.Add(int64(ft.Total()))
	got, gotCreds := findingIDs(res), credentialIDs(res)
	for _, id := range got {
		if !slices.Contains(cleanFindings, id) {
			t.Errorf("finding %s is not in the fault-free scan", id)
		}
	}
	for _, id := range gotCreds {
		if !slices.Contains(cleanCreds, id) {
			t.Errorf("credential %s is not in the fault-free scan", id)
		}
	}
	complete := slices.Equal(got, cleanFindings) && slices.Equal(gotCreds, cleanCreds)
	switch {
	case len(res.Errors) == 0 && !complete:
		t.Errorf("%d of %d findings and %d of %d credentials, and no error says what is missing (faults: %v)",
			len(got), len(cleanFindings), len(gotCreds), len(cleanCreds), ft.Log())
	case len(res.Errors) > 0:
		partial.Add(1)
		for _, e := range res.Errors {
			if strings.ContainsAny(e, "\x1b\r\n") || !strings.Contains(e, ":") {
				t.Errorf("error %q does not name the part it concerns on one clean line", e)
			}
		}
	}
	t.Logf("faults %d (%v): %d/%d findings, %d/%d credentials, errors %q",
		ft.Total(), ft.Injected(), len(got), len(cleanFindings), len(gotCreds), len(cleanCreds), res.Errors)

	// Again, as an operator would: the whole result.
	again := scan(t, nil)
	if !slices.Equal(findingIDs(again), cleanFindings) || !slices.Equal(credentialIDs(again), cleanCreds) || len(again.Errors) != 0 {
		t.Errorf("the scan run again differs from the fault-free one: errors %q", again.Errors)
	}
}

func findingIDs(r *collectors.Result) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func credentialIDs(r *collectors.Result) []string {
	var ids []string
	for _, c := range r.Credentials {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}
