package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/collectors"
)

func bundle(host string, scanned time.Time, start time.Time, findingID string) *collectors.Result {
	s := start
	return &collectors.Result{Schema: collectors.ScanSchema,
		Host:    collectors.HostInfo{Name: host, Root: "/", ScannedAt: scanned},
		Packs:   []string{"litellm-2026-03"},
		Window:  collectors.Window{Start: &s, Open: true, Basis: []string{"install of litellm 1.82.8"}},
		Verdict: VerdictCompromised,
		Findings: []collectors.Finding{{ID: findingID, Pack: "litellm-2026-03", Rule: "litellm-init-pth", Severity: "critical",
			Path: "/srv/venv/lib/python3.12/site-packages/litellm_init.pth"}},
		Credentials: []collectors.Credential{{ID: "c-" + host, Kind: "aws-access-key", Path: "/root/.aws/credentials",
			Fingerprint: "sha256:0123456789abcdef", Hint: "AKIA…0001", Exposure: Exposed}},
	}
}

// snapshot is everything an import could change.
type snapshot struct {
	Hosts  []Host
	Finds  []Finding
	Creds  []Credential
	Events int64
}

func snap(t *testing.T, s *Store) snapshot {
	t.Helper()
	ctx := context.Background()
	hs, err := s.Hosts(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := s.Findings(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := s.Credentials(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.VerifyAudit(ctx)
	if err != nil || !v.OK {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
	return snapshot{hs, fs, cs, v.Events}
}

func TestImportScanIdempotentPerHostWindow(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 26, 8, 0, 0, 0, time.UTC)
	a := bundle("web-01", t0, time.Date(2026, 3, 24, 11, 0, 0, 0, time.UTC), "f-a")
	b := bundle("web-02", t0.Add(time.Hour), time.Date(2026, 3, 25, 9, 30, 0, 0, time.UTC), "f-b")

	steps := []struct {
		name    string
		res     *collectors.Result
		want    ImportOutcome
		changes bool
	}{
		{"first host", a, Imported, true},
		{"second host", b, Imported, true},
		{"first host again", a, AlreadyRecorded, false},
		{"second host again", b, AlreadyRecorded, false},
	}
	before := snap(t, s)
	for _, st := range steps {
		out, err := s.ImportScan(ctx, "default", st.res, "sha256-of-"+st.res.Host.Name, st.res.Host.Name+".json")
		if err != nil || out != st.want {
			t.Fatalf("%s: ImportScan = %q, %v; want %q", st.name, out, err, st.want)
		}
		after := snap(t, s)
		if diff := cmp.Diff(before, after); (diff != "") != st.changes {
			t.Fatalf("%s: changed = %v, want %v:\n%s", st.name, diff != "", st.changes, diff)
		}
		before = after
	}
	// Each host keeps its own window.
	got := map[string]time.Time{}
	for _, h := range before.Hosts {
		got[h.Name] = *h.WindowStart
	}
	want := map[string]time.Time{"web-01": *a.Window.Start, "web-02": *b.Window.Start}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("windows (-want +got):\n%s", diff)
	}

	// An older bundle of a host keeps the newer record; a newer one replaces it.
	old := bundle("web-01", t0.Add(-time.Hour), time.Date(2026, 3, 24, 10, 40, 0, 0, time.UTC), "f-a")
	if out, err := s.ImportScan(ctx, "default", old, "x", "old.json"); err != nil || out != OlderThanRecorded {
		t.Fatalf("older bundle: %q, %v", out, err)
	}
	if diff := cmp.Diff(before, snap(t, s)); diff != "" {
		t.Fatalf("an older bundle changed the record:\n%s", diff)
	}
	newer := bundle("web-01", t0.Add(2*time.Hour), *a.Window.Start, "f-a")
	newer.Window.Open, newer.Verdict = false, VerdictWasCompromised
	end := t0.Add(90 * time.Minute)
	newer.Window.End = &end
	if out, err := s.ImportScan(ctx, "default", newer, "y", "newer.json"); err != nil || out != Imported {
		t.Fatalf("newer bundle: %q, %v", out, err)
	}
	for _, h := range snap(t, s).Hosts {
		if h.Name == "web-01" && (h.WindowOpen || h.WindowEnd == nil || !h.WindowEnd.Equal(end) || h.Verdict != VerdictWasCompromised) {
			t.Errorf("web-01 after the newer bundle: %+v", h)
		}
	}
}

func TestImportScanRefusesAnotherTargetsIDs(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 3, 26, 8, 0, 0, 0, time.UTC)
	if _, err := s.ImportScan(ctx, "default", bundle("web-01", t0, t0, "f-shared"), "a", "a.json"); err != nil {
		t.Fatal(err)
	}
	before := snap(t, s)
	forged := bundle("evil", t0, t0, "f-shared")
	forged.Findings[0].Detail = "rewritten by a forged bundle"
	_, err := s.ImportScan(ctx, "default", forged, "b", "b.json")
	if !errors.Is(err, ErrIDOfAnotherTarget) {
		t.Fatalf("ImportScan of a bundle reusing web-01's finding ID: %v, want ErrIDOfAnotherTarget", err)
	}
	if diff := cmp.Diff(before, snap(t, s)); diff != "" {
		t.Fatalf("a refused bundle changed the record:\n%s", diff)
	}
}

func TestClusterNodesRecorded(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	res := &collectors.Result{Schema: collectors.ScanSchema, Host: collectors.HostInfo{Kind: "cluster", Name: "prod", Root: "https://k8s", ScannedAt: time.Now()},
		Verdict: VerdictCompromised, Nodes: []collectors.Node{{Name: "a", Verdict: VerdictCompromised, Basis: []string{"pod completed"}}, {Name: "b", Verdict: VerdictClean}}}
	for i := 0; i < 2; i++ { // a re-scan replaces, never duplicates
		if err := s.RecordScan(ctx, "default", res); err != nil {
			t.Fatal(err)
		}
	}
	res.Nodes = res.Nodes[:1]
	if err := s.RecordScan(ctx, "default", res); err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summary(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	want := []ClusterNode{{Name: "a", Verdict: VerdictCompromised, Basis: []string{"pod completed"}}}
	if len(sum.Hosts) != 1 || !cmp.Equal(want, sum.Hosts[0].Nodes) {
		t.Errorf("summary hosts = %+v", sum.Hosts)
	}
}
