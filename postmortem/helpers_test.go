package postmortem_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// generated opens a store holding the generated incident (3 hosts, a
// cluster, 40 credentials, 12 runs), its clock at postmortemtest.Exported.
func generated(t testing.TB, o postmortemtest.Options) *store.Store {
	t.Helper()
	st, _, err := postmortemtest.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func options(t testing.TB) postmortem.Options {
	t.Helper()
	ps, err := packs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return postmortem.Options{Incident: "default", Now: func() time.Time { return postmortemtest.Exported }, Packs: ps, Generator: "tourniquet (test)"}
}

func build(t testing.TB, st *store.Store) *postmortem.Report {
	t.Helper()
	rep, err := postmortem.Build(context.Background(), st, options(t))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func render(t testing.TB, rep *postmortem.Report, f postmortem.Format) string {
	t.Helper()
	var b bytes.Buffer
	if err := postmortem.Render(&b, rep, f); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; UPDATE_GOLDEN=1 regenerates):\n%s", name, diff)
	}
}
