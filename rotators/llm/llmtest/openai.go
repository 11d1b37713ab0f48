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

// OpenAI is a stateful fake of the OpenAI API parts the rotator uses,
// written from the official description: /models, projects, project API
// keys, service accounts and completions usage. With a Prism attached, every
// request is also sent to Prism, and any request Prism rejects is recorded
// as a violation (tests fail on them).
type OpenAI struct {
	URL string // API root for the client (paths as in the description, no /v1)

	mu         sync.Mutex
	admin      map[string]bool
	projects   []string
	keys       map[string][]*oaiKey // by project
	sas        map[string][]*oaiSA
	usage      []oaiUsage
	prism      *Prism
	violations []string
	calls      []string
	seq        int
	// Propagation is how many /models calls a new service-account key is
	// refused for (a fresh key takes a moment to work).
	Propagation int
	fail        map[string]int
}

type oaiKey struct {
	id, name, value, owner, saID string
	created                      int64
	refusals                     int
}

type oaiSA struct {
	id, name string
	created  int64
}

type oaiUsage struct {
	project, key, model string
	day                 time.Time
	requests, in, out   int64
}

// NewOpenAI starts the fake; prism may be nil.
func NewOpenAI(t testing.TB, prism *Prism) *OpenAI {
	f := &OpenAI{admin: map[string]bool{}, keys: map[string][]*oaiKey{}, sas: map[string][]*oaiSA{}, prism: prism, fail: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// AddAdminKey accepts key on the Admin API.
func (f *OpenAI) AddAdminKey(key string) { f.mu.Lock(); f.admin[key] = true; f.mu.Unlock() }

// AddProject adds a project.
func (f *OpenAI) AddProject(id string) {
	f.mu.Lock()
	f.projects = append(f.projects, id)
	f.mu.Unlock()
}

// AddUserKey adds a user-owned project key and returns its ID.
func (f *OpenAI) AddUserKey(project, value, name string, created time.Time) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	k := &oaiKey{id: fmt.Sprintf("key_%04d", f.seq), name: name, value: value, owner: "user", created: created.Unix()}
	f.keys[project] = append(f.keys[project], k)
	return k.id
}

// AddUsage records usage of a key on a day.
func (f *OpenAI) AddUsage(project, keyID, model string, day time.Time, requests, in, out int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.usage = append(f.usage, oaiUsage{project, keyID, model, day.UTC().Truncate(24 * time.Hour), requests, in, out})
}

// FailNext answers the next n requests whose "METHOD path" starts with
// prefix with 503.
func (f *OpenAI) FailNext(prefix string, n int) { f.mu.Lock(); f.fail[prefix] = n; f.mu.Unlock() }

// KeyWorks reports whether value is a live API key.
func (f *OpenAI) KeyWorks(value string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.find(value) != nil
}

// Keys returns the live keys of a project: id -> owner ("user" or the
// service account ID).
func (f *OpenAI) Keys(project string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for _, k := range f.keys[project] {
		o := k.owner
		if k.saID != "" {
			o = k.saID
		}
		out[k.id] = o
	}
	return out
}

// ServiceAccounts returns the names of a project's service accounts.
func (f *OpenAI) ServiceAccounts(project string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sas[project] {
		out = append(out, s.name)
	}
	return out
}

// Violations are the requests Prism rejected.
func (f *OpenAI) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

// Calls lists "METHOD path" of every request, in order.
func (f *OpenAI) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *OpenAI) find(value string) *oaiKey {
	for _, ks := range f.keys {
		for _, k := range ks {
			if k.value == value {
				return k
			}
		}
	}
	return nil
}

func redacted(v string) string {
	if len(v) < 12 {
		return "sk-...."
	}
	return v[:6] + "..." + v[len(v)-4:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oaiError(w http.ResponseWriter, status int, msg, code string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "param": nil, "code": code}})
}

func (f *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if f.prism != nil {
		if err := f.prism.Validate(r.Method, r.URL.RequestURI(), r.Header, body); err != nil {
			f.mu.Lock()
			f.violations = append(f.violations, err.Error())
			f.mu.Unlock()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	call := r.Method + " " + r.URL.Path
	f.calls = append(f.calls, call)
	for p, n := range f.fail {
		if n > 0 && strings.HasPrefix(call, p) {
			f.fail[p] = n - 1
			oaiError(w, 503, "The server is overloaded", "server_error")
			return
		}
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.URL.Path == "/models" {
		k := f.find(auth)
		if k == nil || k.refusals > 0 {
			if k != nil {
				k.refusals--
			}
			oaiError(w, 401, "Incorrect API key provided: "+redacted(auth)+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_api_key")
			return
		}
		writeJSON(w, 200, map[string]any{"object": "list", "data": []any{map[string]any{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}}})
		return
	}
	if len(parts) < 2 || parts[0] != "organization" {
		oaiError(w, 404, "unknown path", "not_found")
		return
	}
	if !f.admin[auth] {
		oaiError(w, 401, "Invalid admin key", "invalid_api_key")
		return
	}
	switch {
	case len(parts) == 3 && parts[1] == "usage" && parts[2] == "completions" && r.Method == http.MethodGet:
		f.serveUsage(w, r)
	case len(parts) == 2 && parts[1] == "projects" && r.Method == http.MethodGet:
		var data []any
		for _, p := range f.projects {
			data = append(data, map[string]any{"id": p, "object": "organization.project", "name": "Project " + p, "created_at": 1711471533, "archived_at": nil, "status": "active"})
		}
		f.list(w, r, data)
	case len(parts) >= 4 && parts[1] == "projects":
		f.serveProject(w, r, parts[2], parts[3:], body)
	default:
		oaiError(w, 404, "unknown path", "not_found")
	}
}

// list answers one page of data, honouring limit and after.
func (f *OpenAI) list(w http.ResponseWriter, r *http.Request, data []any) {
	limit := 20
	if l, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && l > 0 {
		limit = l
	}
	start := 0
	if after := r.URL.Query().Get("after"); after != "" {
		for i, d := range data {
			if d.(map[string]any)["id"] == after {
				start = i + 1
			}
		}
	}
	end := min(len(data), start+limit)
	page := data[start:end]
	if page == nil {
		page = []any{}
	}
	var first, last any
	if len(page) > 0 {
		first, last = page[0].(map[string]any)["id"], page[len(page)-1].(map[string]any)["id"]
	}
	writeJSON(w, 200, map[string]any{"object": "list", "data": page, "first_id": first, "last_id": last, "has_more": end < len(data)})
}

func (f *OpenAI) keyJSON(k *oaiKey) map[string]any {
	owner := map[string]any{"type": "user", "user": map[string]any{"id": "user_abc", "email": "dev@example.com", "name": "Dev", "role": "owner", "created_at": 1711471533}}
	if k.saID != "" {
		owner = map[string]any{"type": "service_account", "service_account": map[string]any{"id": k.saID, "name": "sa", "role": "member", "created_at": k.created}}
	}
	return map[string]any{"object": "organization.project.api_key", "redacted_value": redacted(k.value), "name": k.name, "created_at": k.created,
		"last_used_at": nil, "id": k.id, "owner_project_access": "active", "owner": owner}
}

func (f *OpenAI) serveProject(w http.ResponseWriter, r *http.Request, project string, rest []string, body []byte) {
	known := false
	for _, p := range f.projects {
		known = known || p == project
	}
	if !known {
		oaiError(w, 404, "No such project", "not_found")
		return
	}
	switch {
	case rest[0] == "api_keys" && len(rest) == 1 && r.Method == http.MethodGet:
		var data []any
		for _, k := range f.keys[project] {
			data = append(data, f.keyJSON(k))
		}
		f.list(w, r, data)
	case rest[0] == "api_keys" && len(rest) == 2 && r.Method == http.MethodDelete:
		ks := f.keys[project]
		for i, k := range ks {
			if k.id == rest[1] {
				if k.saID != "" {
					oaiError(w, 400, "Cannot delete a service account's API key; delete the service account", "invalid_request")
					return
				}
				f.keys[project] = append(ks[:i:i], ks[i+1:]...)
				writeJSON(w, 200, map[string]any{"object": "organization.project.api_key.deleted", "id": k.id, "deleted": true})
				return
			}
		}
		oaiError(w, 404, "No such API key", "not_found")
	case rest[0] == "service_accounts" && len(rest) == 1 && r.Method == http.MethodGet:
		var data []any
		for _, s := range f.sas[project] {
			data = append(data, map[string]any{"object": "organization.project.service_account", "id": s.id, "name": s.name, "role": "member", "created_at": s.created})
		}
		f.list(w, r, data)
	case rest[0] == "service_accounts" && len(rest) == 1 && r.Method == http.MethodPost:
		var req struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(body, &req) != nil || req.Name == "" {
			oaiError(w, 400, "name is required", "invalid_request")
			return
		}
		f.seq++
		sa := &oaiSA{id: fmt.Sprintf("svc_acct_%04d", f.seq), name: req.Name, created: time.Now().Unix()}
		f.sas[project] = append(f.sas[project], sa)
		f.seq++
		k := &oaiKey{id: fmt.Sprintf("key_%04d", f.seq), name: "Secret Key", value: fmt.Sprintf("sk-svcacct-NEW%04dfakeKEYvalue0123456789abcdef", f.seq),
			owner: "service_account", saID: sa.id, created: sa.created, refusals: f.Propagation}
		f.keys[project] = append(f.keys[project], k)
		writeJSON(w, 200, map[string]any{"object": "organization.project.service_account", "id": sa.id, "name": sa.name, "role": "member", "created_at": sa.created,
			"api_key": map[string]any{"object": "organization.project.service_account.api_key", "value": k.value, "name": k.name, "created_at": k.created, "id": k.id}})
	case rest[0] == "service_accounts" && len(rest) == 2 && r.Method == http.MethodDelete:
		ss := f.sas[project]
		for i, s := range ss {
			if s.id == rest[1] {
				f.sas[project] = append(ss[:i:i], ss[i+1:]...)
				var keep []*oaiKey
				for _, k := range f.keys[project] {
					if k.saID != s.id {
						keep = append(keep, k)
					}
				}
				f.keys[project] = keep
				writeJSON(w, 200, map[string]any{"object": "organization.project.service_account.deleted", "id": s.id, "deleted": true})
				return
			}
		}
		oaiError(w, 404, "No such service account", "not_found")
	default:
		oaiError(w, 404, "unknown path", "not_found")
	}
}

// AddServiceAccountKey adds a service account with one key; it returns the
// service account and key IDs.
func (f *OpenAI) AddServiceAccountKey(project, name, value string, created time.Time) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	sa := &oaiSA{id: fmt.Sprintf("svc_acct_%04d", f.seq), name: name, created: created.Unix()}
	f.sas[project] = append(f.sas[project], sa)
	f.seq++
	k := &oaiKey{id: fmt.Sprintf("key_%04d", f.seq), name: name, value: value, owner: "service_account", saID: sa.id, created: created.Unix()}
	f.keys[project] = append(f.keys[project], k)
	return sa.id, k.id
}

func (f *OpenAI) serveUsage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
	if err != nil {
		oaiError(w, 400, "start_time is required", "invalid_request")
		return
	}
	end := time.Now().Unix()
	if e, err := strconv.ParseInt(q.Get("end_time"), 10, 64); err == nil {
		end = e
	}
	in := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	grouped := map[string]bool{}
	for _, g := range q["group_by"] {
		grouped[g] = true
	}
	byDay := map[int64][]any{}
	for _, u := range f.usage {
		d := u.day.Unix()
		if d < start-86400 || d >= end || !in(q["project_ids"], u.project) || !in(q["api_key_ids"], u.key) {
			continue
		}
		res := map[string]any{"object": "organization.usage.completions.result", "input_tokens": u.in, "output_tokens": u.out,
			"input_cached_tokens": 0, "num_model_requests": u.requests, "project_id": nil, "user_id": nil, "api_key_id": nil, "model": nil, "batch": nil}
		if grouped["api_key_id"] {
			res["api_key_id"] = u.key
		}
		if grouped["model"] {
			res["model"] = u.model
		}
		byDay[d] = append(byDay[d], res)
	}
	var days []int64
	for d := range byDay {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	var data []any
	for _, d := range days {
		data = append(data, map[string]any{"object": "bucket", "start_time": d, "end_time": d + 86400, "results": byDay[d]})
	}
	if data == nil {
		data = []any{}
	}
	writeJSON(w, 200, map[string]any{"object": "page", "data": data, "has_more": false, "next_page": nil})
}

// RemoveKey deletes the key with this value, as a person would in the
// dashboard.
func (f *OpenAI) RemoveKey(value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, ks := range f.keys {
		var keep []*oaiKey
		for _, k := range ks {
			if k.value != value {
				keep = append(keep, k)
			}
		}
		f.keys[p] = keep
	}
}
