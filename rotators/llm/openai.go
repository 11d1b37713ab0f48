package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// OpenAI project API keys. With an Admin API key (OPENAI_ADMIN_KEY, or
// --param admin_key_from; read at run time, never stored) the run finds the
// project key matching the exposed one (GET /organization/projects, then
// GET /organization/projects/{project_id}/api_keys, matched on the
// redacted_value the API returns), reads its completions usage inside the
// window (GET /organization/usage/completions), replaces it with a new
// service-account key (POST /organization/projects/{project_id}/service_accounts
// returns an api_key), and deletes the exposed key (DELETE
// .../api_keys/{api_key_id}; a service account's key cannot be deleted
// alone, so its service account is deleted). Without an admin key the
// operator creates and deletes keys in the dashboard and Tourniquet
// verifies. Every path and schema is checked against OpenAI's OpenAPI
// description (tests run the client against Prism serving it).
var openai = func() *service {
	s := &service{name: "openai", title: "OpenAI", base: openaiBase,
		console: "platform.openai.com > API keys (project > API keys)"}
	s.check = simpleCheck(s, "openai list models", http.MethodGet, "/models", bearer, nil)
	s.revokedByAdmin = openaiRevoked
	return s
}()

// openaiRevoked proves the exposed key gone from its project's key list.
func openaiRevoked(ctx context.Context, p *Provider, rc *rotators.RunContext) (bool, bool, string, error) {
	if !hasAdmin(rc) {
		return false, false, "", nil
	}
	adm, ok, err := p.openaiAdmin(rc)
	if err != nil || !ok {
		return false, false, "", err
	}
	keys, err := adm.ProjectKeys(ctx, rc.Var("project_id"))
	if err != nil {
		return false, false, "", err
	}
	for _, k := range keys {
		if k.ID == rc.Var("key_id") {
			return false, true, "key " + k.ID + " is still listed in project " + rc.Var("project_id"), nil
		}
	}
	return true, true, "key " + rc.Var("key_id") + " is no longer listed in project " + rc.Var("project_id") + " (Admin API)", nil
}

const (
	openaiAdminEnv = "OPENAI_ADMIN_KEY"
	openaiBase     = "https://api.openai.com/v1"
)

// openaiAdmin is the Admin API calls the actions make.
type openaiAdmin interface {
	Projects(ctx context.Context) ([]oaProject, error)
	ProjectKeys(ctx context.Context, projectID string) ([]oaKey, error)
	ServiceAccounts(ctx context.Context, projectID string) ([]oaServiceAccount, error)
	CreateServiceAccount(ctx context.Context, projectID, name string) (oaServiceAccount, redact.Secret, string, error)
	DeleteProjectKey(ctx context.Context, projectID, keyID string) error
	DeleteServiceAccount(ctx context.Context, projectID, saID string) error
	UsageCompletions(ctx context.Context, projectID, keyID string, start, end time.Time) ([]oaUsageBucket, error)
}

type oaProject struct {
	ID     string  `json:"id"`
	Name   *string `json:"name"`
	Status *string `json:"status"`
}

type oaKey struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	RedactedValue string `json:"redacted_value"`
	CreatedAt     int64  `json:"created_at"`
	LastUsedAt    *int64 `json:"last_used_at"`
	Owner         struct {
		Type           string                            `json:"type"`
		User           *struct{ ID, Email, Name string } `json:"user"`
		ServiceAccount *struct{ ID, Name string }        `json:"service_account"`
	} `json:"owner"`
}

type oaServiceAccount struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt int64  `json:"created_at"`
}

type oaUsageBucket struct {
	Start, End time.Time
	Requests   int64
	Input      int64
	Output     int64
	Models     []string
}

// openaiHTTP is the Admin API over net/http.
type openaiHTTP struct {
	p    *Provider
	base string
	key  redact.Secret
}

var _ openaiAdmin = (*openaiHTTP)(nil)

func (c *openaiHTTP) call(ctx context.Context, op, method, path string, q url.Values, body any) ([]byte, int, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, err
		}
		rd = bytes.NewReader(b)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequest(method, u, rd)
	} else {
		req, err = http.NewRequest(method, u, nil)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+string(c.key.Reveal()))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, b, err := c.p.do(ctx, req)
	if err := classify(op, status, b, err, c.key); err != nil {
		return b, status, err
	}
	return b, status, nil
}

// list pages through a list endpoint (limit, after, has_more, last_id).
func (c *openaiHTTP) list(ctx context.Context, op, path string, q url.Values, each func(json.RawMessage) error) error {
	after := ""
	for page := 0; page < 200; page++ {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("limit", "100")
		if after != "" {
			qq.Set("after", after)
		}
		b, _, err := c.call(ctx, op, http.MethodGet, path, qq, nil)
		if err != nil {
			return err
		}
		lp, err := parseOpenAIList(b)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		for _, d := range lp.Data {
			if err := each(d); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		}
		if !lp.HasMore || lp.LastID == "" || lp.LastID == after {
			return nil
		}
		after = lp.LastID
	}
	return fmt.Errorf("%s: more than 200 pages", op)
}

type oaList struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
	LastID  string            `json:"last_id"`
}

// parseOpenAIList reads a list page (untrusted input).
func parseOpenAIList(b []byte) (oaList, error) {
	var v struct {
		Object  string            `json:"object"`
		Data    []json.RawMessage `json:"data"`
		HasMore bool              `json:"has_more"`
		LastID  *string           `json:"last_id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return oaList{}, errors.New("unexpected answer (not a list object)")
	}
	l := oaList{Data: v.Data, HasMore: v.HasMore}
	if v.LastID != nil {
		l.LastID = *v.LastID
	}
	return l, nil
}

func (c *openaiHTTP) Projects(ctx context.Context) ([]oaProject, error) {
	var out []oaProject
	err := c.list(ctx, "list projects", "/organization/projects", url.Values{"include_archived": {"false"}}, func(m json.RawMessage) error {
		var p oaProject
		if err := json.Unmarshal(m, &p); err != nil || p.ID == "" {
			return errors.New("unexpected project object")
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

func (c *openaiHTTP) ProjectKeys(ctx context.Context, projectID string) ([]oaKey, error) {
	var out []oaKey
	err := c.list(ctx, "list API keys of project "+projectID, "/organization/projects/"+url.PathEscape(projectID)+"/api_keys",
		url.Values{"owner_project_access": {"any"}}, func(m json.RawMessage) error {
			k, err := parseOpenAIKey(m)
			if err != nil {
				return err
			}
			out = append(out, k)
			return nil
		})
	return out, err
}

// parseOpenAIKey reads one project API key object (untrusted input).
func parseOpenAIKey(m []byte) (oaKey, error) {
	var k oaKey
	if err := json.Unmarshal(m, &k); err != nil || k.ID == "" {
		return oaKey{}, errors.New("unexpected API key object")
	}
	k.Name, k.RedactedValue = clip(k.Name), clip(k.RedactedValue)
	return k, nil
}

func (c *openaiHTTP) ServiceAccounts(ctx context.Context, projectID string) ([]oaServiceAccount, error) {
	var out []oaServiceAccount
	err := c.list(ctx, "list service accounts of project "+projectID, "/organization/projects/"+url.PathEscape(projectID)+"/service_accounts", nil,
		func(m json.RawMessage) error {
			var sa oaServiceAccount
			if err := json.Unmarshal(m, &sa); err != nil || sa.ID == "" {
				return errors.New("unexpected service account object")
			}
			sa.Name = clip(sa.Name)
			out = append(out, sa)
			return nil
		})
	return out, err
}

func (c *openaiHTTP) CreateServiceAccount(ctx context.Context, projectID, name string) (oaServiceAccount, redact.Secret, string, error) {
	b, _, err := c.call(ctx, "create a service account in project "+projectID, http.MethodPost,
		"/organization/projects/"+url.PathEscape(projectID)+"/service_accounts", nil, map[string]any{"name": name})
	if err != nil {
		return oaServiceAccount{}, redact.Secret{}, "", err
	}
	return parseOpenAIServiceAccountCreated(b)
}

// parseOpenAIServiceAccountCreated reads the create answer: the service
// account and its API key, whose value is returned this once.
func parseOpenAIServiceAccountCreated(b []byte) (oaServiceAccount, redact.Secret, string, error) {
	var v struct {
		oaServiceAccount
		APIKey *struct {
			Value string `json:"value"`
			ID    string `json:"id"`
		} `json:"api_key"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
		return oaServiceAccount{}, redact.Secret{}, "", errors.New("create service account: unexpected answer")
	}
	if v.APIKey == nil || v.APIKey.Value == "" {
		return v.oaServiceAccount, redact.Secret{}, "", errors.New("create service account: the answer has no API key")
	}
	return v.oaServiceAccount, redact.NewSecretString(v.APIKey.Value), clip(v.APIKey.ID), nil
}

func (c *openaiHTTP) DeleteProjectKey(ctx context.Context, projectID, keyID string) error {
	_, status, err := c.call(ctx, "delete API key "+keyID, http.MethodDelete,
		"/organization/projects/"+url.PathEscape(projectID)+"/api_keys/"+url.PathEscape(keyID), nil, nil)
	if status == http.StatusNotFound {
		return nil // already gone
	}
	return err
}

func (c *openaiHTTP) DeleteServiceAccount(ctx context.Context, projectID, saID string) error {
	_, status, err := c.call(ctx, "delete service account "+saID, http.MethodDelete,
		"/organization/projects/"+url.PathEscape(projectID)+"/service_accounts/"+url.PathEscape(saID), nil, nil)
	if status == http.StatusNotFound {
		return nil
	}
	return err
}

func (c *openaiHTTP) UsageCompletions(ctx context.Context, projectID, keyID string, start, end time.Time) ([]oaUsageBucket, error) {
	var out []oaUsageBucket
	page := ""
	for i := 0; i < 100; i++ {
		q := url.Values{
			"start_time":   {strconv.FormatInt(start.Unix(), 10)},
			"end_time":     {strconv.FormatInt(end.Unix(), 10)},
			"bucket_width": {"1d"},
			"project_ids":  {projectID},
			"api_key_ids":  {keyID},
			"group_by":     {"api_key_id", "model"},
			"limit":        {"31"},
		}
		if page != "" {
			q.Set("page", page)
		}
		b, _, err := c.call(ctx, "read completions usage", http.MethodGet, "/organization/usage/completions", q, nil)
		if err != nil {
			return nil, err
		}
		bs, next, err := parseOpenAIUsage(b, keyID)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
		if next == "" || next == page {
			return out, nil
		}
		page = next
	}
	return out, nil
}

// parseOpenAIUsage reads a usage page (untrusted input), keeping the
// results of keyID (or ungrouped ones).
func parseOpenAIUsage(b []byte, keyID string) ([]oaUsageBucket, string, error) {
	var v struct {
		Data []struct {
			StartTime int64 `json:"start_time"`
			EndTime   int64 `json:"end_time"`
			Results   []struct {
				Object   string  `json:"object"`
				Input    int64   `json:"input_tokens"`
				Output   int64   `json:"output_tokens"`
				Requests int64   `json:"num_model_requests"`
				APIKeyID *string `json:"api_key_id"`
				Model    *string `json:"model"`
			} `json:"results"`
		} `json:"data"`
		HasMore  bool    `json:"has_more"`
		NextPage *string `json:"next_page"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, "", errors.New("read completions usage: unexpected answer")
	}
	var out []oaUsageBucket
	for _, d := range v.Data {
		bk := oaUsageBucket{Start: time.Unix(d.StartTime, 0).UTC(), End: time.Unix(d.EndTime, 0).UTC()}
		for _, r := range d.Results {
			if r.APIKeyID != nil && *r.APIKeyID != "" && *r.APIKeyID != keyID {
				continue
			}
			bk.Requests += max(r.Requests, 0)
			bk.Input += max(r.Input, 0)
			bk.Output += max(r.Output, 0)
			if r.Model != nil && *r.Model != "" && len(bk.Models) < 10 && !contains(bk.Models, clip(*r.Model)) {
				bk.Models = append(bk.Models, clip(*r.Model))
			}
		}
		out = append(out, bk)
	}
	next := ""
	if v.HasMore && v.NextPage != nil {
		next = *v.NextPage
	}
	return out, next, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// admin returns the Admin API client, or ok=false when no admin key is set.
func (p *Provider) openaiAdmin(rc *rotators.RunContext) (openaiAdmin, bool, error) {
	key, ok, err := p.adminKey(rc, openaiAdminEnv)
	if err != nil || !ok {
		return nil, false, err
	}
	return &openaiHTTP{p: p, base: p.baseNamed(rc, "openai", openaiBase), key: key}, true, nil
}

// openaiPlan identifies the exposed key at OpenAI.
type openaiPlan struct{ p *Provider }

func (a openaiPlan) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: check whether %s still works (GET /models); with OPENAI_ADMIN_KEY, find it among the projects' API keys and list its project's keys and service accounts", rc.Credential.Hint), nil
}

func (a openaiPlan) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	res, err := planAction{a.p, openai}.Do(ctx, rc)
	if err != nil {
		return nil, err
	}
	adm, ok, err := a.p.openaiAdmin(rc)
	if err != nil {
		return nil, err
	}
	rc.Vars["admin"] = ok
	if !ok {
		res["admin"] = "no OPENAI_ADMIN_KEY: you create the new key and delete the exposed one in the dashboard; Tourniquet verifies both"
		return res, nil
	}
	full, _ := a.p.oldKey(rc)
	projects, err := adm.Projects(ctx)
	if err != nil {
		return nil, err
	}
	type cand struct {
		project oaProject
		key     oaKey
		exact   bool
	}
	var cands []cand
	keysOf := map[string][]oaKey{}
	wantID, wantProject := rc.Param("openai_key_id"), rc.Param("openai_project_id")
	for _, pr := range projects {
		if wantProject != "" && pr.ID != wantProject {
			continue
		}
		keys, err := adm.ProjectKeys(ctx, pr.ID)
		if err != nil {
			return nil, err
		}
		keysOf[pr.ID] = keys
		for _, k := range keys {
			m, exact := hintMatch(k.RedactedValue, full, rc.Credential.Hint)
			if wantID != "" {
				if k.ID != wantID {
					continue
				}
				if !m {
					return nil, fmt.Errorf("key %s (%s) does not look like the exposed key %s", k.ID, k.RedactedValue, rc.Credential.Hint)
				}
			}
			if m {
				cands = append(cands, cand{pr, k, exact})
			}
		}
	}
	switch len(cands) {
	case 0:
		return nil, fmt.Errorf("no project API key of the %d project(s) the admin key sees matches %s: already deleted, a key of another organization, or a legacy user key (rotate it in the dashboard: %s)", len(projects), rc.Credential.Hint, openai.console)
	case 1:
	default:
		var list []string
		for _, c := range cands {
			list = append(list, fmt.Sprintf("%s in project %s (%s, %q)", c.key.ID, c.project.ID, c.key.RedactedValue, c.key.Name))
		}
		return nil, fmt.Errorf("%d project API keys match %s (the API shows only a redacted value): %s; choose with --param openai_key_id=KEY_ID", len(cands), rc.Credential.Hint, strings.Join(list, "; "))
	}
	c := cands[0]
	rc.Vars["project_id"] = c.project.ID
	rc.Vars["key_id"] = c.key.ID
	rc.Vars["owner_type"] = c.key.Owner.Type
	if c.key.Owner.ServiceAccount != nil {
		rc.Vars["owner_sa_id"] = c.key.Owner.ServiceAccount.ID
	}
	res["project"] = c.project.ID
	res["key_id"] = c.key.ID
	res["key_name"] = c.key.Name
	res["owner"] = c.key.Owner.Type
	res["match"] = map[bool]string{true: "exact (full key)", false: "by hint (prefix and last characters)"}[c.exact]
	res["created"] = time.Unix(c.key.CreatedAt, 0).UTC().Format(time.RFC3339)
	if c.key.LastUsedAt != nil {
		res["last_used"] = time.Unix(*c.key.LastUsedAt, 0).UTC().Format(time.RFC3339)
	}
	var others []string
	for _, k := range keysOf[c.project.ID] {
		if k.ID != c.key.ID {
			others = append(others, fmt.Sprintf("%s %s (%s)", k.ID, k.RedactedValue, k.Owner.Type))
		}
	}
	res["other_keys"] = others
	sas, err := adm.ServiceAccounts(ctx, c.project.ID)
	if err != nil {
		return nil, err
	}
	var saNames []string
	for _, sa := range sas {
		saNames = append(saNames, sa.ID+" "+sa.Name)
	}
	res["service_accounts"] = saNames
	// Keys created inside the window may be an attacker's (an exposed admin
	// key can create them).
	if ws := rc.Host.WindowStart; ws != nil && rc.Findings != nil {
		var fs []collectors.Finding
		for _, k := range keysOf[c.project.ID] {
			t := time.Unix(k.CreatedAt, 0).UTC()
			if k.ID != c.key.ID && !t.Before(*ws) && !strings.HasPrefix(k.Name, "tourniquet-") {
				fs = append(fs, collectors.Finding{ID: "f-openai-key-" + redact.Fingerprint([]byte(k.ID))[7:19], Pack: "tourniquet-llm",
					Rule: "api-key-created-in-window", Severity: "high", Path: "openai:project/" + c.project.ID + "/api_key/" + k.ID,
					Detail:     fmt.Sprintf("project %s has an API key %s (%s, %q) created %s, inside the window: check who made it", c.project.ID, k.ID, k.RedactedValue, k.Name, t.Format(time.RFC3339)),
					ObservedAt: &t, Confidence: "inferred"})
			}
		}
		if len(fs) > 0 {
			if err := rc.Findings(ctx, "openai:"+c.project.ID, fs); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

func (a openaiPlan) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a openaiPlan) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

func hasAdmin(rc *rotators.RunContext) bool {
	v, _ := rc.Vars["admin"].(bool)
	return v && rc.Var("key_id") != ""
}

// openaiUsage reads the exposed key's completions usage inside the window.
type openaiUsage struct{ p *Provider }

func (a openaiUsage) Needed(_ context.Context, rc *rotators.RunContext) (bool, string, error) {
	if !hasAdmin(rc) {
		return false, "no admin key: usage is read in the dashboard (Usage, filtered by API key)", nil
	}
	return true, "", nil
}

func (a openaiUsage) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: completions usage of key %s in project %s since the window start (GET /organization/usage/completions)", orUnknown(rc.Var("key_id")), orUnknown(rc.Var("project_id"))), nil
}

func (a openaiUsage) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	adm, ok, err := a.p.openaiAdmin(rc)
	if err != nil || !ok {
		return nil, errors.Join(err, errors.New("the admin key is no longer set (OPENAI_ADMIN_KEY)"))
	}
	start, end := window(rc)
	buckets, err := adm.UsageCompletions(ctx, rc.Var("project_id"), rc.Var("key_id"), start, end)
	if err != nil {
		return nil, err
	}
	return usageEvidence(ctx, rc, "openai", "openai:"+rc.Var("project_id"), "openai:project/"+rc.Var("project_id")+"/api_key/"+rc.Var("key_id"), start, end, buckets)
}

func (a openaiUsage) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// usageEvidence summarises usage buckets and records one finding per day
// with requests: use of the exposed key inside the window, to compare with
// the application's own traffic.
func usageEvidence(ctx context.Context, rc *rotators.RunContext, provider, target, where string, start, end time.Time, buckets []oaUsageBucket) (rotators.Result, error) {
	var total, in, out int64
	var days []string
	var fs []collectors.Finding
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Start.Before(buckets[j].Start) })
	for _, b := range buckets {
		if b.Requests == 0 && b.Input == 0 && b.Output == 0 {
			continue
		}
		total += b.Requests
		in += b.Input
		out += b.Output
		day := b.Start.Format("2006-01-02")
		days = append(days, fmt.Sprintf("%s: %d requests, %d in / %d out tokens %v", day, b.Requests, b.Input, b.Output, b.Models))
		t := b.Start
		fs = append(fs, collectors.Finding{
			ID: "f-" + provider + "-use-" + redact.Fingerprint([]byte(where + day))[7:19], Pack: "tourniquet-llm", Rule: "provider-key-usage", Severity: "medium",
			Path:       where,
			Detail:     fmt.Sprintf("the exposed key %s made %d requests (%d input, %d output tokens; models %s) on %s, inside the window: compare with the application's normal traffic", rc.Credential.Hint, b.Requests, b.Input, b.Output, strings.Join(b.Models, ", "), day),
			ObservedAt: &t, Confidence: "inferred",
		})
	}
	if len(fs) > 0 && rc.Findings != nil {
		if err := rc.Findings(ctx, target, fs); err != nil {
			return nil, err
		}
	}
	return rotators.Result{"since": start.Format(time.RFC3339), "until": end.Format(time.RFC3339), "requests": total,
		"input_tokens": in, "output_tokens": out, "days_with_use": days}, nil
}

// openaiCreate makes the replacement: a new service account in the same
// project, whose key the create answer carries.
type openaiCreate struct{ p *Provider }

func saName(rc *rotators.RunContext) string { return "tourniquet-" + rc.Run.ID }

func (a openaiCreate) Needed(_ context.Context, rc *rotators.RunContext) (bool, string, error) {
	switch {
	case !hasAdmin(rc):
		return false, "no admin key: you create the new key in the dashboard (next step)", nil
	case rc.Param("replacement") == "manual":
		return false, "--param replacement=manual: you create the new key (next step)", nil
	}
	if rc.Inputs != nil {
		if _, ok := rc.Inputs.Get(inNewSecret); ok {
			return false, "you supplied the new key", nil
		}
	}
	return true, "", nil
}

func (a openaiCreate) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("create service account %s in project %s (POST .../service_accounts); its API key replaces %s and stays in memory until delivered", saName(rc), orUnknown(rc.Var("project_id")), rc.Credential.Hint), nil
}

// removeLost deletes service accounts this run created whose key is not in
// memory (the process died after creating them).
func (a openaiCreate) removeLost(ctx context.Context, rc *rotators.RunContext, adm openaiAdmin) ([]string, error) {
	sas, err := adm.ServiceAccounts(ctx, rc.Var("project_id"))
	if err != nil {
		return nil, err
	}
	key, haveKey := rc.Secrets.Get(secNewKey)
	var removed []string
	for _, sa := range sas {
		if sa.Name != saName(rc) {
			continue
		}
		if haveKey && sa.ID == rc.Var("new_sa_id") && key.Fingerprint() == rc.Var("new_fp") {
			continue
		}
		if d := rc.Var("delivered_fp"); d != "" && sa.ID == rc.Var("new_sa_id") {
			continue // delivered: it is the new key's home
		}
		if err := adm.DeleteServiceAccount(ctx, rc.Var("project_id"), sa.ID); err != nil {
			return nil, err
		}
		rc.Note("deleted service account %s: created by an earlier attempt whose key was never delivered", sa.ID)
		removed = append(removed, sa.ID)
	}
	return removed, nil
}

func (a openaiCreate) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	adm, ok, err := a.p.openaiAdmin(rc)
	if err != nil || !ok {
		return nil, errors.Join(err, errors.New("the admin key is no longer set (OPENAI_ADMIN_KEY)"))
	}
	removed, err := a.removeLost(ctx, rc, adm)
	if err != nil {
		return nil, err
	}
	sa, key, keyID, err := adm.CreateServiceAccount(ctx, rc.Var("project_id"), saName(rc))
	if err != nil {
		return nil, err
	}
	rc.Secrets.Put(secNewKey, key)
	rc.Vars["new_source"] = "created"
	rc.Vars["new_sa_id"] = sa.ID
	rc.Vars["new_key_id"] = keyID
	rc.Vars["new_fp"] = key.Fingerprint()
	rc.Vars["new_hint"] = key.Hint()
	delete(rc.Vars, "verified")
	delete(rc.Vars, "delivered_fp")
	return rotators.Result{"service_account": sa.ID, "role": sa.Role, "new_key": key.Hint(), "new_key_id": keyID, "removed_lost": removed}, nil
}

func (a openaiCreate) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	adm, ok, err := a.p.openaiAdmin(rc)
	if err != nil || !ok {
		return nil, false, errors.Join(err, errors.New("the admin key is no longer set (OPENAI_ADMIN_KEY)"))
	}
	_, err = a.removeLost(ctx, rc, adm)
	return nil, false, err
}

// openaiDeleteOld deletes the exposed key once the new one is verified and
// delivered.
type openaiDeleteOld struct{ p *Provider }

func (a openaiDeleteOld) Needed(_ context.Context, rc *rotators.RunContext) (bool, string, error) {
	if !hasAdmin(rc) {
		return false, "no admin key: you delete the exposed key in the dashboard (next step)", nil
	}
	return true, "", nil
}

func (a openaiDeleteOld) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	if rc.Var("owner_type") == "service_account" {
		return fmt.Sprintf("DELETE service account %s of project %s, which owns the exposed key %s (a service account's key cannot be deleted alone: every key of that service account stops working)",
			orUnknown(rc.Var("owner_sa_id")), orUnknown(rc.Var("project_id")), rc.Credential.Hint), nil
	}
	return fmt.Sprintf("DELETE the exposed API key %s (%s) of project %s: anything still using it fails from now on (irreversible)",
		orUnknown(rc.Var("key_id")), rc.Credential.Hint, orUnknown(rc.Var("project_id"))), nil
}

func (a openaiDeleteOld) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	if v, _ := rc.Vars["verified"].(bool); !v || rc.Var("delivered_fp") == "" {
		return nil, errors.New("refusing to delete the exposed key before the new key is verified and delivered")
	}
	adm, ok, err := a.p.openaiAdmin(rc)
	if err != nil || !ok {
		return nil, errors.Join(err, errors.New("the admin key is no longer set (OPENAI_ADMIN_KEY)"))
	}
	pid := rc.Var("project_id")
	res := rotators.Result{}
	if rc.Var("owner_type") == "service_account" {
		sa := rc.Var("owner_sa_id")
		if sa == "" || sa == rc.Var("new_sa_id") {
			return nil, errors.New("refusing to delete the service account that holds the new key")
		}
		if err := adm.DeleteServiceAccount(ctx, pid, sa); err != nil {
			return nil, err
		}
		res["deleted_service_account"] = sa
	} else {
		if err := adm.DeleteProjectKey(ctx, pid, rc.Var("key_id")); err != nil {
			return nil, err
		}
		res["deleted_key"] = rc.Var("key_id")
	}
	rc.Vars["old_revoked_by_api"] = true
	res["exposed"] = rc.Credential.Hint
	return res, nil
}

func (a openaiDeleteOld) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	adm, ok, err := a.p.openaiAdmin(rc)
	if err != nil || !ok {
		return nil, false, err
	}
	keys, err := adm.ProjectKeys(ctx, rc.Var("project_id"))
	if err != nil {
		return nil, false, err
	}
	for _, k := range keys {
		if k.ID == rc.Var("key_id") {
			return nil, false, nil
		}
	}
	rc.Vars["old_revoked_by_api"] = true
	return rotators.Result{"deleted_key": rc.Var("key_id"), "exposed": rc.Credential.Hint}, true, nil
}
