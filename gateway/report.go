package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Report is what `gateway status` and the console's Gateway pane show: the
// configuration, and the running gateway's last report when it is alive.
type Report struct {
	Running  bool                 `json:"running"`
	Listen   string               `json:"listen,omitempty"`
	PID      int                  `json:"pid,omitempty"`
	Reported *time.Time           `json:"reported_at,omitempty"`
	Status   *Status              `json:"status,omitempty"`
	Routes   []store.GatewayRoute `json:"routes"`
	Keystore []keystore.Entry     `json:"provider_keys"`
	Virtual  int                  `json:"virtual_keys"`
	// Note says why the keystore could not be read (it is then empty).
	Note string `json:"note,omitempty"`
}

// ReportRow is one route as shown.
type ReportRow struct {
	Model, Provider, KeyRef string
	// Key is the active key's hint and fingerprint (live), the keystore's
	// (not running), or empty when the keystore has no such reference.
	Key      string
	Live     bool
	Verified *time.Time
	VerifyOK bool
	VerifyEr string
	PerMin   float64
	Requests int64
	Errors   int64
}

// KeyLister is what a report needs of the keystore.
type KeyLister interface {
	Entries() ([]keystore.Entry, error)
}

// staleAfter: a report older than this (a few status intervals) is from a
// gateway that is gone.
const staleAfter = 10 * time.Second

// BuildReport reads the configuration and the last status report. ks may
// be nil (keystore unreadable: reason in keysErr).
func BuildReport(ctx context.Context, st *store.Store, ks KeyLister, keysErr error) (*Report, error) {
	r := &Report{}
	var err error
	if r.Routes, err = st.GatewayRoutes(ctx); err != nil {
		return nil, err
	}
	if r.Routes == nil {
		r.Routes = []store.GatewayRoute{}
	}
	keys, err := st.GatewayKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			r.Virtual++
		}
	}
	switch {
	case keysErr != nil:
		r.Note = keysErr.Error()
	case ks != nil:
		if r.Keystore, err = ks.Entries(); err != nil {
			r.Note = err.Error()
		}
	}
	if r.Keystore == nil {
		r.Keystore = []keystore.Entry{}
	}
	listen, pid, at, body, err := st.GatewayStatus(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	r.Listen, r.PID, r.Reported = listen, pid, &at
	alive := false
	if pid > 0 {
		err := syscall.Kill(pid, 0)
		alive = err == nil || errors.Is(err, syscall.EPERM) // EPERM: it exists, as another user
	}
	if alive && st.Now().Sub(at) < staleAfter {
		var s Status
		if err := json.Unmarshal(body, &s); err == nil {
			r.Running, r.Status = true, &s
		}
	}
	return r, nil
}

// Rows merges the configuration with the live report, route by route.
func (r *Report) Rows() []ReportRow {
	live := map[string]RouteStatus{}
	if r.Status != nil {
		for _, l := range r.Status.Routes {
			live[l.Model] = l
		}
	}
	byRef := map[string]keystore.Entry{}
	for _, e := range r.Keystore {
		byRef[e.Ref] = e
	}
	rows := make([]ReportRow, 0, len(r.Routes))
	for _, rt := range r.Routes {
		row := ReportRow{Model: rt.Model, Provider: rt.Provider, KeyRef: rt.KeyRef}
		if e, ok := byRef[rt.KeyRef]; ok {
			row.Key = e.Hint + " " + e.Fingerprint
		}
		if l, ok := live[rt.Model]; ok {
			row.Live = true
			row.Key = ""
			if l.KeyFP != "" {
				row.Key = l.KeyHint + " " + l.KeyFP
			}
			if v := l.LastVerify; v != nil {
				at := v.At
				row.Verified, row.VerifyOK, row.VerifyEr = &at, v.OK, v.Error
			}
			row.PerMin, row.Requests, row.Errors = l.RatePerMinute, l.Requests, l.Errors
		}
		rows = append(rows, row)
	}
	return rows
}

// RoutesFor finds the keystore reference holding a key with this
// fingerprint and the routes that use it: an exposed LLM key the gateway
// serves with, to be rotated and re-routed.
func (r *Report) RoutesFor(fingerprint string) (ref string, routes []string) {
	for _, e := range r.Keystore {
		if e.Fingerprint == fingerprint {
			ref = e.Ref
			break
		}
	}
	if ref == "" {
		return "", nil
	}
	for _, rt := range r.Routes {
		if rt.KeyRef == ref {
			routes = append(routes, rt.Model)
		}
	}
	return ref, routes
}

// Headline is the report's first line.
func (r *Report) Headline() string {
	if r.Running {
		return fmt.Sprintf("gateway running on http://%s (pid %d, since %s), %d routes, %d virtual keys", r.Listen, r.PID,
			r.Status.Started.UTC().Format(time.DateTime)+" UTC", len(r.Routes), r.Virtual)
	}
	return fmt.Sprintf("gateway not running (start it with `tourniquet gateway serve`); %d routes, %d virtual keys", len(r.Routes), r.Virtual)
}

// WaitSwitched waits until a running gateway serves every route that uses
// keystore reference ref with the key whose fingerprint is fp: what a
// rotation must see before it revokes the old key. With no gateway
// running there is nothing to wait for (a gateway verifies the keystore's
// keys when it starts). A failed canary with that key is an error: the
// gateway kept the old key, so the old key must stay valid.
func WaitSwitched(ctx context.Context, st *store.Store, ref, fp string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		r, err := BuildReport(ctx, st, nil, nil)
		if err != nil {
			return fmt.Errorf("gateway status: %w", err)
		}
		if !r.Running {
			return nil
		}
		pending := []string{}
		for _, l := range r.Status.Routes {
			if l.KeyRef != ref {
				continue
			}
			if v := l.LastVerify; v != nil && v.Key == fp && !v.OK {
				return fmt.Errorf("the gateway's canary request with the new key failed on route %s (%s): it keeps serving with the old key, which must not be revoked yet", l.Model, v.Error)
			}
			if l.KeyFP != fp {
				pending = append(pending, l.Model)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gateway on %s has not switched routes %v to the new key after %v", r.Listen, pending, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
