package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// WalkAudit calls fn for every event of the log in sequence order, reading
// rows as it goes: exports and checks walk chains of millions of gateway
// events, which must not be loaded whole. The event passed to fn is reused
// between calls (its Data included): fn copies what it keeps. An error from
// fn stops the walk and is returned as is.
func (s *Store) WalkAudit(ctx context.Context, fn func(*AuditEvent) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, at, incident, actor, kind, subject, data, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("walk audit: %w", err)
	}
	defer rows.Close()
	var ev AuditEvent
	var at string
	var data []byte
	for rows.Next() {
		if err := rows.Scan(&ev.Seq, &at, &ev.Incident, &ev.Actor, &ev.Kind, &ev.Subject, &data, &ev.PrevHash, &ev.Hash); err != nil {
			return fmt.Errorf("walk audit: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			// As in VerifyAudit: the zero time makes the content check fail.
			t = time.Time{}
		}
		ev.At = t
		ev.Data = json.RawMessage(data)
		if err := fn(&ev); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("walk audit: %w", err)
	}
	return nil
}
