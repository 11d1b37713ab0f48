package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/store"
)

// exportBackend exports for real (next to the test's database) and reports
// the path as it would read next to the fixed database path, so that the
// screen is the same on every machine.
type exportBackend struct {
	fixedBackend
	written *string
}

var stampRE = regexp.MustCompile(`\d{8}T\d{6}Z`)

func (b exportBackend) Export(ctx context.Context, format string) (string, error) {
	p, err := b.Local.Export(ctx, format)
	if err != nil {
		return "", err
	}
	*b.written = p
	return filepath.Join("/var/lib/tourniquet", stampRE.ReplaceAllString(filepath.Base(p), "20260402T093000Z")), nil
}

// TestAuditPaneExports presses e on the Audit pane: a Markdown post-mortem
// is written next to the database, recorded in the chain, and its path is
// shown.
func TestAuditPaneExports(t *testing.T) {
	t.Parallel()
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		// A fresh database per size: the screen must not show the other
		// size's export event (its subject is a temporary path).
		st, ps := incident(t, "compromised", "clean")
		seedRun(t, st)
		var written string
		b := exportBackend{fixedBackend{&Local{Store: st, IncidentName: "default", Packs: ps, Params: map[string]any{}}}, &written}
		m := press(loaded(t, b, size[0], size[1]), "6", "e")
		got := screen(m)
		if !strings.Contains(strings.ReplaceAll(got, "\n", ""), "post-mortem written to /var/lib/tourniquet/postmortem-default-20260402T093000Z.md") {
			t.Errorf("%dx%d: the path written is not shown:\n%s", size[0], size[1], got)
		}
		if lines := strings.Count(got, "\n") + 1; lines != size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], lines)
		}
		checkGolden(t, fmt.Sprintf("audit-exported-%dx%d", size[0], size[1]), got)

		if filepath.Dir(written) != filepath.Dir(st.Path()) || filepath.Ext(written) != ".md" {
			t.Errorf("written to %s, want a .md next to %s", written, st.Path())
		}
		data, err := os.ReadFile(written)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# Post-mortem: default\n") || !strings.Contains(string(data), "## Timeline") {
			t.Errorf("the file is not the Markdown post-mortem:\n%.300s", data)
		}
		if fi, err := os.Stat(written); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v (%v), want 0600", fi.Mode().Perm(), err)
		}
		evs, err := st.AuditEvents(context.Background(), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if last := evs[len(evs)-1]; last.Kind != postmortem.ExportEventKind || last.Subject != written {
			t.Errorf("the last audit event is %s %s, want the export of %s", last.Kind, last.Subject, written)
		}
	}
}

// TestAuditPaneExportFailureIsShown: an incident with nothing recorded
// cannot be exported, and the pane says why.
func TestAuditPaneExportFailureIsShown(t *testing.T) {
	t.Parallel()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "e.db"), store.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := press(loaded(t, newBackend(st, nil, nil), 120, 30), "6", "e")
	if got := screen(m); !strings.Contains(got, `export failed: nothing is recorded for incident: "default"`) {
		t.Errorf("the failure is not shown:\n%s", got)
	}
}

func TestFileSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"default": "default", "../../etc/passwd": "_.._etc_passwd", "a b\x1b[31m": "a_b__31m", "": "incident", "...": "incident", "inc-2026.03_x": "inc-2026.03_x",
	} {
		if got := fileSafe(in); got != want {
			t.Errorf("fileSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
