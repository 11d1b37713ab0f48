package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// GatewayRoute maps a model name to an upstream provider and a key
// reference in the gateway's keystore.
type GatewayRoute struct {
	Model         string        `json:"model"`
	Provider      string        `json:"provider"` // openai (and compatible) or anthropic
	BaseURL       string        `json:"base_url"`
	KeyRef        string        `json:"key_ref"`
	UpstreamModel string        `json:"upstream_model,omitempty"`
	Translate     bool          `json:"translate,omitempty"` // OpenAI-format requests sent to Anthropic
	Timeout       time.Duration `json:"timeout"`
	Fallbacks     []string      `json:"fallbacks,omitempty"`
}

// GatewayKey is a virtual key: only its hash is stored.
type GatewayKey struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	Hash         string     `json:"-"`
	Hint         string     `json:"hint"`
	Models       []string   `json:"models"`
	BudgetTokens int64      `json:"budget_tokens"`
	SpentTokens  int64      `json:"spent_tokens"`
	RPM          int        `json:"rpm"`
	CreatedAt    time.Time  `json:"created_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

// PutGatewayRoute adds or replaces a route.
func (tx *Tx) PutGatewayRoute(ctx context.Context, r GatewayRoute) error {
	fb, err := json.Marshal(nonNil(r.Fallbacks))
	if err != nil {
		return err
	}
	if r.Timeout <= 0 {
		r.Timeout = 2 * time.Minute
	}
	now := ts(tx.s.Now())
	_, err = tx.tx.ExecContext(ctx, `INSERT INTO gateway_routes (model, provider, base_url, key_ref, upstream_model, translate, timeout_ms, fallbacks, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (model) DO UPDATE SET provider = excluded.provider, base_url = excluded.base_url, key_ref = excluded.key_ref,
			upstream_model = excluded.upstream_model, translate = excluded.translate, timeout_ms = excluded.timeout_ms,
			fallbacks = excluded.fallbacks, updated_at = excluded.updated_at`,
		r.Model, r.Provider, r.BaseURL, r.KeyRef, r.UpstreamModel, boolInt(r.Translate), r.Timeout.Milliseconds(), string(fb), now, now)
	if err != nil {
		return fmt.Errorf("gateway route %s: %w", r.Model, err)
	}
	return nil
}

// DeleteGatewayRoute removes a route.
func (tx *Tx) DeleteGatewayRoute(ctx context.Context, model string) error {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM gateway_routes WHERE model = ?`, model)
	if err != nil {
		return fmt.Errorf("gateway route %s: %w", model, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("gateway route %s: %w", model, ErrNotFound)
	}
	return nil
}

// GatewayRoutes lists the routes.
func (s *Store) GatewayRoutes(ctx context.Context) ([]GatewayRoute, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT model, provider, base_url, key_ref, upstream_model, translate, timeout_ms, fallbacks FROM gateway_routes ORDER BY model`)
	if err != nil {
		return nil, fmt.Errorf("gateway routes: %w", err)
	}
	defer rows.Close()
	var out []GatewayRoute
	for rows.Next() {
		var r GatewayRoute
		var tr int
		var ms int64
		var fb string
		if err := rows.Scan(&r.Model, &r.Provider, &r.BaseURL, &r.KeyRef, &r.UpstreamModel, &tr, &ms, &fb); err != nil {
			return nil, fmt.Errorf("gateway routes: %w", err)
		}
		r.Translate, r.Timeout = tr == 1, time.Duration(ms)*time.Millisecond
		_ = json.Unmarshal([]byte(fb), &r.Fallbacks)
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreateGatewayKey records a virtual key (its hash).
func (tx *Tx) CreateGatewayKey(ctx context.Context, k GatewayKey) error {
	ms, err := json.Marshal(nonNil(k.Models))
	if err != nil {
		return err
	}
	_, err = tx.tx.ExecContext(ctx, `INSERT INTO gateway_keys (id, name, hash, hint, models, budget_tokens, rpm, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Hash, k.Hint, string(ms), k.BudgetTokens, k.RPM, ts(tx.s.Now()))
	if err != nil {
		return fmt.Errorf("gateway key %s: %w", k.ID, err)
	}
	return nil
}

// RevokeGatewayKey marks a virtual key revoked.
func (tx *Tx) RevokeGatewayKey(ctx context.Context, id string) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE gateway_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ts(tx.s.Now()), id)
	if err != nil {
		return fmt.Errorf("gateway key %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("gateway key %s: %w (or already revoked)", id, ErrNotFound)
	}
	return nil
}

// AddGatewaySpend adds tokens spent by virtual keys (batched by the server).
func (tx *Tx) AddGatewaySpend(ctx context.Context, spent map[string]int64) error {
	for id, n := range spent {
		if _, err := tx.tx.ExecContext(ctx, `UPDATE gateway_keys SET spent_tokens = spent_tokens + ? WHERE id = ?`, n, id); err != nil {
			return fmt.Errorf("gateway key %s: %w", id, err)
		}
	}
	return nil
}

// GatewayKeys lists the virtual keys.
func (s *Store) GatewayKeys(ctx context.Context) ([]GatewayKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, hash, hint, models, budget_tokens, spent_tokens, rpm, created_at, revoked_at FROM gateway_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("gateway keys: %w", err)
	}
	defer rows.Close()
	var out []GatewayKey
	for rows.Next() {
		var k GatewayKey
		var ms, created string
		var revoked sql.NullString
		if err := rows.Scan(&k.ID, &k.Name, &k.Hash, &k.Hint, &ms, &k.BudgetTokens, &k.SpentTokens, &k.RPM, &created, &revoked); err != nil {
			return nil, fmt.Errorf("gateway keys: %w", err)
		}
		_ = json.Unmarshal([]byte(ms), &k.Models)
		k.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		k.RevokedAt = parseTS(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// PutGatewayStatus records what a running gateway reports.
func (tx *Tx) PutGatewayStatus(ctx context.Context, listen string, pid int, body json.RawMessage) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO gateway_status (id, listen, pid, updated_at, body) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET listen = excluded.listen, pid = excluded.pid, updated_at = excluded.updated_at, body = excluded.body`,
		listen, pid, ts(tx.s.Now()), string(body))
	return err
}

// GatewayStatus returns the last report of a running gateway.
func (s *Store) GatewayStatus(ctx context.Context) (listen string, pid int, at time.Time, body json.RawMessage, err error) {
	var updated, b string
	err = s.r.QueryRowContext(ctx, `SELECT listen, pid, updated_at, body FROM gateway_status WHERE id = 1`).Scan(&listen, &pid, &updated, &b)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, time.Time{}, nil, ErrNotFound
	}
	if err != nil {
		return "", 0, time.Time{}, nil, err
	}
	at, _ = time.Parse(time.RFC3339Nano, updated)
	return listen, pid, at, json.RawMessage(b), nil
}
