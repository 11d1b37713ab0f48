package tui

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

var fixedNow = time.Date(2026, 4, 2, 9, 30, 0, 0, time.UTC)

// fixedBackend pins what varies between machines (the database path).
type fixedBackend struct{ *Local }

func (fixedBackend) DBPath() string { return "/var/lib/tourniquet/incident.db" }

func clock() func() time.Time {
	t := fixedNow
	return func() time.Time { t = t.Add(time.Second); return t }
}

// incident builds a store holding a scan of the compromised image (and of
// the clean one, under another name), so every pane has data.
func incident(t testing.TB, images ...string) (*store.Store, []*packs.Pack) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "t.db"), store.WithClock(clock()), store.WithActor("analyst"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ps, err := packs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		root := t.TempDir()
		if err := hostimage.BuildFile(root, filepath.Join("..", "collectors", "host", "testdata", "images", img+".txtar")); err != nil {
			t.Fatal(err)
		}
		res, err := host.Scan(ctx, host.Options{Root: root, Packs: ps, Now: func() time.Time { return fixedNow }})
		if err != nil {
			t.Fatal(err)
		}
		res.Host.Root = "/mnt/" + img // the temp dir differs per run
		res.Stats = collectors.Stats{}
		if err := st.RecordScan(ctx, "default", res); err != nil {
			t.Fatal(err)
		}
	}
	return st, ps
}

func newBackend(st *store.Store, ps []*packs.Pack, actions map[string]rotators.Action) Backend {
	return fixedBackend{&Local{Store: st, IncidentName: "default", Packs: ps, Actions: actions, Params: map[string]any{}}}
}

// loaded returns a console sized and fed with all its data, as a user sees
// it once the first loads have finished.
func loaded(t testing.TB, b Backend, w, h int) Model {
	t.Helper()
	m := New(Options{Backend: b, Packs: []string{"kics-action-2026-03", "litellm-2026-03", "trivy-action-2026-03"}, Now: func() time.Time { return fixedNow }})
	var tm any = m
	tm, _ = m.Update(tea_WindowSize(w, h))
	m = tm.(Model)
	tm, _ = m.Update(m.loadSummary()())
	m = tm.(Model)
	tm, _ = m.Update(m.loadData()())
	return tm.(Model)
}
