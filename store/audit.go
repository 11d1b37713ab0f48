package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GenesisHash is the prev_hash of the first audit event.
var GenesisHash = strings.Repeat("0", 64)

// AuditEvent is one row of the audit log.
type AuditEvent struct {
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Incident string          `json:"incident"`
	Actor    string          `json:"actor"`
	Kind     string          `json:"kind"`
	Subject  string          `json:"subject"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prev_hash"`
	Hash     string          `json:"hash"`
}

// Audit appends an event to the chain inside the transaction. data is any
// JSON-marshalable value; it is stored in canonical form. Secret values must
// never be passed here: redact.Secret marshals as "[REDACTED]" but a plain
// string does not.
func (tx *Tx) Audit(ctx context.Context, incident, kind, subject string, data any) (AuditEvent, error) {
	raw, err := CanonicalJSON(data)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("audit %s: %w", kind, err)
	}
	return tx.AuditCanonical(ctx, incident, kind, subject, raw)
}

// AuditCanonical is Audit for data already in canonical form (as
// CanonicalJSON would make it: sorted keys, no white space, no HTML
// escaping), which hot paths build directly; its callers' tests check that
// CanonicalJSON leaves their data unchanged.
func (tx *Tx) AuditCanonical(ctx context.Context, incident, kind, subject string, raw json.RawMessage) (AuditEvent, error) {
	if !tx.headRead {
		err := tx.tx.QueryRowContext(ctx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").Scan(&tx.headSeq, &tx.headHash)
		switch {
		case err == sql.ErrNoRows:
			tx.headSeq, tx.headHash = 0, GenesisHash
		case err != nil:
			return AuditEvent{}, fmt.Errorf("audit %s: read chain head: %w", kind, err)
		}
		tx.headRead = true
	}
	ev := AuditEvent{
		Seq:      tx.headSeq + 1,
		At:       tx.s.Now(),
		Incident: incident,
		Actor:    tx.s.actor,
		Kind:     kind,
		Subject:  subject,
		Data:     raw,
		PrevHash: tx.headHash,
	}
	ev.Hash = ev.ComputeHash()
	if tx.auditIns == nil {
		st, err := tx.tx.PrepareContext(ctx, `INSERT INTO audit_log (seq, at, incident, actor, kind, subject, data, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return AuditEvent{}, fmt.Errorf("audit %s: %w", kind, err)
		}
		tx.auditIns = st
	}
	_, err := tx.auditIns.ExecContext(ctx, ev.Seq, ts(ev.At), ev.Incident, ev.Actor, ev.Kind, ev.Subject, string(ev.Data), ev.PrevHash, ev.Hash)
	if err != nil {
		return AuditEvent{}, fmt.Errorf("audit %s: %w", kind, err)
	}
	tx.headSeq, tx.headHash = ev.Seq, ev.Hash
	return ev, nil
}

// Canonical is the exact byte string that is hashed: a JSON object with keys
// in lexicographic order, no insignificant white space, the event's data
// embedded as stored (itself canonical), strings encoded as encoding/json does
// without HTML escaping, and the time in RFC 3339 UTC with nanoseconds.
func (ev *AuditEvent) Canonical() []byte { return ev.appendCanonical(nil) }

func (ev *AuditEvent) appendCanonical(b []byte) []byte {
	b = append(b, `{"actor":`...)
	b = appendJSONString(b, ev.Actor)
	b = append(b, `,"at":"`...)
	b = ev.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	if len(ev.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, ev.Data...)
	}
	b = append(b, `,"incident":`...)
	b = appendJSONString(b, ev.Incident)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, ev.Kind)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, ev.Seq, 10)
	b = append(b, `,"subject":`...)
	b = appendJSONString(b, ev.Subject)
	return append(b, '}')
}

// ComputeHash is hex(sha256(prev_hash || canonical JSON)), prev_hash taken as
// its 64 hex characters.
func (ev *AuditEvent) ComputeHash() string {
	var h hasher
	return h.sum(ev)
}

// hasher reuses its buffer across events; the chain walk hashes 100k+ rows.
type hasher struct{ buf []byte }

func (h *hasher) sum(ev *AuditEvent) string {
	h.buf = append(h.buf[:0], ev.PrevHash...)
	h.buf = ev.appendCanonical(h.buf)
	sum := sha256.Sum256(h.buf)
	return hex.EncodeToString(sum[:])
}

// appendJSONString appends s exactly as encoding/json (HTML escaping off)
// would, taking a fast path for plain printable ASCII.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...)
}

// CanonicalJSON marshals v, then re-encodes it with sorted keys, no HTML
// escaping and numbers kept exactly as written.
func CanonicalJSON(v any) (json.RawMessage, error) {
	first, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// VerifyResult is the outcome of walking the chain.
type VerifyResult struct {
	OK       bool    `json:"ok"`
	Events   int64   `json:"events"`
	Head     string  `json:"head"`
	FirstBad *BadRow `json:"first_bad,omitempty"`
}

// BadRow names the first row where the chain breaks and why.
type BadRow struct {
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Chain checks events one at a time, in order.
type Chain struct {
	h        hasher
	res      VerifyResult
	wantSeq  int64
	prevHash string
}

// NewChain starts a check at the genesis event.
func NewChain() *Chain {
	return &Chain{wantSeq: 1, prevHash: GenesisHash, res: VerifyResult{OK: true, Head: GenesisHash}}
}

// Add checks the next event; after the first failure it only counts.
func (c *Chain) Add(ev *AuditEvent) {
	c.res.Events++
	if !c.res.OK {
		return
	}
	fail := func(format string, args ...any) {
		c.res.OK = false
		c.res.FirstBad = &BadRow{Seq: ev.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case ev.Seq != c.wantSeq:
		if ev.Seq > c.wantSeq {
			fail("sequence gap: expected event %d, found %d (events deleted)", c.wantSeq, ev.Seq)
		} else {
			fail("sequence out of order: expected event %d, found %d", c.wantSeq, ev.Seq)
		}
	case ev.PrevHash != c.prevHash:
		fail("prev_hash does not match the previous event's hash (an event before it was changed, removed or reordered)")
	case c.h.sum(ev) != ev.Hash:
		fail("hash does not match the event's content (the event was changed)")
	default:
		c.wantSeq = ev.Seq + 1
		c.prevHash = ev.Hash
		c.res.Head = ev.Hash
	}
}

// Result is the verdict so far.
func (c *Chain) Result() VerifyResult { return c.res }

// VerifyAudit walks the whole audit log.
func (s *Store) VerifyAudit(ctx context.Context) (VerifyResult, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, at, incident, actor, kind, subject, data, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit: %w", err)
	}
	defer rows.Close()
	chain := NewChain()
	var ev AuditEvent
	var at string
	var data []byte
	for rows.Next() {
		if err := rows.Scan(&ev.Seq, &at, &ev.Incident, &ev.Actor, &ev.Kind, &ev.Subject, &data, &ev.PrevHash, &ev.Hash); err != nil {
			return VerifyResult{}, fmt.Errorf("verify audit: %w", err)
		}
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			// An unparsable time is itself tampering; hash the zero time so
			// the content check fails on this row.
			t = time.Time{}
		}
		ev.At = t
		ev.Data = data
		chain.Add(&ev)
	}
	if err := rows.Err(); err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit: %w", err)
	}
	return chain.Result(), nil
}

// AuditEvents lists events from seq after (exclusive), at most limit (0 = all).
func (s *Store) AuditEvents(ctx context.Context, after int64, limit int) ([]AuditEvent, error) {
	q := `SELECT seq, at, incident, actor, kind, subject, data, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq`
	args := []any{after}
	if limit > 0 {
		q += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	defer rows.Close()
	var out []AuditEvent
	for rows.Next() {
		var ev AuditEvent
		var at string
		var data []byte
		if err := rows.Scan(&ev.Seq, &at, &ev.Incident, &ev.Actor, &ev.Kind, &ev.Subject, &data, &ev.PrevHash, &ev.Hash); err != nil {
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		ev.At, _ = time.Parse(time.RFC3339Nano, at)
		ev.Data = json.RawMessage(data)
		out = append(out, ev)
	}
	return out, rows.Err()
}
