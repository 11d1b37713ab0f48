package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Run states.
const (
	RunPlanned          = "planned"
	RunRunning          = "running"
	RunAwaitingApproval = "awaiting_approval"
	RunPaused           = "paused" // a provider failed transiently; resume retries
	RunFailed           = "failed"
	RunDone             = "done"
	RunCancelled        = "cancelled"
)

// Step states. A step moves pending -> intent (recorded before it acts) ->
// done | failed | awaiting_approval | skipped.
const (
	StepPending          = "pending"
	StepIntent           = "intent"
	StepDone             = "done"
	StepFailed           = "failed"
	StepAwaitingApproval = "awaiting_approval"
	StepSkipped          = "skipped"
)

// ErrNotFound is returned for a missing run or credential.
var ErrNotFound = errors.New("not found")

// ErrLeased is returned when another process holds a run.
var ErrLeased = errors.New("run is held by another process")

// Run is one execution of a playbook for one credential.
type Run struct {
	ID              string          `json:"id"`
	Incident        string          `json:"incident"`
	Playbook        string          `json:"playbook"`
	PlaybookVersion int             `json:"playbook_version"`
	CredentialID    string          `json:"credential_id,omitempty"`
	State           string          `json:"state"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	Vars            json.RawMessage `json:"vars"`
	Params          json.RawMessage `json:"params"`
	Error           string          `json:"error,omitempty"`
	LeaseOwner      string          `json:"-"`
	LeaseUntil      *time.Time      `json:"-"`
	Steps           []Step          `json:"steps"`
}

// Step is one step of a run.
type Step struct {
	Index       int             `json:"index"`
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Kind        string          `json:"kind"`
	Destructive bool            `json:"destructive"`
	State       string          `json:"state"`
	Intent      json.RawMessage `json:"intent"`
	Result      json.RawMessage `json:"result"`
	Attempts    int             `json:"attempts"`
	Error       string          `json:"error,omitempty"`
	ApprovedBy  string          `json:"approved_by,omitempty"`
	StartedAt   *time.Time      `json:"started_at,omitempty"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
}

// CreateRun inserts a run and its steps.
func (tx *Tx) CreateRun(ctx context.Context, r Run) error {
	inc, err := tx.EnsureIncident(ctx, r.Incident)
	if err != nil {
		return err
	}
	now := ts(tx.s.Now())
	if len(r.Vars) == 0 {
		r.Vars = json.RawMessage("{}")
	}
	if len(r.Params) == 0 {
		r.Params = json.RawMessage("{}")
	}
	_, err = tx.tx.ExecContext(ctx, `INSERT INTO playbook_runs (id, incident_id, playbook, playbook_version, credential_id, state, created_at, updated_at, vars, params)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, inc, r.Playbook, r.PlaybookVersion, nullStr(r.CredentialID), r.State, now, now, string(r.Vars), string(r.Params))
	if err != nil {
		return fmt.Errorf("create run %s: %w", r.ID, err)
	}
	for _, st := range r.Steps {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO playbook_steps (run_id, idx, name, title, kind, destructive, state) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.ID, st.Index, st.Name, st.Title, st.Kind, boolInt(st.Destructive), StepPending)
		if err != nil {
			return fmt.Errorf("create run %s step %s: %w", r.ID, st.Name, err)
		}
	}
	return nil
}

// SetRunState sets a run's state (and its error text, "" to clear).
func (tx *Tx) SetRunState(ctx context.Context, id, state, errText string) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE playbook_runs SET state = ?, error = ?, updated_at = ? WHERE id = ?`, state, errText, ts(tx.s.Now()), id)
	if err != nil {
		return fmt.Errorf("run %s: set state %s: %w", id, state, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	return nil
}

// SetRunVars replaces a run's working variables (non-secret JSON).
func (tx *Tx) SetRunVars(ctx context.Context, id string, vars json.RawMessage) error {
	_, err := tx.tx.ExecContext(ctx, `UPDATE playbook_runs SET vars = ?, updated_at = ? WHERE id = ?`, string(vars), ts(tx.s.Now()), id)
	if err != nil {
		return fmt.Errorf("run %s: set vars: %w", id, err)
	}
	return nil
}

// StepUpdate changes some fields of a step; nil fields are left alone.
type StepUpdate struct {
	State      *string
	Intent     json.RawMessage
	Result     json.RawMessage
	Error      *string
	ApprovedBy *string
	Attempt    bool // count one more attempt and stamp started_at
	Finished   bool // stamp finished_at
}

// UpdateStep applies u to step idx of run id.
func (tx *Tx) UpdateStep(ctx context.Context, id string, idx int, u StepUpdate) error {
	now := ts(tx.s.Now())
	q := "UPDATE playbook_steps SET idx = idx"
	var args []any
	if u.State != nil {
		q += ", state = ?"
		args = append(args, *u.State)
	}
	if u.Intent != nil {
		q += ", intent = ?"
		args = append(args, string(u.Intent))
	}
	if u.Result != nil {
		q += ", result = ?"
		args = append(args, string(u.Result))
	}
	if u.Error != nil {
		q += ", error = ?"
		args = append(args, *u.Error)
	}
	if u.ApprovedBy != nil {
		q += ", approved_by = ?"
		args = append(args, *u.ApprovedBy)
	}
	if u.Attempt {
		q += ", attempts = attempts + 1, started_at = ?"
		args = append(args, now)
	}
	if u.Finished {
		q += ", finished_at = ?"
		args = append(args, now)
	}
	q += " WHERE run_id = ? AND idx = ?"
	args = append(args, id, idx)
	res, err := tx.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("run %s step %d: %w", id, idx, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %s step %d: %w", id, idx, ErrNotFound)
	}
	_, err = tx.tx.ExecContext(ctx, `UPDATE playbook_runs SET updated_at = ? WHERE id = ?`, now, id)
	return err
}

// AcquireLease takes the run for owner until the given time, when it is free,
// expired, or already owner's. It fails with ErrLeased otherwise: two
// processes (the console and a headless run) never drive one run at once.
func (tx *Tx) AcquireLease(ctx context.Context, id, owner string, until time.Time) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE playbook_runs SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until IS NULL OR lease_until < ?)`,
		owner, ts(until), id, owner, ts(tx.s.Now()))
	if err != nil {
		return fmt.Errorf("lease run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists int
		if err := tx.tx.QueryRowContext(ctx, "SELECT count(*) FROM playbook_runs WHERE id = ?", id).Scan(&exists); err == nil && exists == 0 {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		return fmt.Errorf("run %s: %w", id, ErrLeased)
	}
	return nil
}

// TakeLease takes a run from a holder known to be dead (a crashed process on
// this machine): it succeeds only if stale still holds it.
func (tx *Tx) TakeLease(ctx context.Context, id, stale, owner string, until time.Time) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE playbook_runs SET lease_owner = ?, lease_until = ? WHERE id = ? AND lease_owner = ?`,
		owner, ts(until), id, stale)
	if err != nil {
		return fmt.Errorf("take over run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("run %s: %w", id, ErrLeased)
	}
	_, err = tx.Audit(ctx, "", "run.lease_taken", id, map[string]any{"from": stale, "to": owner})
	return err
}

// ReleaseLease gives the run back if owner holds it.
func (tx *Tx) ReleaseLease(ctx context.Context, id, owner string) error {
	_, err := tx.tx.ExecContext(ctx, `UPDATE playbook_runs SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?`, id, owner)
	return err
}

// SetCredentialRotation records a credential's rotation status.
func (tx *Tx) SetCredentialRotation(ctx context.Context, id, status string) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE credentials SET rotation = ? WHERE id = ?`, status, id)
	if err != nil {
		return fmt.Errorf("credential %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("credential %s: %w", id, ErrNotFound)
	}
	return nil
}

const runCols = `r.id, i.name, r.playbook, r.playbook_version, r.credential_id, r.state, r.created_at, r.updated_at, r.vars, r.params, r.error, r.lease_owner, r.lease_until`

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var cred, owner, until sql.NullString
	var created, updated, vars, params string
	if err := sc.Scan(&r.ID, &r.Incident, &r.Playbook, &r.PlaybookVersion, &cred, &r.State, &created, &updated, &vars, &params, &r.Error, &owner, &until); err != nil {
		return Run{}, err
	}
	r.CredentialID = cred.String
	r.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	r.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	r.Vars, r.Params = json.RawMessage(vars), json.RawMessage(params)
	r.LeaseOwner = owner.String
	r.LeaseUntil = parseTS(until)
	return r, nil
}

// GetRun loads a run with its steps.
func (s *Store) GetRun(ctx context.Context, id string) (Run, error) {
	r, err := scanRun(s.w.QueryRowContext(ctx, `SELECT `+runCols+` FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("run %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Run{}, fmt.Errorf("run %s: %w", id, err)
	}
	rows, err := s.w.QueryContext(ctx, `SELECT idx, name, title, kind, destructive, state, intent, result, attempts, error, approved_by, started_at, finished_at
		FROM playbook_steps WHERE run_id = ? ORDER BY idx`, id)
	if err != nil {
		return Run{}, fmt.Errorf("run %s steps: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Step
		var destructive int
		var intent, result string
		var approved, started, finished sql.NullString
		if err := rows.Scan(&st.Index, &st.Name, &st.Title, &st.Kind, &destructive, &st.State, &intent, &result, &st.Attempts, &st.Error, &approved, &started, &finished); err != nil {
			return Run{}, fmt.Errorf("run %s steps: %w", id, err)
		}
		st.Destructive = destructive == 1
		st.Intent, st.Result = json.RawMessage(intent), json.RawMessage(result)
		st.ApprovedBy = approved.String
		st.StartedAt, st.FinishedAt = parseTS(started), parseTS(finished)
		r.Steps = append(r.Steps, st)
	}
	return r, rows.Err()
}

// Runs lists an incident's runs, newest first (without steps).
func (s *Store) Runs(ctx context.Context, incident string) ([]Run, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+runCols+` FROM playbook_runs r JOIN incidents i ON i.id = r.incident_id WHERE i.name = ? ORDER BY r.created_at DESC, r.id`, incident)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Credential loads one credential by ID, with its host's name and root.
func (s *Store) Credential(ctx context.Context, id string) (Credential, Host, error) {
	var c Credential
	var h Host
	var mod, wstart, wend sql.NullString
	var wopen int
	var first, last string
	err := s.w.QueryRowContext(ctx, `SELECT c.id, c.host_id, h.name, c.kind, c.path, c.fingerprint, c.hint, c.modified_at, c.owner,
			c.exposure, c.reason, c.detail, c.note, c.rotation, c.first_seen, c.last_seen, h.kind, h.root,
			h.window_start, h.window_end, h.window_open, h.verdict
		FROM credentials c JOIN hosts h ON h.id = c.host_id WHERE c.id = ?`, id).Scan(
		&c.ID, &c.HostID, &c.Host, &c.Kind, &c.Path, &c.Fingerprint, &c.Hint, &mod, &c.Owner,
		&c.Exposure, &c.Reason, &c.Detail, &c.Note, &c.Rotation, &first, &last, &h.Kind, &h.Root,
		&wstart, &wend, &wopen, &h.Verdict)
	if errors.Is(err, sql.ErrNoRows) {
		return Credential{}, Host{}, fmt.Errorf("credential %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Credential{}, Host{}, fmt.Errorf("credential %s: %w", id, err)
	}
	c.ModifiedAt = parseTS(mod)
	c.FirstSeen, _ = time.Parse(time.RFC3339Nano, first)
	c.LastSeen, _ = time.Parse(time.RFC3339Nano, last)
	h.ID, h.Name = c.HostID, c.Host
	h.WindowStart, h.WindowEnd, h.WindowOpen = parseTS(wstart), parseTS(wend), wopen == 1
	return c, h, nil
}
