package tui

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/host"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/hostimage"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
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
	m = tm.(Model)
	tm, _ = m.Update(m.loadGateway()())
	return tm.(Model)
}

// seedGateway configures the gateway (routes, a provider key, a virtual
// key) and records a running gateway's report, one route's last canary
// having failed.
func seedGateway(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	ksPath, idPath := keystore.DefaultPaths(st.Path())
	ks, err := keystore.Open(ksPath, idPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Put(ctx, "openai-api-key", redact.NewSecretString("sk-proj-GOLDENgoldenGOLDENgolden0123456789wxyz")); err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx *store.Tx) error {
		for _, r := range []store.GatewayRoute{
			{Model: "gpt-4o", Provider: "openai", BaseURL: "https://api.openai.com", KeyRef: "openai-api-key", Fallbacks: []string{"claude-sonnet"}},
			{Model: "claude-sonnet", Provider: "anthropic", BaseURL: "https://api.anthropic.com", KeyRef: "anthropic-api-key", Translate: true},
			{Model: "local\x1b[31m", Provider: "openai", BaseURL: "http://127.0.0.1:8000", KeyRef: "vllm"},
		} {
			if err := tx.PutGatewayRoute(ctx, r); err != nil {
				return err
			}
		}
		body := `{"started":"2026-04-02T09:00:00Z","virtual_keys":2,"routes":[
			{"model":"gpt-4o","provider":"openai","key_ref":"openai-api-key","key_fingerprint":"sha256:0123456789abcdef","key_hint":"sk-proj-…wxyz",
			 "last_verification":{"at":"2026-04-02T09:12:00Z","ok":true,"key_fingerprint":"sha256:0123456789abcdef"},"requests":1200,"errors":3,"requests_per_minute":40},
			{"model":"claude-sonnet","provider":"anthropic","key_ref":"anthropic-api-key","key_fingerprint":"sha256:fedcba9876543210","key_hint":"sk-ant-api03-…abcd",
			 "last_verification":{"at":"2026-04-02T09:20:00Z","ok":false,"error":"canary answered 401: the new key is refused","key_fingerprint":"sha256:1111111111111111"},"requests":80,"errors":0,"requests_per_minute":2.7}]}`
		return tx.PutGatewayStatus(ctx, "127.0.0.1:4000", 1, json.RawMessage(body)) // pid 1 is alive
	})
	if err != nil {
		t.Fatal(err)
	}
}
