package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Anthropic is a stateful fake of the Anthropic API parts the rotator uses,
// written from the Admin API documentation (Anthropic publishes no OpenAPI
// description): GET /v1/organizations/api_keys (limit, after_id, has_more,
// last_id), POST /v1/organizations/api_keys/{id} ({"status"}), GET
// /v1/organizations/usage_report/messages (starting_at, ending_at,
// group_by[], api_key_ids[]) and GET /v1/models (x-api-key and
// anthropic-version required).
type Anthropic struct {
	URL string

	mu    sync.Mutex
	admin map[string]bool
	keys  []*anKey
	usage []anUsage
	calls []string
	seq   int
	fail  map[string]int
}

type anKey struct {
	id, name, value, status, workspace string
	created                            time.Time
}

type anUsage struct {
	key, model string
	day        time.Time
	in, out    int64
}

// NewAnthropic starts the fake.
func NewAnthropic(t testing.TB) *Anthropic {
	f := &Anthropic{admin: map[string]bool{}, fail: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// AddAdminKey accepts key on the Admin API.
func (f *Anthropic) AddAdminKey(key string) { f.mu.Lock(); f.admin[key] = true; f.mu.Unlock() }

// AddKey adds an active API key and returns its ID.
func (f *Anthropic) AddKey(value, name string, created time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	k := &anKey{id: fmt.Sprintf("apikey_%04d", f.seq), name: name, value: value, status: "active", workspace: "wrkspc_default", created: created}
	f.keys = append(f.keys, k)
	return k.id
}

// AddUsage records token usage of a key on a day.
func (f *Anthropic) AddUsage(keyID, model string, day time.Time, in, out int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage = append(f.usage, anUsage{keyID, model, day.UTC().Truncate(24 * time.Hour), in, out})
}

// Status returns a key's status.
func (f *Anthropic) Status(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.id == id {
			return k.status
		}
	}
	return ""
}

// KeyWorks reports whether value is an active key.
func (f *Anthropic) KeyWorks(value string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.value == value && k.status == "active" {
			return true
		}
	}
	return false
}

// FailNext answers the next n requests whose "METHOD path" starts with
// prefix with 529 (overloaded).
func (f *Anthropic) FailNext(prefix string, n int) { f.mu.Lock(); f.fail[prefix] = n; f.mu.Unlock() }

// Calls lists "METHOD path" of every request.
func (f *Anthropic) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func anError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}

func hint(v string) string {
	if len(v) < 20 {
		return "sk-ant-..."
	}
	return v[:16] + "..." + v[len(v)-4:]
}

func (f *Anthropic) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	defer f.mu.Unlock()
	call := r.Method + " " + r.URL.Path
	f.calls = append(f.calls, call)
	for p, n := range f.fail {
		if n > 0 && strings.HasPrefix(call, p) {
			f.fail[p] = n - 1
			anError(w, 529, "overloaded_error", "Overloaded")
			return
		}
	}
	if r.Header.Get("anthropic-version") == "" {
		anError(w, 400, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	key := r.Header.Get("x-api-key")
	if r.URL.Path == "/v1/models" && r.Method == http.MethodGet {
		for _, k := range f.keys {
			if k.value == key && k.status == "active" {
				writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}},
					"has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"})
				return
			}
		}
		anError(w, 401, "authentication_error", "invalid x-api-key")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1/organizations/") {
		anError(w, 404, "not_found_error", "Not found")
		return
	}
	if !f.admin[key] {
		anError(w, 401, "authentication_error", "invalid x-api-key")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, "/v1/organizations/")
	switch {
	case rest == "api_keys" && r.Method == http.MethodGet:
		q := r.URL.Query()
		limit := 20
		if l, err := strconv.Atoi(q.Get("limit")); err == nil {
			if l < 1 || l > 1000 {
				anError(w, 400, "invalid_request_error", "limit: must be between 1 and 1000")
				return
			}
			limit = l
		}
		start := 0
		if a := q.Get("after_id"); a != "" {
			for i, k := range f.keys {
				if k.id == a {
					start = i + 1
				}
			}
		}
		end := min(len(f.keys), start+limit)
		data := []any{}
		for _, k := range f.keys[start:end] {
			data = append(data, f.keyJSON(k))
		}
		var first, last any
		if end > start {
			first, last = f.keys[start].id, f.keys[end-1].id
		}
		writeJSON(w, 200, map[string]any{"data": data, "has_more": end < len(f.keys), "first_id": first, "last_id": last})
	case strings.HasPrefix(rest, "api_keys/") && r.Method == http.MethodPost:
		id := strings.TrimPrefix(rest, "api_keys/")
		var req struct {
			Name   *string `json:"name"`
			Status *string `json:"status"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			anError(w, 400, "invalid_request_error", "body: invalid JSON")
			return
		}
		if req.Status != nil && *req.Status != "active" && *req.Status != "inactive" && *req.Status != "archived" {
			anError(w, 400, "invalid_request_error", "status: must be active, inactive or archived")
			return
		}
		for _, k := range f.keys {
			if k.id == id {
				if req.Status != nil {
					k.status = *req.Status
				}
				if req.Name != nil {
					k.name = *req.Name
				}
				writeJSON(w, 200, f.keyJSON(k))
				return
			}
		}
		anError(w, 404, "not_found_error", "API key not found")
	case rest == "usage_report/messages" && r.Method == http.MethodGet:
		f.serveUsage(w, r)
	default:
		anError(w, 404, "not_found_error", "Not found")
	}
}

func (f *Anthropic) keyJSON(k *anKey) map[string]any {
	return map[string]any{"type": "api_key", "id": k.id, "name": k.name, "partial_key_hint": hint(k.value), "status": k.status,
		"workspace_id": k.workspace, "created_at": k.created.UTC().Format(time.RFC3339Nano), "created_by": map[string]any{"id": "user_01", "type": "user"}}
}

func (f *Anthropic) serveUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err := time.Parse(time.RFC3339, q.Get("starting_at"))
	if err != nil {
		anError(w, 400, "invalid_request_error", "starting_at: must be an RFC 3339 timestamp")
		return
	}
	end := time.Now().UTC()
	if e := q.Get("ending_at"); e != "" {
		if end, err = time.Parse(time.RFC3339, e); err != nil {
			anError(w, 400, "invalid_request_error", "ending_at: must be an RFC 3339 timestamp")
			return
		}
	}
	groups := append(q["group_by[]"], q["group_by"]...)
	ids := append(q["api_key_ids[]"], q["api_key_ids"]...)
	byKey := false
	for _, g := range groups {
		if g == "api_key_id" {
			byKey = true
		}
	}
	byDay := map[time.Time][]any{}
	for _, u := range f.usage {
		if u.day.Before(start.Truncate(24*time.Hour)) || !u.day.Before(end) {
			continue
		}
		if len(ids) > 0 {
			ok := false
			for _, id := range ids {
				ok = ok || id == u.key
			}
			if !ok {
				continue
			}
		}
		res := map[string]any{"uncached_input_tokens": u.in, "cache_read_input_tokens": 0,
			"cache_creation": map[string]any{"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
			"output_tokens":  u.out, "api_key_id": nil, "workspace_id": nil, "model": u.model, "service_tier": nil, "context_window": nil}
		if byKey {
			res["api_key_id"] = u.key
		}
		byDay[u.day] = append(byDay[u.day], res)
	}
	var days []time.Time
	for d := range byDay {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Before(days[j]) })
	data := []any{}
	for _, d := range days {
		data = append(data, map[string]any{"starting_at": d.Format(time.RFC3339), "ending_at": d.Add(24 * time.Hour).Format(time.RFC3339), "results": byDay[d]})
	}
	writeJSON(w, 200, map[string]any{"data": data, "has_more": false, "next_page": nil})
}

// SetStatus changes a key's status, as a person would in the Console.
func (f *Anthropic) SetStatus(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if k.id == id {
			k.status = status
		}
	}
}
