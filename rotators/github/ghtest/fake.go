package ghtest

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/nacl/box"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
)

// Fake is a stateful GitHub REST API of our own (Prism is stateless): every
// endpoint of ghc.Endpoints, with real sealed-box secrets, pagination,
// permissions, revocation, and injected faults (rate limits, 404, 422, 5xx).
// It answers only requests that match the catalogue.
type Fake struct {
	URL string // API root, ending in "/"

	mu       sync.Mutex
	now      func() time.Time
	users    map[string]*user // token -> user
	revoked  map[string]bool  // tokens revoked through /credentials/revoke
	repos    map[string]*FakeRepo
	orgs     map[string]bool
	keys     map[string][]ghc.Key // "user:LOGIN" or "repo:OWNER/REPO"
	nextID   int64
	pub      map[string]*[32]byte // scope key -> public key
	priv     map[string]*[32]byte
	secrets  map[string]*fakeSecret // scope key + "/" + name
	audit    []map[string]any
	auditOn  bool
	faults   []*fault
	deny     map[string]bool // endpoint IDs answered 403
	calls    []Call
	revokeRq [][]string
}

// FakeRepo is a repository with its workflows, runs and logs.
type FakeRepo struct {
	Owner, Name string
	ID          int64
	Created     time.Time
	Private     bool
	// Files maps "PATH" (default branch) or "PATH@REF" to content.
	Files map[string]string
	Runs  []FakeRun
	Envs  []string
}

// FakeRun is a workflow run; LogZip nil means its logs are gone (410).
type FakeRun struct {
	ID        int64
	Path      string
	HeadSHA   string
	Created   time.Time
	Updated   time.Time
	Event     string
	LogZip    []byte
	BrokenZip bool              // the archive URL answers 500: the collector goes job by job
	JobLogs   map[string]string // job name -> text
}

type user struct {
	login  string
	scopes string
}

type fakeSecret struct {
	name       string
	created    time.Time
	updated    time.Time
	value      []byte
	visibility string
}

// Call is one request the fake answered.
type Call struct {
	Endpoint string
	Method   string
	Path     string
	Status   int
	Auth     bool
}

type fault struct {
	endpoint string
	status   int
	header   http.Header
	body     string
	left     int
}

// NewFake starts a fake on a loopback port, stopped in t.Cleanup.
func NewFake(t testing.TB) *Fake {
	f := &Fake{now: time.Now, users: map[string]*user{}, revoked: map[string]bool{}, repos: map[string]*FakeRepo{},
		orgs: map[string]bool{}, keys: map[string][]ghc.Key{}, nextID: 1000, pub: map[string]*[32]byte{}, priv: map[string]*[32]byte{},
		secrets: map[string]*fakeSecret{}, deny: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL + "/"
	return f
}

// AddToken makes a token valid for a user, with classic scopes.
func (f *Fake) AddToken(token, login, scopes string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[token] = &user{login: login, scopes: scopes}
}

// Revoked reports whether a token was revoked, and the revocation requests.
func (f *Fake) Revoked(token string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.revoked[token]
}

// RevokeRequests returns the credential lists POSTed to /credentials/revoke.
func (f *Fake) RevokeRequests() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.revokeRq...)
}

// AddOrg declares an organization.
func (f *Fake) AddOrg(org string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orgs[org] = true
}

// AddRepo adds a repository.
func (f *Fake) AddRepo(r *FakeRepo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	r.ID = f.nextID
	if r.Files == nil {
		r.Files = map[string]string{}
	}
	f.repos[r.Owner+"/"+r.Name] = r
}

// SetSecret creates a secret with a value and dates (scope: "OWNER/REPO",
// "OWNER/REPO/env:ENV" or "org:ORG").
func (f *Fake) SetSecret(scope, name, value string, updated time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.secrets[scope+"/"+name] = &fakeSecret{name: name, created: updated, updated: updated, value: []byte(value), visibility: "all"}
}

// SecretValue decrypts a secret's stored value (what a job would see).
func (f *Fake) SecretValue(scope, name string) (string, time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.secrets[scope+"/"+name]
	if !ok {
		return "", time.Time{}, false
	}
	return string(s.value), s.updated, true
}

// AddKey adds a deploy key ("repo:OWNER/REPO") or user key ("user:LOGIN").
func (f *Fake) AddKey(owner, title, pub string, readOnly bool, created time.Time) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.keys[owner] = append(f.keys[owner], ghc.Key{ID: f.nextID, Key: pub, Title: title, ReadOnly: readOnly, Verified: true, CreatedAt: created})
	return f.nextID
}

// Keys lists the keys of an owner.
func (f *Fake) Keys(owner string) []ghc.Key {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ghc.Key(nil), f.keys[owner]...)
}

// EnableAuditLog makes the audit log endpoint answer (Enterprise Cloud);
// without it, it answers 404 as other plans do.
func (f *Fake) EnableAuditLog(events ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auditOn = true
	f.audit = append(f.audit, events...)
}

// Deny answers an endpoint 403 (a token lacking a scope or permission).
func (f *Fake) Deny(endpointID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deny[endpointID] = true
}

// FailNext answers the next n requests to an endpoint ("" for any) with a
// status, headers and body, without acting.
func (f *Fake) FailNext(endpointID string, n, status int, header http.Header, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &fault{endpoint: endpointID, status: status, header: header, body: body, left: n})
}

// Calls returns the requests answered so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// CallCount counts answered requests to an endpoint with a status class
// (0: any).
func (f *Fake) CallCount(endpointID string, status int) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Endpoint == endpointID && (status == 0 || c.Status == status) {
			n++
		}
	}
	return n
}

// RunLogZip builds a run log archive: one "JOB/1_Set up job.txt" per job.
func RunLogZip(jobs map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(jobs))
	for n := range jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, _ := zw.Create(n + "/1_Set up job.txt")
		_, _ = io.WriteString(w, jobs[n])
	}
	_ = zw.Close()
	return buf.Bytes()
}

// ResolvedLine is the runner's log line for a resolved action.
func ResolvedLine(at time.Time, action, ref, sha string) string {
	return fmt.Sprintf("%s Download action repository '%s@%s' (SHA:%s)\n", at.UTC().Format("2006-01-02T15:04:05.0000000Z"), action, ref, sha)
}

type rec struct {
	http.ResponseWriter
	status int
}

func (r *rec) WriteHeader(s int) {
	r.status = s
	r.ResponseWriter.WriteHeader(s)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_logs/") {
		f.serveLogs(w, r)
		return
	}
	ep, ok := ghc.MatchEndpoint(r.Method, r.URL.Path)
	rw := &rec{ResponseWriter: w, status: 200}
	defer func() {
		f.mu.Lock()
		f.calls = append(f.calls, Call{Endpoint: ep.ID, Method: r.Method, Path: r.URL.Path, Status: rw.status, Auth: r.Header.Get("Authorization") != ""})
		f.mu.Unlock()
	}()
	if !ok {
		jsonErr(rw, 404, "Not Found (not in the catalogue)")
		return
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		jsonErr(rw, 406, "the client must send Accept: application/json, got "+a)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if ft.left > 0 && (ft.endpoint == "" || ft.endpoint == ep.ID) {
			ft.left--
			if ft.left == 0 {
				f.faults = append(f.faults[:i], f.faults[i+1:]...)
			}
			for k, v := range ft.header {
				rw.Header()[k] = v
			}
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(ft.status)
			_, _ = io.WriteString(rw, ft.body)
			return
		}
	}
	var u *user
	if ep.Anonymous {
		if r.Header.Get("Authorization") != "" {
			jsonErr(rw, 403, "authenticated requests are refused by this endpoint")
			return
		}
	} else {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		u = f.users[tok]
		if u == nil || f.revoked[tok] {
			jsonErr(rw, 401, "Bad credentials")
			return
		}
		rw.Header().Set("X-OAuth-Scopes", u.scopes)
	}
	rw.Header().Set("X-RateLimit-Limit", "5000")
	rw.Header().Set("X-RateLimit-Remaining", "4999")
	rw.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.now().Add(time.Hour).Unix(), 10))
	if f.deny[ep.ID] {
		jsonErr(rw, 403, "Resource not accessible by personal access token")
		return
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	f.route(rw, r, ep, seg, u)
}

func jsonErr(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// page slices items by ?page and ?per_page and sets the Link header.
func page[T any](w http.ResponseWriter, r *http.Request, items []T) []T {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if p <= 0 {
		p = 1
	}
	start := (p - 1) * per
	if start >= len(items) {
		return []T{}
	}
	end := min(start+per, len(items))
	if end < len(items) {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p+1))
		q.Set("per_page", strconv.Itoa(per))
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, u.String()))
	}
	return items[start:end]
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (f *Fake) repoJSON(r *FakeRepo) map[string]any {
	return map[string]any{"id": r.ID, "name": r.Name, "full_name": r.Owner + "/" + r.Name, "owner": map[string]any{"login": r.Owner},
		"private": r.Private, "created_at": ts(r.Created), "html_url": "https://github.com/" + r.Owner + "/" + r.Name}
}

func (f *Fake) reposOf(owner string) []map[string]any {
	var names []string
	for k, r := range f.repos {
		if r.Owner == owner {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out []map[string]any
	for _, n := range names {
		out = append(out, f.repoJSON(f.repos[n]))
	}
	return out
}

func (f *Fake) scopeKey(seg []string) string {
	switch {
	case seg[0] == "orgs":
		return "org:" + seg[1]
	case len(seg) > 4 && seg[3] == "environments":
		env, _ := url.PathUnescape(seg[4])
		return seg[1] + "/" + seg[2] + "/env:" + env
	}
	return seg[1] + "/" + seg[2]
}

func (f *Fake) route(w http.ResponseWriter, r *http.Request, ep ghc.Endpoint, seg []string, u *user) {
	switch ep.ID {
	case "users/get-authenticated":
		writeJSON(w, 200, map[string]any{"login": u.login, "id": 1})
	case "repos/list-for-org":
		if !f.orgs[seg[1]] {
			jsonErr(w, 404, "Not Found")
			return
		}
		writeJSON(w, 200, page(w, r, f.reposOf(seg[1])))
	case "repos/list-for-user":
		writeJSON(w, 200, page(w, r, f.reposOf(seg[1])))
	case "repos/list-for-authenticated-user":
		writeJSON(w, 200, page(w, r, f.reposOf(u.login)))
	case "repos/get-content":
		f.content(w, r, seg)
	case "actions/list-workflow-runs-for-repo":
		repo := f.repos[seg[1]+"/"+seg[2]]
		if repo == nil {
			jsonErr(w, 404, "Not Found")
			return
		}
		runs := append([]FakeRun(nil), repo.Runs...)
		sort.Slice(runs, func(i, j int) bool { return runs[i].Created.After(runs[j].Created) })
		var out []map[string]any
		for _, run := range runs {
			out = append(out, map[string]any{"id": run.ID, "name": run.Path, "path": run.Path, "event": orStr(run.Event, "push"), "status": "completed",
				"conclusion": "success", "head_sha": run.HeadSHA, "head_branch": "main", "run_attempt": 1, "created_at": ts(run.Created),
				"run_started_at": ts(run.Created), "updated_at": ts(run.Updated), "html_url": fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", seg[1], seg[2], run.ID)})
		}
		out = page(w, r, out)
		writeJSON(w, 200, map[string]any{"total_count": len(runs), "workflow_runs": out})
	case "actions/download-workflow-run-logs":
		run := f.run(seg)
		if run == nil || (run.LogZip == nil && !run.BrokenZip) {
			jsonErr(w, 410, "Gone")
			return
		}
		w.Header().Set("Location", fmt.Sprintf("http://%s/_logs/run/%s/%s/%d", r.Host, seg[1], seg[2], run.ID))
		w.WriteHeader(302)
	case "actions/list-jobs-for-workflow-run":
		run := f.run(seg)
		if run == nil {
			jsonErr(w, 404, "Not Found")
			return
		}
		var jobs []map[string]any
		for i, name := range sortedNames(run.JobLogs) {
			jobs = append(jobs, map[string]any{"id": run.ID*100 + int64(i), "name": name, "run_id": run.ID})
		}
		jobs = page(w, r, jobs)
		writeJSON(w, 200, map[string]any{"total_count": len(run.JobLogs), "jobs": jobs})
	case "actions/download-job-logs-for-workflow-run":
		id, _ := strconv.ParseInt(seg[5], 10, 64)
		w.Header().Set("Location", fmt.Sprintf("http://%s/_logs/job/%s/%s/%d", r.Host, seg[1], seg[2], id))
		w.WriteHeader(302)
	case "actions/list-repo-secrets", "actions/list-environment-secrets":
		f.listSecrets(w, r, f.scopeKey(seg))
	case "actions/list-repo-organization-secrets":
		f.listSecrets(w, r, "org:"+seg[1])
	case "repos/get-all-environments":
		repo := f.repos[seg[1]+"/"+seg[2]]
		var envs []map[string]any
		if repo != nil {
			for _, e := range repo.Envs {
				envs = append(envs, map[string]any{"name": e})
			}
		}
		writeJSON(w, 200, map[string]any{"total_count": len(envs), "environments": page(w, r, envs)})
	case "actions/get-repo-public-key", "actions/get-environment-public-key", "actions/get-org-public-key":
		key := f.scopeKey(seg)
		if f.pub[key] == nil {
			pub, priv, _ := box.GenerateKey(rand.Reader)
			f.pub[key], f.priv[key] = pub, priv
		}
		writeJSON(w, 200, map[string]any{"key_id": "kid-" + key, "key": base64.StdEncoding.EncodeToString(f.pub[key][:])})
	case "actions/get-repo-secret", "actions/get-environment-secret", "actions/get-org-secret":
		s := f.secrets[f.scopeKey(seg)+"/"+seg[len(seg)-1]]
		if s == nil {
			jsonErr(w, 404, "Not Found")
			return
		}
		writeJSON(w, 200, secretJSON(s))
	case "actions/create-or-update-repo-secret", "actions/create-or-update-environment-secret", "actions/create-or-update-org-secret":
		f.putSecret(w, r, f.scopeKey(seg), seg[len(seg)-1])
	case "repos/list-deploy-keys":
		writeJSON(w, 200, page(w, r, keysJSON(f.keys["repo:"+seg[1]+"/"+seg[2]])))
	case "users/list-public-ssh-keys-for-authenticated-user":
		writeJSON(w, 200, page(w, r, keysJSON(f.keys["user:"+u.login])))
	case "repos/create-deploy-key", "users/create-public-ssh-key-for-authenticated-user":
		owner := "user:" + u.login
		if ep.ID == "repos/create-deploy-key" {
			owner = "repo:" + seg[1] + "/" + seg[2]
		}
		var body struct {
			Title    string `json:"title"`
			Key      string `json:"key"`
			ReadOnly *bool  `json:"read_only"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || !strings.HasPrefix(body.Key, "ssh-") {
			jsonErr(w, 422, "key is invalid")
			return
		}
		for _, k := range f.keys[owner] {
			if k.Key == body.Key {
				jsonErr(w, 422, "key is already in use")
				return
			}
		}
		ro := body.ReadOnly == nil || *body.ReadOnly
		f.nextID++
		k := ghc.Key{ID: f.nextID, Key: body.Key, Title: body.Title, ReadOnly: ro, Verified: true, CreatedAt: f.now()}
		f.keys[owner] = append(f.keys[owner], k)
		writeJSON(w, 201, keyJSON(k))
	case "repos/get-deploy-key", "users/get-public-ssh-key-for-authenticated-user", "repos/delete-deploy-key", "users/delete-public-ssh-key-for-authenticated-user":
		owner := "user:" + u.login
		if strings.HasPrefix(ep.ID, "repos/") {
			owner = "repo:" + seg[1] + "/" + seg[2]
		}
		id, _ := strconv.ParseInt(seg[len(seg)-1], 10, 64)
		for i, k := range f.keys[owner] {
			if k.ID == id {
				if r.Method == http.MethodDelete {
					f.keys[owner] = append(f.keys[owner][:i], f.keys[owner][i+1:]...)
					w.WriteHeader(204)
					return
				}
				writeJSON(w, 200, keyJSON(k))
				return
			}
		}
		jsonErr(w, 404, "Not Found")
	case "orgs/get-audit-log":
		if !f.auditOn {
			jsonErr(w, 404, "Not Found")
			return
		}
		writeJSON(w, 200, f.audit)
	case "credentials/revoke":
		var body struct {
			Credentials []string `json:"credentials"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Credentials) == 0 || len(body.Credentials) > 1000 {
			jsonErr(w, 422, "Validation Failed")
			return
		}
		f.revokeRq = append(f.revokeRq, body.Credentials)
		for _, c := range body.Credentials {
			f.revoked[c] = true
		}
		writeJSON(w, 202, map[string]any{})
	default:
		jsonErr(w, 500, "the fake does not implement "+ep.ID)
	}
}

func orStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func sortedNames(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) run(seg []string) *FakeRun {
	repo := f.repos[seg[1]+"/"+seg[2]]
	if repo == nil {
		return nil
	}
	id, _ := strconv.ParseInt(seg[5], 10, 64)
	for i := range repo.Runs {
		if repo.Runs[i].ID == id {
			return &repo.Runs[i]
		}
	}
	return nil
}

func (f *Fake) serveLogs(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "log URLs are pre-signed: a token must not be sent", 400)
		return
	}
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // _logs kind owner repo id
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(seg) != 5 {
		http.NotFound(w, r)
		return
	}
	repo := f.repos[seg[2]+"/"+seg[3]]
	id, _ := strconv.ParseInt(seg[4], 10, 64)
	if repo == nil {
		http.NotFound(w, r)
		return
	}
	for _, run := range repo.Runs {
		switch {
		case seg[1] == "run" && run.ID == id:
			if run.BrokenZip {
				http.Error(w, "storage error", 500)
				return
			}
			_, _ = w.Write(run.LogZip)
			return
		case seg[1] == "job" && id/100 == run.ID:
			names := sortedNames(run.JobLogs)
			if i := int(id % 100); i < len(names) {
				_, _ = io.WriteString(w, run.JobLogs[names[i]])
				return
			}
		}
	}
	http.NotFound(w, r)
}

func (f *Fake) content(w http.ResponseWriter, r *http.Request, seg []string) {
	repo := f.repos[seg[1]+"/"+seg[2]]
	if repo == nil {
		jsonErr(w, 404, "Not Found")
		return
	}
	p := strings.Join(seg[4:], "/")
	ref := r.URL.Query().Get("ref")
	key := p
	if ref != "" {
		key = p + "@" + ref
	}
	if body, ok := repo.Files[key]; ok {
		writeJSON(w, 200, map[string]any{"type": "file", "name": p[strings.LastIndex(p, "/")+1:], "path": p, "sha": "0000",
			"size": len(body), "encoding": "base64", "content": base64.StdEncoding.EncodeToString([]byte(body))})
		return
	}
	var ents []map[string]any
	for name := range repo.Files {
		if strings.Contains(name, "@") {
			continue
		}
		if dir, file, ok := strings.Cut(name, p+"/"); ok && dir == "" && !strings.Contains(file, "/") {
			ents = append(ents, map[string]any{"type": "file", "name": file, "path": name, "sha": "0000", "size": len(repo.Files[name])})
		}
	}
	if ents == nil {
		jsonErr(w, 404, "Not Found")
		return
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i]["name"].(string) < ents[j]["name"].(string) })
	writeJSON(w, 200, ents)
}

func (f *Fake) listSecrets(w http.ResponseWriter, r *http.Request, scope string) {
	var names []string
	for k := range f.secrets {
		if strings.HasPrefix(k, scope+"/") && !strings.Contains(strings.TrimPrefix(k, scope+"/"), "/") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var out []map[string]any
	for _, n := range names {
		out = append(out, secretJSON(f.secrets[n]))
	}
	total := len(out)
	out = page(w, r, out)
	writeJSON(w, 200, map[string]any{"total_count": total, "secrets": out})
}

func secretJSON(s *fakeSecret) map[string]any {
	return map[string]any{"name": s.name, "created_at": ts(s.created), "updated_at": ts(s.updated), "visibility": s.visibility}
}

func (f *Fake) putSecret(w http.ResponseWriter, r *http.Request, scope, name string) {
	var body struct {
		EncryptedValue string `json:"encrypted_value"`
		KeyID          string `json:"key_id"`
		Visibility     string `json:"visibility"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.KeyID != "kid-"+scope || f.priv[scope] == nil {
		jsonErr(w, 422, "key_id does not match the scope's public key")
		return
	}
	if strings.HasPrefix(scope, "org:") && body.Visibility == "" {
		jsonErr(w, 422, "visibility is required")
		return
	}
	sealed, err := base64.StdEncoding.DecodeString(body.EncryptedValue)
	if err != nil {
		jsonErr(w, 422, "encrypted_value is not base64")
		return
	}
	plain, ok := box.OpenAnonymous(nil, sealed, f.pub[scope], f.priv[scope])
	if !ok {
		jsonErr(w, 422, "encrypted_value does not open with the scope's key")
		return
	}
	now := f.now().Truncate(time.Second)
	s := f.secrets[scope+"/"+name]
	status := 204
	if s == nil {
		s = &fakeSecret{name: name, created: now, visibility: "all"}
		f.secrets[scope+"/"+name] = s
		status = 201
	}
	if body.Visibility != "" {
		s.visibility = body.Visibility
	}
	s.value, s.updated = plain, now
	if status == 201 {
		writeJSON(w, 201, map[string]any{})
		return
	}
	w.WriteHeader(204)
}

func keyJSON(k ghc.Key) map[string]any {
	return map[string]any{"id": k.ID, "key": k.Key, "title": k.Title, "read_only": k.ReadOnly, "verified": k.Verified,
		"created_at": ts(k.CreatedAt), "url": "https://api.github.com/keys/" + strconv.FormatInt(k.ID, 10)}
}

func keysJSON(ks []ghc.Key) []map[string]any {
	out := []map[string]any{}
	for _, k := range ks {
		out = append(out, keyJSON(k))
	}
	return out
}
