package host

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/benchtree"
)

var (
	benchOnce sync.Once
	benchRoot string
	benchErr  error
)

// benchTree generates one 100k-file tree with 40 environments per test
// binary run, shared by the scan benchmark and its baseline.
func benchTree(b *testing.B) string {
	benchOnce.Do(func() {
		benchRoot, benchErr = os.MkdirTemp("", "tq-bench-")
		if benchErr == nil {
			_, benchErr = benchtree.Generate(benchRoot, benchtree.Spec{Files: 100_000, Environments: 40})
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRoot != "" {
		os.RemoveAll(benchRoot)
	}
	os.Exit(code)
}

// BenchmarkScanTree is a full scan with the built-in packs.
func BenchmarkScanTree(b *testing.B) {
	root := benchTree(b)
	ps := builtinPacks(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Scan(context.Background(), Options{Root: root, Packs: ps, Now: func() time.Time { return scanTime }})
		if err != nil {
			b.Fatal(err)
		}
		if res.Verdict != "compromised" {
			b.Fatalf("verdict %s", res.Verdict)
		}
	}
}

// BenchmarkWalkDirBaseline lists the same tree with filepath.WalkDir, the
// standard library's walk, in the same run: the ratio to BenchmarkScanTree
// is the figure that travels between machines.
func BenchmarkWalkDirBaseline(b *testing.B) {
	root := benchTree(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil || n < 100_000 {
			b.Fatal(n, err)
		}
	}
}
