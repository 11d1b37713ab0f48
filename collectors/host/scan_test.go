package host

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
)

var update = flag.Bool("update", false, "rewrite golden files")

var scanTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func builtinPacks(t testing.TB) []*packs.Pack {
	t.Helper()
	ps, err := packs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func scanImage(t testing.TB, name string) (*collectors.Result, string) {
	t.Helper()
	root := t.TempDir()
	if err := hostimage.BuildFile(root, filepath.Join("testdata", "images", name+".txtar")); err != nil {
		t.Fatal(err)
	}
	res, err := Scan(context.Background(), Options{Root: root, Packs: builtinPacks(t), Now: func() time.Time { return scanTime }})
	if err != nil {
		t.Fatal(err)
	}
	return res, root
}

// summary is the part of a result a test asserts exactly: stable across
// machines (no durations, no temp paths).
func summary(res *collectors.Result, root string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %s\nverdict %s\n", res.Host.Name, res.Verdict)
	w := res.Window
	fmt.Fprintf(&b, "window start=%s end=%s open=%v\n", fmtTime(w.Start), fmtTime(w.End), w.Open)
	for _, basis := range w.Basis {
		fmt.Fprintf(&b, "  basis %s\n", basis)
	}
	fmt.Fprintf(&b, "findings %d\n", len(res.Findings))
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "  %-8s %s/%s %s @%s\n    %s\n", f.Severity, f.Pack, f.Rule, f.Path, fmtTime(f.ObservedAt), f.Detail)
	}
	fmt.Fprintf(&b, "credentials %d\n", len(res.Credentials))
	for _, c := range res.Credentials {
		fmt.Fprintf(&b, "  %-11s %-18s %-22s %s [%s] owner=%q note=%q\n    %s\n", c.Exposure, c.Kind, c.Hint, c.Path, c.Detail, c.Owner, c.Note, c.Reason)
	}
	fmt.Fprintf(&b, "environments %d\n", res.Stats.Environments)
	for _, e := range res.Errors {
		fmt.Fprintf(&b, "error %s\n", strings.ReplaceAll(e, root, "ROOT"))
	}
	return b.String()
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func TestScanImages(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"compromised", "cleaned", "clean", "coverage"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, root := scanImage(t, name)
			got := summary(res, root)
			golden := filepath.Join("testdata", "images", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("scan of %s differs from %s (-want +got):\n%s", name, golden, diff)
			}
		})
	}
}
