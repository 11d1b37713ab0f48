// Package rotators defines what a rotation step is to the playbook engine:
// an Action with Describe (no side effect), Do (idempotent) and Reconcile
// (ask the provider what a crashed attempt did), the in-memory home of new
// secrets, and the error kinds the engine acts on. Providers live in
// sub-packages, one file per provider.
package rotators

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Action is a registered step implementation (an "action" or "verify" step).
// Every method may be called again after a crash; none may store a secret in
// what it returns.
type Action interface {
	// Describe says, with no side effect, exactly what Do will change: the
	// line of a dry-run plan and the text of an approval dialog.
	Describe(ctx context.Context, rc *RunContext) (string, error)
	// Do performs the step. It must be idempotent.
	Do(ctx context.Context, rc *RunContext) (Result, error)
	// Reconcile runs on resume for a step whose intent was recorded but
	// whose outcome was not. It asks the provider what happened: done=true
	// with the result when the effect is complete; done=false when Do must
	// run (again), after undoing any partial effect that cannot be used (a
	// key created whose secret was never delivered).
	Reconcile(ctx context.Context, rc *RunContext) (res Result, done bool, err error)
}

// Skipper is implemented by actions that can tell, without side effects,
// that a run needs nothing from them (make-room when the user has one key):
// the step is then recorded as done, and no approval is asked for nothing.
type Skipper interface {
	Needed(ctx context.Context, rc *RunContext) (needed bool, why string, err error)
}

// Previewer is implemented by read-only actions whose findings later steps
// need to describe themselves (the owner of a key): a dry run calls Preview,
// which may read from the provider and fill Vars, and must change nothing.
type Previewer interface {
	Preview(ctx context.Context, rc *RunContext) error
}

// Result is a step's non-secret outcome, stored in the step row.
type Result map[string]any

// Rewind asks the engine to go back and run the steps from To again (a
// deliver step that finds no secret in memory after a crash rewinds to the
// create step, which removes the lost key and makes a new one).
type Rewind struct {
	To     string
	Reason string
}

func (r *Rewind) Error() string { return "rewind to " + r.To + ": " + r.Reason }

// transientError marks a provider failure worth retrying (throttling, 5xx,
// timeouts, connection resets).
type transientError struct{ err error }

func (t *transientError) Error() string { return t.err.Error() }
func (t *transientError) Unwrap() error { return t.err }

// Transient wraps err as retryable.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

// IsTransient reports whether err is marked retryable.
func IsTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// ErrAuth is wrapped by actions when a provider refuses the credentials
// used to act (exit code 4).
var ErrAuth = errors.New("authentication or permission refused")

// Secrets holds new secrets between steps, in memory only: a crash loses
// them, by design, and the playbook's reconcile logic recovers.
type Secrets struct {
	mu sync.Mutex
	m  map[string]redact.Secret
}

// Put stores a secret under a name for the rest of this process.
func (s *Secrets) Put(name string, v redact.Secret) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]redact.Secret{}
	}
	s.m[name] = v
}

// Get returns a secret put earlier in this process.
func (s *Secrets) Get(name string) (redact.Secret, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[name]
	return v, ok
}

// Wipe forgets every secret.
func (s *Secrets) Wipe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		v.Wipe()
		delete(s.m, k)
	}
}

// containedIn reports whether any held secret (or a 12-byte window of it)
// appears in b: the last guard before anything is written to the database.
func (s *Secrets) ContainedIn(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.m {
		val := v.Reveal()
		if len(val) >= 8 && bytes.Contains(b, val) {
			return true
		}
	}
	return false
}

// RunContext is what an action sees.
type RunContext struct {
	Run store.Run
	// StepID names the step being run.
	StepID     string
	Credential store.Credential
	Host       store.Host
	// Vars is the run's non-secret working state, persisted after each step.
	Vars map[string]any
	// Params are the operator's choices (profile, region, sink...).
	Params  map[string]any
	Secrets *Secrets
	// Inputs are secrets the operator supplied for this run (--secret-from).
	Inputs *Secrets
	Now    func() time.Time
	// Note emits a progress message as an event.
	Note func(format string, args ...any)
	// Findings records provider-side evidence (CloudTrail use of a key)
	// under a cloud target such as "aws:123456789012".
	Findings func(ctx context.Context, target string, fs []collectors.Finding) error
}

// Param returns a string parameter.
func (rc *RunContext) Param(name string) string {
	s, _ := rc.Params[name].(string)
	return s
}

// Var returns a string variable.
func (rc *RunContext) Var(name string) string {
	s, _ := rc.Vars[name].(string)
	return s
}
