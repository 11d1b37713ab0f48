package gateway

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// RouteStatus is what `gateway status` and the console show of a route.
type RouteStatus struct {
	Model         string        `json:"model"`
	Provider      string        `json:"provider"`
	BaseURL       string        `json:"base_url"`
	KeyRef        string        `json:"key_ref"`
	KeyFP         string        `json:"key_fingerprint,omitempty"`
	KeyHint       string        `json:"key_hint,omitempty"`
	LastVerify    *verification `json:"last_verification,omitempty"`
	Requests      int64         `json:"requests"`
	Errors        int64         `json:"errors"`
	RatePerMinute float64       `json:"requests_per_minute"`
}

// Status is a running gateway's report.
type Status struct {
	Started time.Time     `json:"started"`
	Routes  []RouteStatus `json:"routes"`
	Keys    int           `json:"virtual_keys"`
}

// Status builds the report.
func (s *Server) Status() Status {
	snap := s.cur.Load()
	st := Status{Started: s.started, Keys: len(snap.byID)}
	mins := s.o.Now().Sub(s.started).Minutes()
	for _, r := range snap.routes {
		rs := RouteStatus{Model: r.Model, Provider: r.Provider, BaseURL: r.base.String(), KeyRef: r.KeyRef,
			LastVerify: r.lastVerify.Load(), Requests: r.requests.Load(), Errors: r.errors.Load()}
		if c := r.cred.Load(); c != nil {
			rs.KeyFP, rs.KeyHint = c.fp, c.secret.Hint()
		}
		if mins > 0 {
			rs.RatePerMinute = float64(rs.Requests) / mins
		}
		st.Routes = append(st.Routes, rs)
	}
	sort.Slice(st.Routes, func(i, j int) bool { return st.Routes[i].Model < st.Routes[j].Model })
	return st
}

// WriteStatus records the status report `gateway status`, the console and
// rotations waiting for a switch read.
func (s *Server) WriteStatus(ctx context.Context) {
	b, err := json.Marshal(s.Status())
	if err != nil {
		return
	}
	err = s.o.Store.Update(ctx, func(tx *store.Tx) error {
		return tx.PutGatewayStatus(ctx, s.Listen, os.Getpid(), b)
	})
	if err != nil {
		s.o.Logger.Warn("write gateway status", "err", err)
	}
}
