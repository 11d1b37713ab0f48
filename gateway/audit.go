package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/tourniquet-ir/tourniquet/store"
)

// auditBatcher takes audit events from the hot path through a channel and
// writes them in batches, so that no request waits on disk. Spend counters
// ride along.
type auditBatcher struct {
	st       *store.Store
	incident string
	log      *slog.Logger
	ch       chan auditItem
	mu       sync.Mutex
	spent    map[string]int64
	dropped  int64
}

type auditItem struct {
	kind, subject string
	data          map[string]any
	raw           json.RawMessage // canonical already (requests)
}

const auditQueue = 1 << 16

func newAuditBatcher(st *store.Store, incident string, log *slog.Logger) *auditBatcher {
	return &auditBatcher{st: st, incident: incident, log: log, ch: make(chan auditItem, auditQueue), spent: map[string]int64{}}
}

// add queues an event; if the queue is full (the disk cannot keep up), the
// event is counted and the loss is itself audited at the next flush.
func (a *auditBatcher) add(kind, subject string, data map[string]any) {
	a.queue(auditItem{kind: kind, subject: subject, data: data})
}

// addCanonical queues an event whose data is canonical JSON already.
func (a *auditBatcher) addCanonical(kind, subject string, raw json.RawMessage) {
	a.queue(auditItem{kind: kind, subject: subject, raw: raw})
}

func (a *auditBatcher) queue(it auditItem) {
	select {
	case a.ch <- it:
	default:
		a.mu.Lock()
		a.dropped++
		a.mu.Unlock()
	}
}

func (a *auditBatcher) spend(id string, n int64) {
	a.mu.Lock()
	a.spent[id] += n
	a.mu.Unlock()
}

// pending is what a key spent that is not saved yet.
func (a *auditBatcher) pending(id string) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.spent[id]
}

func (a *auditBatcher) run(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
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

// flush writes what is queued, in one transaction per 2,000 events.
func (a *auditBatcher) flush(ctx context.Context) {
	for {
		var batch []auditItem
	collect:
		for len(batch) < 2000 {
			select {
			case it := <-a.ch:
				batch = append(batch, it)
			default:
				break collect
			}
		}
		// Pending spend is subtracted only after it is committed: a reload in
		// between then counts it twice (refusing early), never zero times.
		a.mu.Lock()
		spent := make(map[string]int64, len(a.spent))
		for id, n := range a.spent {
			spent[id] = n
		}
		dropped := a.dropped
		a.dropped = 0
		a.mu.Unlock()
		if len(batch) == 0 && len(spent) == 0 && dropped == 0 {
			return
		}
		err := a.st.Update(ctx, func(tx *store.Tx) error {
			for i, it := range batch {
				var err error
				if it.raw != nil {
					_, err = tx.AuditCanonical(ctx, a.incident, it.kind, it.subject, it.raw)
				} else {
					_, err = tx.Audit(ctx, a.incident, it.kind, it.subject, it.data)
				}
				if err != nil {
					return err
				}
				// The gateway may have a single core: let requests through
				// between events instead of holding it for a whole batch.
				if i%8 == 7 {
					runtime.Gosched()
				}
			}
			if dropped > 0 {
				if _, err := tx.Audit(ctx, a.incident, "gateway.audit_overflow", "gateway", map[string]any{"events_lost": dropped}); err != nil {
					return err
				}
			}
			return tx.AddGatewaySpend(ctx, spent)
		})
		if err != nil {
			a.log.Error("audit flush failed", "events", len(batch), "err", err)
			return
		}
		a.mu.Lock()
		for id, n := range spent {
			if a.spent[id] -= n; a.spent[id] <= 0 {
				delete(a.spent, id)
			}
		}
		a.mu.Unlock()
		if len(batch) < 2000 {
			return
		}
	}
}
