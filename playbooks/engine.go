package playbooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Event is one thing that happened to a run; the CLI prints them as JSON
// lines and the console subscribes to them.
type Event struct {
	Time    time.Time `json:"time"`
	Type    string    `json:"type"`
	Run     string    `json:"run"`
	Step    string    `json:"step,omitempty"`
	Index   int       `json:"index,omitempty"`
	State   string    `json:"state,omitempty"`
	Message string    `json:"message,omitempty"`
}

// Engine executes runs.
type Engine struct {
	Store   *store.Store
	Actions map[string]rotators.Action
	// Owner names this process in run leases.
	Owner string
	// Yes approves destructive steps and confirms manual ones.
	Yes bool
	// Confirm approves or confirms these step IDs only.
	Confirm map[string]bool
	Secrets *rotators.Secrets
	Inputs  *rotators.Secrets
	OnEvent func(Event)
	// CrashHook is called at every step boundary (test builds SIGKILL the
	// process there).
	CrashHook func(step, point string)
	// MaxAttempts is how often a transient failure is retried in one go
	// before the run pauses (default 3).
	MaxAttempts int
	// Backoff is the first retry delay (default 1 s, doubling).
	Backoff time.Duration
	Sleep   func(ctx context.Context, d time.Duration) error
	Lease   time.Duration
	// Playbooks finds a playbook by ID (default: the built-in ones).
	Playbooks func(id string) (*Playbook, error)
}

func (e *Engine) defaults() {
	if e.Owner == "" {
		host, _ := os.Hostname()
		e.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if e.Secrets == nil {
		e.Secrets = &rotators.Secrets{}
	}
	if e.Inputs == nil {
		e.Inputs = &rotators.Secrets{}
	}
	if e.MaxAttempts == 0 {
		e.MaxAttempts = 3
	}
	if e.Backoff == 0 {
		e.Backoff = time.Second
	}
	if e.Sleep == nil {
		e.Sleep = sleepCtx
	}
	if e.Lease == 0 {
		e.Lease = 5 * time.Minute
	}
	if e.Playbooks == nil {
		e.Playbooks = Find
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (e *Engine) emit(ev Event) {
	ev.Time = e.Store.Now()
	if e.OnEvent != nil {
		e.OnEvent(ev)
	}
}

func (e *Engine) crash(step, point string) {
	if e.CrashHook != nil {
		e.CrashHook(step, point)
	}
}

// PlanLine is one step of a dry run.
type PlanLine struct {
	Index       int    `json:"index"`
	Step        string `json:"step"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Destructive bool   `json:"destructive"`
	Skipped     bool   `json:"skipped,omitempty"`
	Change      string `json:"change"`
}

// Plan describes, in order, what a run would change. It has no side effect.
func (e *Engine) Plan(ctx context.Context, pb *Playbook, credID string, params map[string]any) ([]PlanLine, error) {
	e.defaults()
	cred, host, err := e.Store.Credential(ctx, credID)
	if err != nil {
		return nil, err
	}
	rc := &rotators.RunContext{Credential: cred, Host: host, Vars: map[string]any{}, Params: params,
		Secrets: e.Secrets, Inputs: e.Inputs, Now: e.Store.Now, Note: func(string, ...any) {}}
	var out []PlanLine
	for i, sd := range pb.Steps {
		rc.StepID = sd.ID
		line := PlanLine{Index: i, Step: sd.ID, Type: sd.Type, Title: sd.Title, Destructive: sd.Destructive}
		switch {
		case sd.Optional && !enabled(params, sd.ID):
			line.Skipped = true
			line.Change = "skipped (optional; enable with --with " + sd.ID + ")"
		case sd.Type == StepManual:
			line.Change = "you: " + sd.Instructions
		case sd.Type == StepWait:
			line.Change = "wait " + sd.Wait.String()
		default:
			a, ok := e.Actions[sd.Action]
			if !ok {
				return nil, fmt.Errorf("step %s: no action %q registered", sd.ID, sd.Action)
			}
			d, err := a.Describe(ctx, rc)
			if err != nil {
				return nil, fmt.Errorf("plan step %s: %w", sd.ID, err)
			}
			line.Change = d
			if pv, ok := a.(rotators.Previewer); ok {
				if err := pv.Preview(ctx, rc); err != nil {
					return nil, fmt.Errorf("plan step %s: %w", sd.ID, err)
				}
			}
		}
		out = append(out, line)
	}
	return out, nil
}

func enabled(params map[string]any, step string) bool {
	with, _ := params["with"].([]any)
	for _, w := range with {
		if w == step {
			return true
		}
	}
	return false
}

// DescribeStep says what a step of an existing run will change, from the
// run's own state (the text of an approval dialog). No side effect.
func (e *Engine) DescribeStep(ctx context.Context, runID, stepID string) (string, error) {
	e.defaults()
	run, err := e.Store.GetRun(ctx, runID)
	if err != nil {
		return "", err
	}
	pb, err := e.Playbooks(run.Playbook)
	if err != nil {
		return "", err
	}
	cred, host, err := e.Store.Credential(ctx, run.CredentialID)
	if err != nil {
		return "", err
	}
	vars, params := map[string]any{}, map[string]any{}
	_ = json.Unmarshal(run.Vars, &vars)
	_ = json.Unmarshal(run.Params, &params)
	for _, sd := range pb.Steps {
		if sd.ID != stepID {
			continue
		}
		if sd.Type == StepManual {
			return sd.Instructions, nil
		}
		a, ok := e.Actions[sd.Action]
		if !ok {
			return "", fmt.Errorf("no action %q registered", sd.Action)
		}
		rc := &rotators.RunContext{Run: run, StepID: sd.ID, Credential: cred, Host: host, Vars: vars, Params: params,
			Secrets: e.Secrets, Inputs: e.Inputs, Now: e.Store.Now, Note: func(string, ...any) {}}
		return a.Describe(ctx, rc)
	}
	return "", fmt.Errorf("run %s has no step %q", runID, stepID)
}

// NewRunID returns a short random run ID.
func NewRunID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "r-" + hex.EncodeToString(b[:])
}

// Start creates a run of pb for a credential and executes it.
func (e *Engine) Start(ctx context.Context, incident string, pb *Playbook, credID string, params map[string]any) (string, string, error) {
	e.defaults()
	cred, _, err := e.Store.Credential(ctx, credID)
	if err != nil {
		return "", "", err
	}
	if !pb.Rotates(cred.Kind) {
		return "", "", fmt.Errorf("playbook %s rotates %s credentials, not %s", pb.ID, strings.Join(pb.Kinds, ", "), cred.Kind)
	}
	pj, err := json.Marshal(params)
	if err != nil {
		return "", "", err
	}
	id := NewRunID()
	r := store.Run{ID: id, Incident: incident, Playbook: pb.ID, PlaybookVersion: pb.Version, CredentialID: credID, State: store.RunPlanned, Params: pj}
	for i, sd := range pb.Steps {
		r.Steps = append(r.Steps, store.Step{Index: i, Name: sd.ID, Title: sd.Title, Kind: sd.Type, Destructive: sd.Destructive})
	}
	err = e.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateRun(ctx, r); err != nil {
			return err
		}
		_, err := tx.Audit(ctx, incident, "run.created", id, map[string]any{"playbook": pb.ID, "version": pb.Version, "credential": credID, "hint": cred.Hint})
		return err
	})
	if err != nil {
		return "", "", err
	}
	e.emit(Event{Type: "run.created", Run: id, State: store.RunPlanned, Message: pb.Title + " for " + cred.Hint})
	state, err := e.Resume(ctx, id)
	return id, state, err
}

// Resume executes a run from its first unfinished step and returns the
// run's state when it stops (done, awaiting_approval, paused, failed).
func (e *Engine) Resume(ctx context.Context, runID string) (string, error) {
	e.defaults()
	run, err := e.Store.GetRun(ctx, runID)
	if err != nil {
		return "", err
	}
	pb, err := e.Playbooks(run.Playbook)
	if err != nil {
		return "", err
	}
	if pb.Version != run.PlaybookVersion || len(pb.Steps) != len(run.Steps) {
		return "", fmt.Errorf("run %s was made by %s version %d; this build has version %d: finish it with the build that started it", runID, pb.ID, run.PlaybookVersion, pb.Version)
	}
	switch run.State {
	case store.RunDone, store.RunCancelled:
		return run.State, nil
	}
	cred, host, err := e.Store.Credential(ctx, run.CredentialID)
	if err != nil {
		return "", err
	}
	err = e.Store.Update(ctx, func(tx *store.Tx) error {
		err := tx.AcquireLease(ctx, runID, e.Owner, e.Store.Now().Add(e.Lease))
		if errors.Is(err, store.ErrLeased) && ownerDead(run.LeaseOwner) {
			// The holder crashed on this machine: its lease is stale.
			err = tx.TakeLease(ctx, runID, run.LeaseOwner, e.Owner, e.Store.Now().Add(e.Lease))
		}
		if errors.Is(err, store.ErrLeased) {
			until := ""
			if run.LeaseUntil != nil {
				until = " until " + run.LeaseUntil.UTC().Format(time.RFC3339)
			}
			return fmt.Errorf("%w: %s holds it%s (a console or another headless run); wait for it or stop it", err, run.LeaseOwner, until)
		}
		if err != nil {
			return err
		}
		if err := tx.SetRunState(ctx, runID, store.RunRunning, ""); err != nil {
			return err
		}
		if err := tx.SetCredentialRotation(ctx, cred.ID, store.RotationInProgress); err != nil {
			return err
		}
		_, err = tx.Audit(ctx, run.Incident, "run.running", runID, map[string]any{"owner": e.Owner, "from_state": run.State})
		return err
	})
	if err != nil {
		return "", err
	}
	defer func() {
		_ = e.Store.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.ReleaseLease(ctx, runID, e.Owner) })
	}()
	e.emit(Event{Type: "run.running", Run: runID, State: store.RunRunning})

	vars := map[string]any{}
	_ = json.Unmarshal(run.Vars, &vars)
	params := map[string]any{}
	_ = json.Unmarshal(run.Params, &params)
	rc := &rotators.RunContext{Run: run, Credential: cred, Host: host, Vars: vars, Params: params,
		Secrets: e.Secrets, Inputs: e.Inputs, Now: e.Store.Now, Findings: e.recordFindings(run.Incident)}

	for i := 0; i < len(run.Steps); i++ {
		st := run.Steps[i]
		sd := pb.Steps[i]
		rc.StepID = sd.ID
		rc.Note = func(format string, args ...any) {
			e.emit(Event{Type: "step.note", Run: runID, Step: sd.ID, Index: i, Message: fmt.Sprintf(format, args...)})
		}
		if st.State == store.StepDone || st.State == store.StepSkipped {
			continue
		}
		if err := ctx.Err(); err != nil {
			return e.finish(ctx, run, cred, store.RunPaused, "cancelled: resume with `tourniquet playbook resume "+runID+"`", err)
		}
		if err := e.Store.Update(ctx, func(tx *store.Tx) error {
			return tx.AcquireLease(ctx, runID, e.Owner, e.Store.Now().Add(e.Lease))
		}); err != nil {
			return "", err
		}
		if sd.Optional && !enabled(params, sd.ID) {
			if err := e.record(ctx, run, i, sd, store.StepSkipped, nil, nil, "step.skipped"); err != nil {
				return "", err
			}
			run.Steps[i].State = store.StepSkipped
			e.emit(Event{Type: "step.skipped", Run: runID, Step: sd.ID, Index: i, State: store.StepSkipped})
			continue
		}
		if sk, ok := e.Actions[sd.Action].(rotators.Skipper); ok && st.State == store.StepPending {
			needed, why, err := sk.Needed(ctx, rc)
			if err != nil {
				return e.finish(ctx, run, cred, stateFor(err), "", fmt.Errorf("step %s: %w", sd.ID, err))
			}
			if !needed {
				if err := e.record(ctx, run, i, sd, store.StepDone, rotators.Result{"not_needed": why}, rc.Vars, "step.done"); err != nil {
					return "", err
				}
				run.Steps[i].State = store.StepDone
				e.emit(Event{Type: "step.finished", Run: runID, Step: sd.ID, Index: i, State: store.StepDone, Message: "nothing to do: " + why})
				continue
			}
		}
		approved := st.ApprovedBy != "" || e.Yes || e.Confirm[sd.ID]
		if (sd.Destructive || sd.Type == StepManual) && !approved {
			msg := sd.Instructions
			if sd.Type != StepManual {
				a := e.Actions[sd.Action]
				if a == nil {
					return "", fmt.Errorf("step %s: no action %q registered", sd.ID, sd.Action)
				}
				d, err := a.Describe(ctx, rc)
				if err != nil {
					d = sd.Description
				}
				msg = d
			}
			if err := e.pause(ctx, run, cred, i, sd, msg); err != nil {
				return "", err
			}
			return store.RunAwaitingApproval, nil
		}
		e.emit(Event{Type: "step.started", Run: runID, Step: sd.ID, Index: i, State: store.StepIntent, Message: sd.Title})
		res, err := e.runStep(ctx, rc, run, i, sd, st, approved)
		var rw *rotators.Rewind
		switch {
		case errors.As(err, &rw):
			to := -1
			for j := 0; j <= i; j++ {
				if pb.Steps[j].ID == rw.To {
					to = j
				}
			}
			if to < 0 {
				return e.finish(ctx, run, cred, store.RunFailed, "", fmt.Errorf("step %s: %w (no such earlier step)", sd.ID, err))
			}
			if err := e.rewind(ctx, run, to, i, rw.Reason); err != nil {
				return "", err
			}
			for j := to; j <= i; j++ {
				run.Steps[j].State = store.StepPending
				run.Steps[j].ApprovedBy = ""
			}
			i = to - 1
			continue
		case err != nil && rotators.IsTransient(err):
			return e.finish(ctx, run, cred, store.RunPaused,
				fmt.Sprintf("step %s paused after %d attempts: %v; resume with `tourniquet playbook resume %s`", sd.ID, e.MaxAttempts, err, runID), err)
		case err != nil && errors.Is(err, context.Canceled):
			return e.finish(ctx, run, cred, store.RunPaused, "cancelled during step "+sd.ID+": resume with `tourniquet playbook resume "+runID+"`", err)
		case err != nil:
			return e.finish(ctx, run, cred, store.RunFailed, "", fmt.Errorf("step %s: %w", sd.ID, err))
		}
		run.Steps[i].State = store.StepDone
		e.emit(Event{Type: "step.finished", Run: runID, Step: sd.ID, Index: i, State: store.StepDone, Message: summarize(res)})
	}
	return e.finish(ctx, run, cred, store.RunDone, "", nil)
}

// runStep records the intent, acts (or reconciles a recorded intent), and
// records the outcome, each in its own transaction.
func (e *Engine) runStep(ctx context.Context, rc *rotators.RunContext, run store.Run, i int, sd StepDef, st store.Step, approved bool) (rotators.Result, error) {
	approver := ""
	if approved && st.ApprovedBy == "" && (sd.Destructive || sd.Type == StepManual) {
		approver = approvalBy(e)
	}
	if sd.Type == StepManual {
		res := rotators.Result{"confirmed_by": firstNonEmpty(st.ApprovedBy, approver)}
		return res, e.recordApproved(ctx, run, i, sd, store.StepDone, res, approver, "step.done")
	}
	if sd.Type == StepWait {
		until := e.Store.Now().Add(sd.Wait)
		if st.State == store.StepIntent {
			var intent struct {
				Until time.Time `json:"until"`
			}
			if json.Unmarshal(st.Intent, &intent) == nil && !intent.Until.IsZero() {
				until = intent.Until
			}
		} else if err := e.intent(ctx, run, i, sd, map[string]any{"until": until}, approver); err != nil {
			return nil, err
		}
		if d := until.Sub(e.Store.Now()); d > 0 {
			rc.Note("waiting %s", d.Round(time.Second))
			if err := e.Sleep(ctx, d); err != nil {
				return nil, err
			}
		}
		return rotators.Result{}, e.record(ctx, run, i, sd, store.StepDone, rotators.Result{}, rc.Vars, "step.done")
	}

	a, ok := e.Actions[sd.Action]
	if !ok {
		return nil, fmt.Errorf("no action %q registered", sd.Action)
	}
	if st.State == store.StepIntent {
		// The last process recorded its intent and died before the outcome:
		// ask the provider what happened before doing anything.
		rc.Note("reconciling: the previous attempt stopped after recording its intent")
		res, done, err := a.Reconcile(ctx, rc)
		if err != nil {
			return nil, err
		}
		if done {
			return res, e.recordResult(ctx, rc, run, i, sd, res)
		}
	}
	e.crash(sd.ID, "before-intent")
	if err := e.intent(ctx, run, i, sd, map[string]any{"action": sd.Action}, approver); err != nil {
		return nil, err
	}
	e.crash(sd.ID, "after-intent")
	var res rotators.Result
	var err error
	delay := e.Backoff
	for attempt := 1; ; attempt++ {
		res, err = a.Do(ctx, rc)
		if err == nil || !rotators.IsTransient(err) || attempt >= e.MaxAttempts {
			break
		}
		rc.Note("attempt %d failed (%v); retrying in %s", attempt, err, delay)
		if serr := e.Sleep(ctx, delay); serr != nil {
			return nil, serr
		}
		delay *= 2
	}
	if err != nil {
		return nil, err
	}
	e.crash(sd.ID, "after-do")
	if err := e.recordResult(ctx, rc, run, i, sd, res); err != nil {
		return nil, err
	}
	e.crash(sd.ID, "after-record")
	return res, nil
}

func approvalBy(e *Engine) string {
	actor := os.Getenv("USER")
	if actor == "" {
		actor = "uid:" + fmt.Sprint(os.Getuid())
	}
	if e.Yes {
		return actor + " (--yes)"
	}
	return actor + " (--confirm)"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (e *Engine) intent(ctx context.Context, run store.Run, i int, sd StepDef, intent map[string]any, approver string) error {
	ij, err := json.Marshal(intent)
	if err != nil {
		return err
	}
	state := store.StepIntent
	return e.Store.Update(ctx, func(tx *store.Tx) error {
		u := store.StepUpdate{State: &state, Intent: ij, Attempt: true}
		if approver != "" {
			u.ApprovedBy = &approver
		}
		if err := tx.UpdateStep(ctx, run.ID, i, u); err != nil {
			return err
		}
		_, err := tx.Audit(ctx, run.Incident, "step.intent", run.ID+"/"+sd.ID, map[string]any{"intent": intent, "approved_by": approver})
		return err
	})
}

// recordResult stores a step's outcome and the run's variables, refusing to
// write anything that contains a secret held in memory.
func (e *Engine) recordResult(ctx context.Context, rc *rotators.RunContext, run store.Run, i int, sd StepDef, res rotators.Result) error {
	return e.record(ctx, run, i, sd, store.StepDone, res, rc.Vars, "step.done")
}

func (e *Engine) record(ctx context.Context, run store.Run, i int, sd StepDef, state string, res rotators.Result, vars map[string]any, kind string) error {
	return e.recordApproved(ctx, run, i, sd, state, res, "", kind, vars)
}

func (e *Engine) recordApproved(ctx context.Context, run store.Run, i int, sd StepDef, state string, res rotators.Result, approver, kind string, vars ...map[string]any) error {
	if res == nil {
		res = rotators.Result{}
	}
	rj, err := json.Marshal(res)
	if err != nil {
		return err
	}
	var vj []byte
	if len(vars) > 0 && vars[0] != nil {
		if vj, err = json.Marshal(vars[0]); err != nil {
			return err
		}
	}
	if e.Secrets.ContainedIn(rj) || e.Secrets.ContainedIn(vj) || e.Inputs.ContainedIn(rj) || e.Inputs.ContainedIn(vj) {
		return fmt.Errorf("step %s: refusing to store a result that contains a secret (a bug in action %s)", sd.ID, sd.Action)
	}
	return e.Store.Update(ctx, func(tx *store.Tx) error {
		u := store.StepUpdate{State: &state, Result: rj, Finished: true}
		if approver != "" {
			u.ApprovedBy = &approver
		}
		if err := tx.UpdateStep(ctx, run.ID, i, u); err != nil {
			return err
		}
		if vj != nil {
			if err := tx.SetRunVars(ctx, run.ID, vj); err != nil {
				return err
			}
		}
		_, err := tx.Audit(ctx, run.Incident, kind, run.ID+"/"+sd.ID, map[string]any{"result": res, "approved_by": approver})
		return err
	})
}

func (e *Engine) pause(ctx context.Context, run store.Run, cred store.Credential, i int, sd StepDef, msg string) error {
	state := store.StepAwaitingApproval
	rotation := store.RotationInProgress
	if sd.Type == StepManual {
		rotation = store.RotationManualRequired
	}
	err := e.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateStep(ctx, run.ID, i, store.StepUpdate{State: &state}); err != nil {
			return err
		}
		if err := tx.SetRunState(ctx, run.ID, store.RunAwaitingApproval, ""); err != nil {
			return err
		}
		if err := tx.SetCredentialRotation(ctx, cred.ID, rotation); err != nil {
			return err
		}
		_, err := tx.Audit(ctx, run.Incident, "step.awaiting_approval", run.ID+"/"+sd.ID, map[string]any{"change": msg, "destructive": sd.Destructive})
		return err
	})
	if err != nil {
		return err
	}
	how := fmt.Sprintf("approve with `tourniquet playbook resume %s --confirm %s` (or --yes)", run.ID, sd.ID)
	e.emit(Event{Type: "step.awaiting_approval", Run: run.ID, Step: sd.ID, Index: i, State: state, Message: msg + "; " + how})
	return nil
}

func (e *Engine) rewind(ctx context.Context, run store.Run, to, from int, reason string) error {
	pending := store.StepPending
	empty := ""
	err := e.Store.Update(ctx, func(tx *store.Tx) error {
		for j := to; j <= from; j++ {
			if err := tx.UpdateStep(ctx, run.ID, j, store.StepUpdate{State: &pending, Result: json.RawMessage("{}"), ApprovedBy: &empty}); err != nil {
				return err
			}
		}
		_, err := tx.Audit(ctx, run.Incident, "run.rewound", run.ID, map[string]any{"to": run.Steps[to].Name, "from": run.Steps[from].Name, "reason": reason})
		return err
	})
	if err == nil {
		e.emit(Event{Type: "run.rewound", Run: run.ID, Step: run.Steps[to].Name, Index: to, Message: reason})
	}
	return err
}

// finish records the run's end state and the credential's rotation status.
func (e *Engine) finish(ctx context.Context, run store.Run, cred store.Credential, state, msg string, cause error) (string, error) {
	if msg == "" && cause != nil {
		msg = cause.Error()
	}
	rotation := store.RotationInProgress
	switch state {
	case store.RunDone:
		rotation = store.RotationRotated
	case store.RunFailed:
		rotation = store.RotationPending
	}
	uctx := context.WithoutCancel(ctx)
	err := e.Store.Update(uctx, func(tx *store.Tx) error {
		if err := tx.SetRunState(uctx, run.ID, state, msg); err != nil {
			return err
		}
		if err := tx.SetCredentialRotation(uctx, cred.ID, rotation); err != nil {
			return err
		}
		_, err := tx.Audit(uctx, run.Incident, "run."+state, run.ID, map[string]any{"message": msg, "credential": cred.ID})
		return err
	})
	if err != nil {
		return "", err
	}
	e.emit(Event{Type: "run.finished", Run: run.ID, State: state, Message: msg})
	if state == store.RunDone {
		e.Secrets.Wipe()
	}
	return state, cause
}

// recordFindings stores provider-side evidence under a cloud target of the
// incident, auditing each new finding.
func (e *Engine) recordFindings(incident string) func(context.Context, string, []collectors.Finding) error {
	return func(ctx context.Context, target string, fs []collectors.Finding) error {
		return e.Store.Update(ctx, func(tx *store.Tx) error {
			inc, err := tx.EnsureIncident(ctx, incident)
			if err != nil {
				return err
			}
			now := e.Store.Now()
			hid, err := tx.UpsertHost(ctx, inc, store.Host{Kind: "cloud", Name: target, Root: "-", ScannedAt: &now, Verdict: store.VerdictUnknown})
			if err != nil {
				return err
			}
			for _, f := range fs {
				isNew, err := tx.UpsertFinding(ctx, hid, store.Finding{ID: f.ID, Pack: f.Pack, Rule: f.Rule, Severity: f.Severity, Path: f.Path,
					Detail: f.Detail, ObservedAt: f.ObservedAt, Confidence: f.Confidence})
				if err != nil {
					return err
				}
				if isNew {
					if _, err := tx.Audit(ctx, incident, "finding.recorded", f.ID, map[string]any{"target": target, "rule": f.Rule, "severity": f.Severity, "path": f.Path}); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
}

// ownerDead reports whether a lease owner ("host:pid") is a process of
// this machine that no longer exists. A holder elsewhere is presumed alive
// until its lease expires.
func ownerDead(owner string) bool {
	host, pidText, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	me, err := os.Hostname()
	if err != nil || host != me {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// stateFor is the run state an error leaves: paused when it may pass.
func stateFor(err error) string {
	if rotators.IsTransient(err) || errors.Is(err, context.Canceled) {
		return store.RunPaused
	}
	return store.RunFailed
}

func summarize(r rotators.Result) string {
	if len(r) == 0 {
		return ""
	}
	var parts []string
	for k, v := range r {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	s := strings.Join(parts, " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
