package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// VirtualKeyPrefix starts every virtual key, so that scanners (ours
// included) can type a leaked one.
const VirtualKeyPrefix = "tqv-"

// NewVirtualKey returns a new key, its ID and the SHA-256 hex stored for it.
func NewVirtualKey() (key, id, hash string, err error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 40)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", "", "", err
		}
		b[i] = alphabet[n.Int64()]
	}
	key = VirtualKeyPrefix + string(b)
	sum := sha256.Sum256([]byte(key))
	hash = hex.EncodeToString(sum[:])
	return key, "vk-" + hash[:10], hash, nil
}

// vkey is a virtual key in memory: scope, budget, rate limit.
type vkey struct {
	store.GatewayKey
	models map[string]bool
	lim    *limiter
}

// limiter is a key's per-minute window; it outlives configuration reloads
// (a reload must not hand a client a fresh allowance).
type limiter struct {
	mu     sync.Mutex
	window time.Time
	count  int
}

func newVKey(k store.GatewayKey, lim *limiter) *vkey {
	if lim == nil {
		lim = &limiter{}
	}
	v := &vkey{GatewayKey: k, models: map[string]bool{}, lim: lim}
	for _, m := range k.Models {
		v.models[m] = true
	}
	return v
}

// allows reports whether the key may use a model (no models: every route).
func (v *vkey) allows(model string) bool { return len(v.models) == 0 || v.models[model] }

// admit applies the per-minute rate limit; it returns how long to wait when
// refused.
func (v *vkey) admit(now time.Time) (bool, time.Duration) {
	if v.RPM <= 0 {
		return true, 0
	}
	l := v.lim
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.window) >= time.Minute {
		l.window, l.count = now, 0
	}
	if l.count >= v.RPM {
		return false, time.Minute - now.Sub(l.window)
	}
	l.count++
	return true, 0
}

// overBudget reports whether the key has spent its token budget.
func (v *vkey) overBudget(spent int64) bool {
	return v.BudgetTokens > 0 && spent >= v.BudgetTokens
}

// presentedKey takes the client's key from Authorization: Bearer (OpenAI
// clients) or x-api-key (Anthropic clients).
func presentedKey(r *http.Request) string {
	if k := r.Header.Get("x-api-key"); k != "" {
		return k
	}
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

func hashKey(k string) [32]byte { return sha256.Sum256([]byte(k)) }

func keyHint(k string) string { return redact.Hint(k) }
