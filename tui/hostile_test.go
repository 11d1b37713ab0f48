package tui

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/tourniquet-ir/tourniquet/store"
)

// hostile names, stored raw (an imported bundle from another tool, an older
// database): the console must neutralise them at render time.
var hostile = []string{
	"/home/x/evil\x1b[2J\x1b[H.pth",               // clear screen, cursor home
	"/home/x/\x1b]0;pwned\x07title",               // set the window title
	"/home/x/red\x1b[31mRED\x1b[0m",               // change colours
	"/home/x/rlo\u202etxt.exe",                    // bidi override
	"/home/x/bad\xff\xfeutf8",                     // invalid UTF-8
	"/home/x/" + strings.Repeat("very-long-", 40), // very long
	"/home/x/csi\u009b2Jc1",                       // C1 CSI
}

// only SGR (colour/attribute) sequences may appear in the raw output: a
// CSI with any other final byte, or an OSC/DCS, could move the cursor, clear
// the screen or set the title.
var (
	escRE = regexp.MustCompile(`\x1b`)
	sgrRE = regexp.MustCompile(`\x1b\[[0-9;:]*m`)
)

func TestHostileNamesCannotEscape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"), store.WithClock(clock()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	obs := fixedNow.Add(-time.Hour)
	err = st.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Name: "host\x1b[5m", Root: "/", Verdict: store.VerdictCompromised, WindowStart: &obs, WindowOpen: true})
		if err != nil {
			return err
		}
		for i, p := range hostile {
			id := string(rune('a' + i))
			if _, err := tx.UpsertFinding(ctx, hid, store.Finding{ID: "f-" + id, Pack: "p", Rule: "r\x1b[1A" + id, Severity: "critical", Path: p,
				Detail: "detail " + p, Excerpt: p, ObservedAt: &obs}); err != nil {
				return err
			}
			if _, err := tx.UpsertCredential(ctx, hid, store.Credential{ID: "c-" + id, Kind: "generic-secret", Path: p,
				Fingerprint: "sha256:0123456789abcde" + id, Hint: "…\x1b[2K" + id, Detail: p, Reason: p, ModifiedAt: &obs}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := loaded(t, newBackend(st, nil, nil), 80, 24)
	views := map[string]Model{
		"overview": m, "evidence": press(m, "2"), "evidence-detail": press(m, "2", "enter"),
		"credentials": press(m, "3"), "credentials-detail": press(m, "3", "enter"), "audit": press(m, "6"),
	}
	for name, v := range views {
		raw := v.View().Content
		rest := sgrRE.ReplaceAllString(raw, "")
		if loc := escRE.FindStringIndex(rest); loc != nil {
			t.Errorf("%s: a non-colour escape sequence reached the terminal: %q", name, rest[max(0, loc[0]-20):min(len(rest), loc[1]+20)])
		}
		for _, bad := range []string{"\u202e", "\u009b", "\x07", "\xff"} {
			if strings.Contains(raw, bad) {
				t.Errorf("%s: raw output contains %q", name, bad)
			}
		}
		if lines := strings.Split(ansi.Strip(raw), "\n"); len(lines) != 24 {
			t.Errorf("%s: %d lines, the layout was broken", name, len(lines))
		}
		for i, l := range strings.Split(ansi.Strip(raw), "\n") {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("%s: line %d is %d cells", name, i+1, w)
			}
		}
	}
	checkGolden(t, "hostile-evidence-80x24", screen(views["evidence"]))
	checkGolden(t, "hostile-evidence-detail-80x24", screen(views["evidence-detail"]))
	if s := screen(views["evidence-detail"]); !strings.Contains(s, `/home/x/\x1b]0;pwned\x07title`) {
		t.Errorf("the escaped name is not shown:\n%s", s)
	}
}
