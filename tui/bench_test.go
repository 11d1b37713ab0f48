package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/store"
)

var (
	bigOnce sync.Once
	bigDB   string
	bigErr  error
)

// bigIncident is a database of 100k findings and 10k credentials over 50
// hosts, built once per test binary.
func bigIncident(b *testing.B) *store.Store {
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tq-tui-bench-")
		if err != nil {
			bigErr = err
			return
		}
		bigDB = filepath.Join(dir, "big.db")
		ctx := context.Background()
		st, err := store.Open(ctx, bigDB)
		if err != nil {
			bigErr = err
			return
		}
		defer st.Close()
		sevs := []string{"critical", "high", "medium", "low", "info"}
		start := time.Date(2026, 3, 24, 10, 39, 0, 0, time.UTC)
		for h := 0; h < 50; h++ {
			res := &collectors.Result{Schema: collectors.ScanSchema, Host: collectors.HostInfo{Name: fmt.Sprintf("host-%02d", h), Root: "/", ScannedAt: start},
				Window: collectors.Window{Start: &start, Open: true}, Verdict: store.VerdictCompromised}
			for i := 0; i < 2000; i++ {
				obs := start.Add(time.Duration(i) * time.Minute)
				res.Findings = append(res.Findings, collectors.Finding{ID: fmt.Sprintf("f-%02d-%05d", h, i), Pack: "litellm-2026-03",
					Rule: fmt.Sprintf("rule-%03d", i%200), Severity: sevs[i%5], Path: fmt.Sprintf("/srv/app%d/venv/lib/python3.11/site-packages/pkg%05d/mod.py", i%7, i),
					Detail: "a finding", ObservedAt: &obs})
			}
			for i := 0; i < 200; i++ {
				mod := start.Add(time.Duration(i-100) * time.Hour)
				res.Credentials = append(res.Credentials, collectors.Credential{ID: fmt.Sprintf("c-%02d-%04d", h, i), Kind: "aws-access-key",
					Path: fmt.Sprintf("/home/u%03d/.aws/credentials", i), Fingerprint: fmt.Sprintf("sha256:%016x", h*1000+i), Hint: "AKIA…0001",
					ModifiedAt: &mod, Exposure: store.Exposed, Reason: "in the window"})
			}
			if err := st.RecordScan(ctx, "default", res); err != nil {
				bigErr = err
				return
			}
		}
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	st, err := store.Open(context.Background(), bigDB)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkFirstFrame: open the console on the big incident and render the
// first full frame (the overview, from SQL counts).
func BenchmarkFirstFrame(b *testing.B) {
	st := bigIncident(b)
	bk := newBackend(st, nil, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := New(Options{Backend: bk, Now: func() time.Time { return fixedNow }})
		tm, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
		tm, _ = tm.(Model).Update(tm.(Model).loadSummary()())
		if v := tm.(Model).View(); len(v.Content) == 0 {
			b.Fatal("empty frame")
		}
	}
}

// BenchmarkLoadAll: the background load of every pane's data (100k
// findings, 10k credentials, runs, the last 2,000 audit events).
func BenchmarkLoadAll(b *testing.B) {
	st := bigIncident(b)
	bk := newBackend(st, nil, nil)
	m := New(Options{Backend: bk, Now: func() time.Time { return fixedNow }})
	tm, _ := m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	m = tm.(Model)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tm, _ := m.Update(m.loadData()())
		_ = tm.(Model).View()
	}
}

func loadedBig(b *testing.B, pane string) Model {
	st := bigIncident(b)
	m := loaded(b, newBackend(st, nil, nil), 160, 48)
	return press(m, pane)
}

// benchKeys measures key-to-frame: Update with the key, then View. The
// commands a key returns (a cursor blink timer) run later in the real
// program, off the frame's path, so they are not run here.
func benchKeys(b *testing.B, m Model, keys ...string) {
	msgs := make([]tea.Msg, len(keys))
	for i, k := range keys {
		msgs[i] = keyMsg(k)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tm, _ := m.Update(msgs[i%len(msgs)])
		m = tm.(Model)
		_ = m.View()
	}
}

// BenchmarkKeyToFrameScroll: one key (down) and the frame it produces, on
// 100k findings.
func BenchmarkKeyToFrameScroll(b *testing.B) {
	benchKeys(b, loadedBig(b, "2"), "down")
}

// BenchmarkKeyToFrameFilter: one typed filter character and its frame, on
// 100k findings; the filter alternates between narrowing and a full rescan
// (backspace), the worst case.
func BenchmarkKeyToFrameFilter(b *testing.B) {
	m := press(loadedBig(b, "2"), "/")
	benchKeys(b, m, "p", "backspace")
}

// BenchmarkKeyToFrameCredentials: scrolling 10k credentials with the
// timeline strip drawn.
func BenchmarkKeyToFrameCredentials(b *testing.B) {
	benchKeys(b, loadedBig(b, "3"), "down")
}
