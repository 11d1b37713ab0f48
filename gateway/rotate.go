package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// canaryTimeout bounds a canary request.
const canaryTimeout = 15 * time.Second

// canary proves a provider key works on a route's upstream with a request
// that costs nothing: listing models.
func (s *Server) canary(ctx context.Context, rt *route, sec redact.Secret) error {
	ctx, cancel := context.WithTimeout(ctx, canaryTimeout)
	defer cancel()
	u := *rt.base
	u.Path += "/v1/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	setProviderAuth(req, rt.Provider, &credential{secret: sec})
	if rt.Provider == "anthropic" {
		req.Header.Set("Anthropic-Version", "2023-06-01")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("canary to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("canary to %s: status %d", u.Host, resp.StatusCode)
	}
	return nil
}

// verifyAndSwitch moves a route to a new key only when a canary with it
// succeeds; otherwise the route keeps its key and a finding is raised. The
// switch is one atomic pointer store: requests in flight finish with the key
// they started with.
func (s *Server) verifyAndSwitch(ctx context.Context, rt *route, sec redact.Secret) {
	fp := sec.Fingerprint()
	old := rt.cred.Load()
	err := s.canary(ctx, rt, sec)
	now := s.o.Now().UTC()
	v := &verification{At: now, OK: err == nil, Key: fp}
	if err != nil {
		v.Error = err.Error()
	}
	rt.lastVerify.Store(v)
	data := map[string]any{"route": rt.Model, "key_ref": rt.KeyRef, "new_key": fp, "new_hint": sec.Hint()}
	if old != nil {
		data["old_key"] = old.fp
	}
	if err != nil {
		data["error"] = err.Error()
		s.audit.add("gateway.canary_failed", rt.Model, data)
		s.finding(ctx, rt, fmt.Sprintf("the new key %s for route %s failed its canary (%v): the route keeps %s", sec.Hint(), rt.Model, err, keepWhat(old)))
		return
	}
	rt.cred.Store(&credential{secret: sec, fp: fp, verifiedAt: now})
	kind := "gateway.route_verified"
	if old != nil {
		kind = "gateway.route_switched"
	}
	s.audit.add(kind, rt.Model, data)
}

func keepWhat(c *credential) string {
	if c == nil {
		return "no key (it refuses requests until a key passes)"
	}
	return "its current key " + c.fp
}

// finding records a gateway finding in the incident (under the "gateway"
// target), so that the console and exports show it.
func (s *Server) finding(ctx context.Context, rt *route, detail string) {
	now := s.o.Now().UTC()
	err := s.o.Store.Update(ctx, func(tx *store.Tx) error {
		inc, err := tx.EnsureIncident(ctx, s.o.Incident)
		if err != nil {
			return err
		}
		hid, err := tx.UpsertHost(ctx, inc, store.Host{Kind: "cloud", Name: "gateway", Root: "-", ScannedAt: &now, Verdict: store.VerdictUnknown})
		if err != nil {
			return err
		}
		_, err = tx.UpsertFinding(ctx, hid, store.Finding{ID: "f-gw-canary-" + rt.Model, Pack: "tourniquet-gateway", Rule: "canary-failed",
			Severity: "high", Path: "gateway:" + rt.Model, Detail: detail, ObservedAt: &now, Confidence: "confirmed"})
		return err
	})
	if err != nil {
		s.o.Logger.Error("record gateway finding", "err", err)
	}
}
