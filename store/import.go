package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tourniquet-ir/tourniquet/collectors"
)

// ImportOutcome is what importing one scan bundle did.
type ImportOutcome string

const (
	// Imported: the bundle was recorded as its target's latest scan.
	Imported ImportOutcome = "imported"
	// AlreadyRecorded: the target's recorded scan is this one (same target,
	// same scan time): nothing was written.
	AlreadyRecorded ImportOutcome = "already_recorded"
	// OlderThanRecorded: the target holds a newer scan, which is kept:
	// nothing was written.
	OlderThanRecorded ImportOutcome = "older_than_recorded"
)

// ErrIDOfAnotherTarget refuses a bundle whose finding or credential IDs
// another target of the incident already holds: recording it would rewrite
// that target's evidence.
var ErrIDOfAnotherTarget = errors.New("finding or credential IDs that belong to another target")

// ImportScan records a scan made elsewhere (another host's `scan --json`)
// into the incident, with its own target, window and verdict, exactly as
// RecordScan records a local one. It is idempotent: a bundle whose scan is
// already the target's recorded one, or older than it, writes nothing (not
// even an audit event). The scan.finished event of an import carries the
// bundle's SHA-256 and source name.
func (s *Store) ImportScan(ctx context.Context, incident string, res *collectors.Result, bundleSHA256, source string) (ImportOutcome, error) {
	kind := res.Host.Kind
	if kind == "" {
		kind = "host"
	}
	// Read first without the write lock: re-imports are the common case of
	// a fleet collection run twice.
	if out, done, err := s.importState(ctx, s.r, incident, kind, res); err != nil || done {
		return out, err
	}
	var outcome ImportOutcome
	err := s.Update(ctx, func(tx *Tx) error {
		out, done, err := s.importState(ctx, tx.tx, incident, kind, res)
		if err != nil || done {
			outcome = out
			return err
		}
		inc, err := tx.EnsureIncident(ctx, incident)
		if err != nil {
			return err
		}
		if err := tx.checkIDs(ctx, inc, kind, res); err != nil {
			return err
		}
		outcome = Imported
		return tx.recordScan(ctx, incident, inc, res, map[string]any{"imported_from": source, "bundle_sha256": bundleSHA256})
	})
	return outcome, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// importState reports whether the target's recorded scan makes the import
// a no-op.
func (s *Store) importState(ctx context.Context, q querier, incident, kind string, res *collectors.Result) (ImportOutcome, bool, error) {
	var scanned sql.NullString
	err := q.QueryRowContext(ctx, `SELECT h.scanned_at FROM hosts h JOIN incidents i ON i.id = h.incident_id
		WHERE i.name = ? AND h.kind = ? AND h.name = ? AND h.root = ?`, incident, kind, res.Host.Name, res.Host.Root).Scan(&scanned)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("import %s: %w", res.Host.Name, err)
	}
	rec := parseTS(scanned)
	switch {
	case rec == nil:
		return "", false, nil
	case rec.Equal(res.Host.ScannedAt):
		return AlreadyRecorded, true, nil
	case rec.After(res.Host.ScannedAt):
		return OlderThanRecorded, true, nil
	}
	return "", false, nil
}

// checkIDs refuses IDs that another target of the database holds.
func (tx *Tx) checkIDs(ctx context.Context, incidentID int64, kind string, res *collectors.Result) error {
	var self int64
	err := tx.tx.QueryRowContext(ctx, "SELECT id FROM hosts WHERE incident_id = ? AND kind = ? AND name = ? AND root = ?",
		incidentID, kind, res.Host.Name, res.Host.Root).Scan(&self)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("import %s: %w", res.Host.Name, err)
	}
	taken := func(table, id string) (bool, error) {
		var owner int64
		err := tx.tx.QueryRowContext(ctx, "SELECT host_id FROM "+table+" WHERE id = ?", id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("import %s: %w", res.Host.Name, err)
		}
		return owner != self, nil
	}
	type ref struct{ table, id string }
	refs := make([]ref, 0, len(res.Findings)+len(res.Credentials))
	for _, f := range res.Findings {
		refs = append(refs, ref{"findings", f.ID})
	}
	for _, c := range res.Credentials {
		refs = append(refs, ref{"credentials", c.ID})
	}
	n := 0
	first := ""
	for _, r := range refs {
		bad, err := taken(r.table, r.id)
		if err != nil {
			return err
		}
		if bad {
			n++
			first = firstNonEmpty(first, r.id)
		}
	}
	if n > 0 {
		return fmt.Errorf("import %s: %d %w (first: %s)", res.Host.Name, n, ErrIDOfAnotherTarget, first)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
