package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/store"
)

// fleetHosts is the fleet size of the import acceptance: bundles from 50
// generated hosts import in under 5 s (BenchmarkImport50Hosts measures it).
const fleetHosts = 50

// fleet scans generated host images as n different hosts (two in three
// compromised, the rest clean, each scanned at its own time) and writes
// each scan's bundle as `scan --json` prints it.
func fleet(tb testing.TB, n int) (files []string, results []*collectors.Result) {
	tb.Helper()
	ps, err := packs.Builtin()
	if err != nil {
		tb.Fatal(err)
	}
	images := map[string]string{}
	for _, img := range []string{"compromised", "clean"} {
		root := filepath.Join(tb.TempDir(), img)
		if err := hostimage.BuildFile(root, filepath.Join("..", "..", "collectors", "host", "testdata", "images", img+".txtar")); err != nil {
			tb.Fatal(err)
		}
		images[img] = root
	}
	dir := tb.TempDir()
	t0 := time.Date(2026, 3, 27, 8, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		img := "compromised"
		if i%3 == 2 {
			img = "clean"
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		res, err := host.Scan(context.Background(), host.Options{Root: images[img], Packs: ps, HostName: fmt.Sprintf("node-%02d", i),
			Now: func() time.Time { return at }})
		if err != nil {
			tb.Fatal(err)
		}
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("node-%02d.json", i))
		if err := os.WriteFile(p, b, 0o600); err != nil {
			tb.Fatal(err)
		}
		files = append(files, p)
		results = append(results, res)
	}
	return files, results
}

func importApp(db string) *app {
	return &app{io: IOStreams{In: nil, Out: io.Discard, Err: io.Discard}, getenv: func(string) string { return "" }, dbPath: db, incident: "default"}
}

// TestImportFleetIdempotent imports 50 hosts' bundles, then imports them
// again: nothing changes, not even the chain.
func TestImportFleetIdempotent(t *testing.T) {
	t.Parallel()
	files, results := fleet(t, fleetHosts)
	db := filepath.Join(t.TempDir(), "state", "t.db")
	ctx := context.Background()
	if err := importApp(db).importBundles(ctx, files); err != nil {
		t.Fatal(err)
	}
	state := func() (int64, string, int, int) {
		st, err := store.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		v, err := st.VerifyAudit(ctx)
		if err != nil || !v.OK {
			t.Fatalf("audit: %+v %v", v, err)
		}
		hs, err := st.Hosts(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		cs, err := st.Credentials(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		return v.Events, v.Head, len(hs), len(cs)
	}
	ev1, head1, hosts, creds := state()
	wantCreds := 0
	for _, r := range results {
		wantCreds += len(r.Credentials)
	}
	if hosts != fleetHosts || creds != wantCreds {
		t.Errorf("recorded %d hosts, %d credentials; want %d, %d", hosts, creds, fleetHosts, wantCreds)
	}
	if err := importApp(db).importBundles(ctx, files); err != nil {
		t.Fatal(err)
	}
	if ev2, head2, _, _ := state(); ev2 != ev1 || head2 != head1 {
		t.Errorf("a second import changed the audit chain: %d events (head %s), was %d (head %s)", ev2, head2, ev1, head1)
	}
}

// BenchmarkImport50Hosts is `tourniquet import` of 50 hosts' bundles into a
// fresh database: read, decode, check, record.
func BenchmarkImport50Hosts(b *testing.B) {
	files, _ := fleet(b, fleetHosts)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := filepath.Join(b.TempDir(), "state", "t.db")
		b.StartTimer()
		if err := importApp(db).importBundles(ctx, files); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecord50Hosts is the baseline: the same 50 scans recorded as
// local scans record them (already in memory; no file, decoding or check).
func BenchmarkRecord50Hosts(b *testing.B) {
	_, results := fleet(b, fleetHosts)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := filepath.Join(b.TempDir(), "state", "t.db")
		b.StartTimer()
		st, err := store.Open(ctx, db)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if err := st.RecordScan(ctx, "default", r); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
	}
}
