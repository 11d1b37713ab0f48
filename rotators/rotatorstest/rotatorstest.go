// Package rotatorstest is the conformance suite every rotator's actions
// pass (LLM today; AWS and GitHub can adopt it): revoking twice is fine,
// no secret reaches a description, result, variable, error or the database,
// and a cancelled context is honoured promptly.
package rotatorstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Case exercises one registered action.
type Case struct {
	// Action is the registered name.
	Action string
	// RC returns a fresh run context in the state the action expects (the
	// variables earlier steps leave, secrets planted in Secrets/Inputs and
	// in the files the provider reads). Called once per check.
	RC func(t *testing.T) *rotators.RunContext
	// Revokes marks an action that revokes, deletes or deactivates: Do runs
	// twice and the second must succeed (already gone is success).
	Revokes bool
	// Pure marks an action that does no I/O in Do (a manual step's gate):
	// a cancelled context need not fail it.
	Pure bool
	// WantErr marks a Do that is expected to fail in this state (its error
	// is still checked for secrets).
	WantErr bool
}

// Options configure Exercise.
type Options struct {
	// Secrets are planted values that must never appear anywhere.
	Secrets []string
	// Files are read after every case (the database and its WAL, logs).
	Files func() []string
	// Timeout bounds a call under a cancelled context (default 2 s).
	Timeout time.Duration
}

// Exercise runs every case's checks as subtests. Every registered action must
// have a case, so that a new action cannot skip the suite.
func Exercise(t *testing.T, actions map[string]rotators.Action, cases []Case, o Options) {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.Action] = true
	}
	for name := range actions {
		if !covered[name] {
			t.Errorf("action %s has no conformance case", name)
		}
	}
	for _, c := range cases {
		a, ok := actions[c.Action]
		if !ok {
			t.Errorf("case for unregistered action %s", c.Action)
			continue
		}
		t.Run(c.Action, func(t *testing.T) {
			t.Run("no-secret-leaks", func(t *testing.T) { noLeaks(t, a, c, o) })
			if c.Revokes {
				t.Run("revoke-twice", func(t *testing.T) { revokeTwice(t, a, c, o) })
			}
			t.Run("cancelled-context", func(t *testing.T) { cancelled(t, a, c, o) })
		})
	}
	if o.Files != nil {
		for _, f := range o.Files() {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, s := range o.Secrets {
				if len(s) >= 8 && bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds a planted secret (%s…)", filepath.Base(f), s[:4])
				}
			}
		}
	}
}

// check fails when any planted secret, or a 12-byte window of one, is in s.
func check(t *testing.T, what, s string, o Options) {
	t.Helper()
	for _, sec := range o.Secrets {
		if len(sec) < 8 {
			continue
		}
		if strings.Contains(s, sec) {
			t.Errorf("%s holds a planted secret (%s…): %.200s", what, sec[:4], s)
			continue
		}
		for i := 0; i+12 <= len(sec); i += 4 {
			if strings.Contains(s, sec[i:i+12]) {
				t.Errorf("%s holds part of a planted secret: %.200s", what, s)
				break
			}
		}
	}
}

func noLeaks(t *testing.T, a rotators.Action, c Case, o Options) {
	ctx := context.Background()
	rc := c.RC(t)
	d, err := a.Describe(ctx, rc)
	check(t, "Describe", d, o)
	if err != nil {
		check(t, "Describe error", err.Error(), o)
	}
	if pv, ok := a.(rotators.Previewer); ok {
		if err := pv.Preview(ctx, c.RC(t)); err != nil {
			check(t, "Preview error", err.Error(), o)
		}
	}
	if sk, ok := a.(rotators.Skipper); ok {
		_, why, err := sk.Needed(ctx, c.RC(t))
		check(t, "Needed", why, o)
		if err != nil {
			check(t, "Needed error", err.Error(), o)
		}
	}
	res, err := a.Do(ctx, rc)
	if err != nil {
		check(t, "Do error", err.Error(), o)
		if !c.WantErr {
			t.Errorf("Do: %v", err)
		}
	} else if c.WantErr {
		t.Errorf("Do succeeded; the case expects an error")
	}
	rj, _ := json.Marshal(res)
	check(t, "Do result", string(rj), o)
	vj, _ := json.Marshal(rc.Vars)
	check(t, "run variables", string(vj), o)
	_, _, err = a.Reconcile(ctx, c.RC(t))
	if err != nil {
		check(t, "Reconcile error", err.Error(), o)
	}
}

func revokeTwice(t *testing.T, a rotators.Action, c Case, o Options) {
	ctx := context.Background()
	rc := c.RC(t)
	if _, err := a.Do(ctx, rc); err != nil {
		t.Fatalf("first revoke: %v", err)
	}
	res, err := a.Do(ctx, rc)
	if err != nil {
		t.Fatalf("second revoke of the same key failed (must be idempotent): %v", err)
	}
	rj, _ := json.Marshal(res)
	check(t, "second revoke result", string(rj), o)
	if _, _, err := a.Reconcile(ctx, rc); err != nil {
		t.Errorf("reconcile after revoking: %v", err)
	}
}

func cancelled(t *testing.T, a rotators.Action, c Case, o Options) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	type out struct{ err error }
	run := func(what string, f func() error, mustCancel bool) {
		t.Helper()
		ch := make(chan out, 1)
		go func() { ch <- out{f()} }()
		select {
		case r := <-ch:
			if r.err != nil {
				check(t, what+" error", r.err.Error(), o)
			}
			if mustCancel && !errors.Is(r.err, context.Canceled) {
				t.Errorf("%s under a cancelled context returned %v, want context.Canceled", what, r.err)
			}
		case <-time.After(o.Timeout):
			t.Errorf("%s did not return within %s of a cancelled context", what, o.Timeout)
		}
	}
	run("Do", func() error { _, err := a.Do(ctx, c.RC(t)); return err }, !c.Pure && !c.WantErr)
	run("Reconcile", func() error { _, _, err := a.Reconcile(ctx, c.RC(t)); return err }, false)
	run("Describe", func() error { _, err := a.Describe(ctx, c.RC(t)); return err }, false)
}
