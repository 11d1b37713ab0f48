package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// auditBatcher takes audit records from the hot path and writes them in
// batches, so that no request waits on disk. Requests are many: each flush
// writes them as "gateway.requests" events of up to maxRequestsPerEvent
// requests each (every request's metadata is on the chain, one row per
// batch rather than per request, which would flood the log at thousands of
// requests a second). Other events (switches, canaries, refusals) are rare
// and written one by one. Spend counters ride along.
type auditBatcher struct {
	st       *store.Store
	incident string
	log      *slog.Logger

	mu       sync.Mutex
	requests []json.RawMessage // canonical request records, oldest first
	events   []auditItem
	spent    map[string]int64 // spent and not yet saved, by key id
	// total is each key's spend as this gateway knows it: what the database
	// held when the key was first loaded plus everything spent since. Only
	// this process spends a key's budget, so it is the authority; reading
	// it live (not a copy taken at reload) leaves no window in which a
	// spent budget is not enforced.
	total   map[string]int64
	dropped int64
	// flushing serialises flushes (the ticker's and Run's last one).
	flushing sync.Mutex
}

type auditItem struct {
	kind, subject string
	data          map[string]any
}

const (
	// maxPending bounds what waits for the disk; beyond it records are
	// counted as lost, and the loss is audited.
	maxPending          = 1 << 17
	maxRequestsPerEvent = 2000
	flushEvery          = 200 * time.Millisecond
)

func newAuditBatcher(st *store.Store, incident string, log *slog.Logger) *auditBatcher {
	return &auditBatcher{st: st, incident: incident, log: log, spent: map[string]int64{}, total: map[string]int64{}}
}

// add queues a (rare) event of its own.
func (a *auditBatcher) add(kind, subject string, data map[string]any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.events) >= maxPending {
		a.dropped++
		return
	}
	a.events = append(a.events, auditItem{kind: kind, subject: subject, data: data})
}

// addRequest queues a request's record, canonical JSON already.
func (a *auditBatcher) addRequest(raw json.RawMessage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.requests) >= maxPending {
		a.dropped++
		return
	}
	a.requests = append(a.requests, raw)
}

func (a *auditBatcher) spend(id string, n int64) {
	a.mu.Lock()
	a.spent[id] += n
	a.total[id] += n
	a.mu.Unlock()
}

// knownSpend records what the database says a key spent, the first time
// the key is seen.
func (a *auditBatcher) knownSpend(id string, saved int64) {
	a.mu.Lock()
	if _, ok := a.total[id]; !ok {
		a.total[id] = saved
	}
	a.mu.Unlock()
}

// spentBy is a key's spend so far, saved or not.
func (a *auditBatcher) spentBy(id string) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total[id]
}

func (a *auditBatcher) run(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.flush(ctx)
		}
	}
}

// requestsEvent builds the canonical data of a batch of request records:
// {"count":N,"requests":[...]} (keys in order, records canonical).
func requestsEvent(recs []json.RawMessage) json.RawMessage {
	n := 32
	for _, r := range recs {
		n += len(r) + 1
	}
	b := bytes.NewBuffer(make([]byte, 0, n))
	fmt.Fprintf(b, `{"count":%d,"requests":[`, len(recs))
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// flush writes everything queued in one transaction.
func (a *auditBatcher) flush(ctx context.Context) {
	a.flushing.Lock()
	defer a.flushing.Unlock()
	a.mu.Lock()
	reqs, evs := a.requests, a.events
	a.requests, a.events = nil, nil
	// Unsaved spend is subtracted only once it is committed (a failed flush
	// keeps it for the next).
	spent := make(map[string]int64, len(a.spent))
	for id, n := range a.spent {
		spent[id] = n
	}
	dropped := a.dropped
	a.dropped = 0
	a.mu.Unlock()
	if len(reqs) == 0 && len(evs) == 0 && len(spent) == 0 && dropped == 0 {
		return
	}
	err := a.st.Update(ctx, func(tx *store.Tx) error {
		for rest := reqs; len(rest) > 0; {
			chunk := rest[:min(len(rest), maxRequestsPerEvent)]
			rest = rest[len(chunk):]
			if _, err := tx.AuditCanonical(ctx, a.incident, "gateway.requests", fmt.Sprintf("%d requests", len(chunk)), requestsEvent(chunk)); err != nil {
				return err
			}
		}
		for _, it := range evs {
			if _, err := tx.Audit(ctx, a.incident, it.kind, it.subject, it.data); err != nil {
				return err
			}
		}
		if dropped > 0 {
			if _, err := tx.Audit(ctx, a.incident, "gateway.audit_overflow", "gateway", map[string]any{"records_lost": dropped}); err != nil {
				return err
			}
		}
		return tx.AddGatewaySpend(ctx, spent)
	})
	if err != nil {
		// Nothing is lost silently: the records go back to the front of the
		// queue for the next flush (within the bound).
		a.log.Error("audit flush failed; retrying at the next", "requests", len(reqs), "events", len(evs), "err", err)
		a.mu.Lock()
		a.requests = append(reqs, a.requests...)
		a.events = append(evs, a.events...)
		a.dropped += dropped
		if over := len(a.requests) - maxPending; over > 0 {
			a.requests = a.requests[over:]
			a.dropped += int64(over)
		}
		a.mu.Unlock()
		return
	}
	a.mu.Lock()
	for id, n := range spent {
		if a.spent[id] -= n; a.spent[id] <= 0 {
			delete(a.spent, id)
		}
	}
	a.mu.Unlock()
}
