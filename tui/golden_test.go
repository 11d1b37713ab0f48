package tui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/store"
)

func tea_WindowSize(w, h int) tea.Msg { return tea.WindowSizeMsg{Width: w, Height: h} }

func keyMsg(k string) tea.KeyPressMsg {
	var msg tea.KeyPressMsg
	switch k {
	case "enter":
		msg = tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		msg = tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		msg = tea.KeyPressMsg{Code: tea.KeyDown}
	case "space":
		msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		msg = tea.KeyPressMsg{Code: tea.KeyBackspace}
	default:
		r := []rune(k)[0]
		msg = tea.KeyPressMsg{Code: r, Text: k}
	}
	return msg
}

func press(m Model, keys ...string) Model {
	for _, k := range keys {
		tm, cmd := m.Update(keyMsg(k))
		m = tm.(Model)
		// Run the synchronous part of the commands a key produced (pane
		// intents such as opening details), as the program would.
		for cmd != nil {
			res := cmd()
			cmd = nil
			if res == nil {
				break
			}
			if _, ok := res.(tea.BatchMsg); ok {
				break
			}
			tm, cmd = m.Update(res)
			m = tm.(Model)
		}
	}
	return m
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".golden")
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
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

func screen(m Model) string {
	return ansi.Strip(m.View().Content)
}

// TestPaneGoldens renders every pane at the smallest supported terminal and
// at a large one, from a fixed incident, ANSI stripped.
func TestPaneGoldens(t *testing.T) {
	t.Parallel()
	st, ps := incident(t, "compromised", "clean")
	seedRun(t, st)
	seedGateway(t, st)
	for _, size := range [][2]int{{80, 24}, {160, 48}} {
		m := loaded(t, newBackend(st, ps, nil), size[0], size[1])
		views := map[string]Model{
			"overview":           m,
			"evidence":           press(m, "2"),
			"evidence-detail":    press(m, "2", "down", "down", "down", "enter"),
			"evidence-filter":    press(m, "2", "/", "s", "y", "s", "m", "o", "n"),
			"credentials":        press(m, "3"),
			"credentials-detail": press(m, "3", "down", "enter"),
			"playbooks":          press(m, "4"),
			"gateway":            press(m, "5"),
			"audit":              press(m, "6"),
			"help-credentials":   press(m, "3", "?"),
			"palette":            press(m, ":"),
		}
		for name, v := range views {
			got := screen(v)
			if lines := strings.Count(got, "\n") + 1; lines != size[1] {
				t.Errorf("%s at %dx%d has %d lines", name, size[0], size[1], lines)
			}
			for i, l := range strings.Split(got, "\n") {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%s at %dx%d: line %d is %d cells wide", name, size[0], size[1], i+1, w)
				}
			}
			checkGolden(t, fmt.Sprintf("%s-%dx%d", name, size[0], size[1]), got)
		}
	}
}

// seedRun records a run waiting for approval, as the engine would leave it.
func seedRun(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	creds, err := st.Credentials(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	var cred string
	for _, c := range creds {
		if c.Kind == "aws-access-key" {
			cred = c.ID
			break
		}
	}
	err = st.Update(ctx, func(tx *store.Tx) error {
		r := store.Run{ID: "r-0123456789", Incident: "default", Playbook: "aws-access-key", PlaybookVersion: 1, CredentialID: cred, State: store.RunAwaitingApproval}
		names := []string{"plan", "evidence", "make-room", "create", "deliver", "verify", "deactivate-old", "check-old-use", "revoke-sessions", "delete-old"}
		for i, n := range names {
			r.Steps = append(r.Steps, store.Step{Index: i, Name: n, Title: n, Kind: "action", Destructive: n == "deactivate-old" || n == "delete-old" || n == "make-room" || n == "revoke-sessions"})
		}
		if err := tx.CreateRun(ctx, r); err != nil {
			return err
		}
		done, waiting := store.StepDone, store.StepAwaitingApproval
		for i := 0; i < 6; i++ {
			if err := tx.UpdateStep(ctx, r.ID, i, store.StepUpdate{State: &done, Attempt: true, Finished: true}); err != nil {
				return err
			}
		}
		if err := tx.UpdateStep(ctx, r.ID, 6, store.StepUpdate{State: &waiting}); err != nil {
			return err
		}
		return tx.SetCredentialRotation(ctx, cred, store.RotationInProgress)
	})
	if err != nil {
		t.Fatal(err)
	}
}
