package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Verdicts a host can have.
const (
	VerdictCompromised    = "compromised"     // an executable artefact remains
	VerdictWasCompromised = "was_compromised" // evidence of a past compromise, cleaned
	VerdictClean          = "clean"
	VerdictUnknown        = "unknown"
)

// Exposure classes of a credential.
const (
	Exposed    = "exposed"
	NotExposed = "not_exposed"
	Unknown    = "unknown"
)

// Rotation states of a credential.
const (
	RotationPending        = "pending"
	RotationInProgress     = "in_progress"
	RotationRotated        = "rotated"
	RotationManualRequired = "manual_required"
)

// Host is a scanned target: a machine, a mounted image, a cluster.
type Host struct {
	ID          int64      `json:"-"`
	Incident    string     `json:"-"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Root        string     `json:"root"`
	ScannedAt   *time.Time `json:"scanned_at,omitempty"`
	WindowStart *time.Time `json:"window_start,omitempty"`
	WindowEnd   *time.Time `json:"window_end,omitempty"`
	WindowOpen  bool       `json:"window_open"`
	WindowBasis []string   `json:"window_basis"`
	Verdict     string     `json:"verdict"`
	Packs       []string   `json:"packs"`
}

// Finding is one IOC hit.
type Finding struct {
	ID         string     `json:"id"`
	HostID     int64      `json:"-"`
	Host       string     `json:"host,omitempty"`
	Pack       string     `json:"pack"`
	Rule       string     `json:"rule"`
	Severity   string     `json:"severity"`
	Path       string     `json:"path"`
	Detail     string     `json:"detail"`
	ObservedAt *time.Time `json:"observed_at,omitempty"`
	SHA256     string     `json:"sha256,omitempty"`
	Excerpt    string     `json:"excerpt,omitempty"`
	Confidence string     `json:"confidence,omitempty"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	Gone       bool       `json:"gone,omitempty"`
}

// Credential is a secret found somewhere, recorded as fingerprint and hint.
// There is deliberately no field that could hold the value.
type Credential struct {
	ID          string     `json:"id"`
	HostID      int64      `json:"-"`
	Host        string     `json:"host,omitempty"`
	Kind        string     `json:"kind"`
	Path        string     `json:"path"`
	Fingerprint string     `json:"fingerprint"`
	Hint        string     `json:"hint"`
	ModifiedAt  *time.Time `json:"modified_at,omitempty"`
	Owner       string     `json:"owner,omitempty"`
	Exposure    string     `json:"exposure"`
	Reason      string     `json:"reason"`
	Detail      string     `json:"detail,omitempty"`
	Note        string     `json:"note,omitempty"`
	Rotation    string     `json:"rotation"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
}

// EnsureIncident returns the incident's row id, creating it (and auditing
// that) when it does not exist.
func (tx *Tx) EnsureIncident(ctx context.Context, name string) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, "SELECT id FROM incidents WHERE name = ?", name).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("incident %q: %w", name, err)
	}
	res, err := tx.tx.ExecContext(ctx, "INSERT INTO incidents (name, created_at) VALUES (?, ?)", name, ts(tx.s.Now()))
	if err != nil {
		return 0, fmt.Errorf("create incident %q: %w", name, err)
	}
	id, err = res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("create incident %q: %w", name, err)
	}
	if _, err := tx.Audit(ctx, name, "incident.created", name, map[string]any{}); err != nil {
		return 0, err
	}
	return id, nil
}

// UpsertHost inserts or updates a host by (incident, kind, name, root).
func (tx *Tx) UpsertHost(ctx context.Context, incidentID int64, h Host) (int64, error) {
	if h.Kind == "" {
		h.Kind = "host"
	}
	if h.Verdict == "" {
		h.Verdict = VerdictUnknown
	}
	basis, err := json.Marshal(nonNil(h.WindowBasis))
	if err != nil {
		return 0, fmt.Errorf("host %s: %w", h.Name, err)
	}
	packs, err := json.Marshal(nonNil(h.Packs))
	if err != nil {
		return 0, fmt.Errorf("host %s: %w", h.Name, err)
	}
	var id int64
	err = tx.tx.QueryRowContext(ctx, `INSERT INTO hosts (incident_id, kind, name, root, scanned_at, window_start, window_end, window_open, window_basis, verdict, packs)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (incident_id, kind, name, root) DO UPDATE SET
			scanned_at = excluded.scanned_at, window_start = excluded.window_start, window_end = excluded.window_end,
			window_open = excluded.window_open, window_basis = excluded.window_basis, verdict = excluded.verdict, packs = excluded.packs
		RETURNING id`,
		incidentID, h.Kind, h.Name, h.Root, nullTS(h.ScannedAt), nullTS(h.WindowStart), nullTS(h.WindowEnd),
		boolInt(h.WindowOpen), string(basis), h.Verdict, string(packs)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record host %s: %w", h.Name, err)
	}
	return id, nil
}

// UpsertFinding records a finding; a re-scan refreshes last_seen and keeps
// first_seen. It reports whether the finding is new.
func (tx *Tx) UpsertFinding(ctx context.Context, hostID int64, f Finding) (bool, error) {
	now := ts(tx.s.Now())
	res, err := tx.tx.ExecContext(ctx, `INSERT INTO findings (id, host_id, pack, rule, severity, path, detail, observed_at, sha256, excerpt, confidence, first_seen, last_seen, gone)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (id) DO NOTHING`,
		f.ID, hostID, f.Pack, f.Rule, f.Severity, f.Path, f.Detail, nullTS(f.ObservedAt), nullStr(f.SHA256), f.Excerpt, f.Confidence, now, now)
	if err != nil {
		return false, fmt.Errorf("record finding %s: %w", f.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, err = tx.tx.ExecContext(ctx, `UPDATE findings SET severity = ?, detail = ?, observed_at = ?, sha256 = ?, excerpt = ?, confidence = ?, last_seen = ?, gone = 0 WHERE id = ?`,
		f.Severity, f.Detail, nullTS(f.ObservedAt), nullStr(f.SHA256), f.Excerpt, f.Confidence, now, f.ID)
	if err != nil {
		return false, fmt.Errorf("refresh finding %s: %w", f.ID, err)
	}
	return false, nil
}

// UpsertCredential records a credential by (host, path, fingerprint); a
// re-scan refreshes exposure and keeps rotation state. It reports whether the
// credential is new.
func (tx *Tx) UpsertCredential(ctx context.Context, hostID int64, c Credential) (bool, error) {
	now := ts(tx.s.Now())
	if c.Exposure == "" {
		c.Exposure = Unknown
	}
	if c.Rotation == "" {
		c.Rotation = RotationPending
	}
	res, err := tx.tx.ExecContext(ctx, `INSERT INTO credentials (id, host_id, kind, path, fingerprint, hint, modified_at, owner, exposure, reason, detail, note, rotation, first_seen, last_seen)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (host_id, path, fingerprint) DO NOTHING`,
		c.ID, hostID, c.Kind, c.Path, c.Fingerprint, c.Hint, nullTS(c.ModifiedAt), c.Owner, c.Exposure, c.Reason, c.Detail, c.Note, c.Rotation, now, now)
	if err != nil {
		return false, fmt.Errorf("record credential %s: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, err = tx.tx.ExecContext(ctx, `UPDATE credentials SET kind = ?, hint = ?, modified_at = ?, exposure = ?, reason = ?, detail = ?, note = ?,
		owner = CASE WHEN ? <> '' THEN ? ELSE owner END, last_seen = ? WHERE host_id = ? AND path = ? AND fingerprint = ?`,
		c.Kind, c.Hint, nullTS(c.ModifiedAt), c.Exposure, c.Reason, c.Detail, c.Note, c.Owner, c.Owner, now, hostID, c.Path, c.Fingerprint)
	if err != nil {
		return false, fmt.Errorf("refresh credential %s: %w", c.ID, err)
	}
	return false, nil
}

// Credentials lists an incident's credentials, newest host scan first.
func (s *Store) Credentials(ctx context.Context, incident string) ([]Credential, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.host_id, h.name, c.kind, c.path, c.fingerprint, c.hint, c.modified_at, c.owner,
			c.exposure, c.reason, c.detail, c.note, c.rotation, c.first_seen, c.last_seen
		FROM credentials c JOIN hosts h ON h.id = c.host_id JOIN incidents i ON i.id = h.incident_id
		WHERE i.name = ? ORDER BY h.name, c.kind, c.path, c.id`, incident)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	defer rows.Close()
	var out []Credential
	for rows.Next() {
		var c Credential
		var mod sql.NullString
		var first, last string
		if err := rows.Scan(&c.ID, &c.HostID, &c.Host, &c.Kind, &c.Path, &c.Fingerprint, &c.Hint, &mod, &c.Owner,
			&c.Exposure, &c.Reason, &c.Detail, &c.Note, &c.Rotation, &first, &last); err != nil {
			return nil, fmt.Errorf("list credentials: %w", err)
		}
		c.ModifiedAt = parseTS(mod)
		c.FirstSeen, _ = time.Parse(time.RFC3339Nano, first)
		c.LastSeen, _ = time.Parse(time.RFC3339Nano, last)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Findings lists an incident's findings, most severe first.
func (s *Store) Findings(ctx context.Context, incident string) ([]Finding, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT f.id, f.host_id, h.name, f.pack, f.rule, f.severity, f.path, f.detail, f.observed_at,
			f.sha256, f.excerpt, f.confidence, f.first_seen, f.last_seen, f.gone
		FROM findings f JOIN hosts h ON h.id = f.host_id JOIN incidents i ON i.id = h.incident_id
		WHERE i.name = ?
		ORDER BY CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, h.name, f.path, f.rule`, incident)
	if err != nil {
		return nil, fmt.Errorf("list findings: %w", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var obs, sha sql.NullString
		var first, last string
		var gone int
		if err := rows.Scan(&f.ID, &f.HostID, &f.Host, &f.Pack, &f.Rule, &f.Severity, &f.Path, &f.Detail, &obs,
			&sha, &f.Excerpt, &f.Confidence, &first, &last, &gone); err != nil {
			return nil, fmt.Errorf("list findings: %w", err)
		}
		f.ObservedAt = parseTS(obs)
		f.SHA256 = sha.String
		f.FirstSeen, _ = time.Parse(time.RFC3339Nano, first)
		f.LastSeen, _ = time.Parse(time.RFC3339Nano, last)
		f.Gone = gone == 1
		out = append(out, f)
	}
	return out, rows.Err()
}

// Hosts lists an incident's hosts.
func (s *Store) Hosts(ctx context.Context, incident string) ([]Host, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT h.id, h.kind, h.name, h.root, h.scanned_at, h.window_start, h.window_end, h.window_open,
			h.window_basis, h.verdict, h.packs
		FROM hosts h JOIN incidents i ON i.id = h.incident_id WHERE i.name = ? ORDER BY h.kind, h.name, h.root`, incident)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		var h Host
		var scanned, start, end sql.NullString
		var open int
		var basis, packs string
		if err := rows.Scan(&h.ID, &h.Kind, &h.Name, &h.Root, &scanned, &start, &end, &open, &basis, &h.Verdict, &packs); err != nil {
			return nil, fmt.Errorf("list hosts: %w", err)
		}
		h.Incident = incident
		h.ScannedAt, h.WindowStart, h.WindowEnd = parseTS(scanned), parseTS(start), parseTS(end)
		h.WindowOpen = open == 1
		_ = json.Unmarshal([]byte(basis), &h.WindowBasis)
		_ = json.Unmarshal([]byte(packs), &h.Packs)
		out = append(out, h)
	}
	return out, rows.Err()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MarkFindingsGone flags the host's findings that a new scan did not see
// again (the artefact was removed); they stay in the record. It returns how
// many changed.
func (tx *Tx) MarkFindingsGone(ctx context.Context, hostID int64, seen []string) (int, error) {
	rows, err := tx.tx.QueryContext(ctx, "SELECT id FROM findings WHERE host_id = ? AND gone = 0", hostID)
	if err != nil {
		return 0, fmt.Errorf("mark findings gone: %w", err)
	}
	keep := make(map[string]bool, len(seen))
	for _, id := range seen {
		keep[id] = true
	}
	var gone []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("mark findings gone: %w", err)
		}
		if !keep[id] {
			gone = append(gone, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("mark findings gone: %w", err)
	}
	for _, id := range gone {
		if _, err := tx.tx.ExecContext(ctx, "UPDATE findings SET gone = 1 WHERE id = ?", id); err != nil {
			return 0, fmt.Errorf("mark finding %s gone: %w", id, err)
		}
	}
	return len(gone), nil
}
