package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
)

// Anthropic API keys (sk-ant-api03-...). The Admin API (an sk-ant-admin01-
// key in ANTHROPIC_ADMIN_KEY or --param admin_key_from; read at run time,
// never stored) lists keys with a partial_key_hint (GET
// /v1/organizations/api_keys, paged with after_id/has_more/last_id), sets a
// key's status (POST /v1/organizations/api_keys/{api_key_id} with
// {"status":"inactive"}) and reports usage grouped by API key (GET
// /v1/organizations/usage_report/messages with starting_at, ending_at,
// group_by[]=api_key_id). It cannot create keys: a human does, in the Claude
// Console. Keys are verified with GET /v1/models (x-api-key,
// anthropic-version: 2023-06-01). Source: platform.claude.com/docs/en/api
// (admin/api_keys list and update, admin/usage_report/retrieve_messages).
var anthropic = func() *service {
	s := &service{name: "anthropic", title: "Anthropic", base: anthropicBase,
		console: "Claude Console > Settings > API keys"}
	s.check = simpleCheck(s, "anthropic list models", http.MethodGet, "/v1/models", anthropicAuth, nil)
	s.revokedByAdmin = anthropicRevoked
	return s
}()

// anthropicRevoked proves the exposed key no longer active (Admin API).
func anthropicRevoked(ctx context.Context, p *Provider, rc *rotators.RunContext) (bool, bool, string, error) {
	if !hasAdmin(rc) {
		return false, false, "", nil
	}
	adm, ok, err := p.anthropicAdmin(rc)
	if err != nil || !ok {
		return false, false, "", err
	}
	keys, err := adm.Keys(ctx)
	if err != nil {
		return false, false, "", err
	}
	for _, k := range keys {
		if k.ID == rc.Var("key_id") {
			if k.Status == "active" {
				return false, true, "key " + k.ID + " is active", nil
			}
			return true, true, "key " + k.ID + " is " + k.Status + " (Admin API)", nil
		}
	}
	return true, true, "key " + rc.Var("key_id") + " is no longer listed (Admin API)", nil
}

const (
	anthropicAdminEnv = "ANTHROPIC_ADMIN_KEY"
	anthropicVersion  = "2023-06-01"
	anthropicBase     = "https://api.anthropic.com"
)

func anthropicAuth(r *http.Request, key string) {
	r.Header.Set("x-api-key", key)
	r.Header.Set("anthropic-version", anthropicVersion)
}

// anthropicAdminAPI is the Admin API calls the actions make.
type anthropicAdminAPI interface {
	Keys(ctx context.Context) ([]anKey, error)
	SetStatus(ctx context.Context, id, status string) (anKey, error)
	Usage(ctx context.Context, keyID string, start, end time.Time) ([]oaUsageBucket, error)
}

type anKey struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Hint        string `json:"partial_key_hint"`
	Status      string `json:"status"`
	WorkspaceID string `json:"workspace_id"`
	CreatedAt   string `json:"created_at"`
}

type anthropicHTTP struct {
	p    *Provider
	base string
	key  redact.Secret
}

var _ anthropicAdminAPI = (*anthropicHTTP)(nil)

func (c *anthropicHTTP) call(ctx context.Context, op, method, path string, q url.Values, body any) ([]byte, int, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var req *http.Request
	var err error
	if body != nil {
		b, merr := json.Marshal(body)
		if merr != nil {
			return nil, 0, merr
		}
		req, err = http.NewRequest(method, u, bytes.NewReader(b))
	} else {
		req, err = http.NewRequest(method, u, nil)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	anthropicAuth(req, string(c.key.Reveal()))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, b, err := c.p.do(ctx, req)
	return b, status, classify(op, status, b, err, c.key)
}

func (c *anthropicHTTP) Keys(ctx context.Context) ([]anKey, error) {
	var out []anKey
	after := ""
	for page := 0; page < 200; page++ {
		q := url.Values{"limit": {"1000"}}
		if after != "" {
			q.Set("after_id", after)
		}
		b, _, err := c.call(ctx, "list API keys", http.MethodGet, "/v1/organizations/api_keys", q, nil)
		if err != nil {
			return nil, err
		}
		keys, more, last, err := parseAnthropicKeys(b)
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
		if !more || last == "" || last == after {
			return out, nil
		}
		after = last
	}
	return nil, errors.New("list API keys: more than 200 pages")
}

// parseAnthropicKeys reads a list page (untrusted input).
func parseAnthropicKeys(b []byte) ([]anKey, bool, string, error) {
	var v struct {
		Data    []anKey `json:"data"`
		HasMore bool    `json:"has_more"`
		LastID  *string `json:"last_id"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false, "", errors.New("list API keys: unexpected answer")
	}
	var out []anKey
	for _, k := range v.Data {
		if k.ID == "" {
			return nil, false, "", errors.New("list API keys: a key without an id")
		}
		k.Name, k.Hint, k.Status, k.WorkspaceID, k.CreatedAt = clip(k.Name), clip(k.Hint), clip(k.Status), clip(k.WorkspaceID), clip(k.CreatedAt)
		out = append(out, k)
	}
	last := ""
	if v.LastID != nil {
		last = *v.LastID
	}
	return out, v.HasMore, last, nil
}

func (c *anthropicHTTP) SetStatus(ctx context.Context, id, status string) (anKey, error) {
	b, _, err := c.call(ctx, "set API key "+id+" "+status, http.MethodPost, "/v1/organizations/api_keys/"+url.PathEscape(id), nil, map[string]string{"status": status})
	if err != nil {
		return anKey{}, err
	}
	var k anKey
	if json.Unmarshal(b, &k) != nil || k.ID == "" {
		return anKey{}, errors.New("update API key: unexpected answer")
	}
	return k, nil
}

func (c *anthropicHTTP) Usage(ctx context.Context, keyID string, start, end time.Time) ([]oaUsageBucket, error) {
	var out []oaUsageBucket
	page := ""
	for i := 0; i < 100; i++ {
		q := url.Values{
			"starting_at":   {start.UTC().Format(time.RFC3339)},
			"ending_at":     {end.UTC().Format(time.RFC3339)},
			"bucket_width":  {"1d"},
			"group_by[]":    {"api_key_id", "model"},
			"api_key_ids[]": {keyID},
			"limit":         {"31"},
		}
		if page != "" {
			q.Set("page", page)
		}
		b, _, err := c.call(ctx, "read the messages usage report", http.MethodGet, "/v1/organizations/usage_report/messages", q, nil)
		if err != nil {
			return nil, err
		}
		bs, next, err := parseAnthropicUsage(b, keyID)
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

// parseAnthropicUsage reads a usage report page (untrusted input).
func parseAnthropicUsage(b []byte, keyID string) ([]oaUsageBucket, string, error) {
	var v struct {
		Data []struct {
			StartingAt string `json:"starting_at"`
			EndingAt   string `json:"ending_at"`
			Results    []struct {
				APIKeyID      *string `json:"api_key_id"`
				Model         *string `json:"model"`
				Uncached      int64   `json:"uncached_input_tokens"`
				CacheRead     int64   `json:"cache_read_input_tokens"`
				CacheCreation *struct {
					E1h int64 `json:"ephemeral_1h_input_tokens"`
					E5m int64 `json:"ephemeral_5m_input_tokens"`
				} `json:"cache_creation"`
				Output int64 `json:"output_tokens"`
			} `json:"results"`
		} `json:"data"`
		HasMore  bool    `json:"has_more"`
		NextPage *string `json:"next_page"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, "", errors.New("read the messages usage report: unexpected answer")
	}
	var out []oaUsageBucket
	for _, d := range v.Data {
		st, _ := time.Parse(time.RFC3339, d.StartingAt)
		en, _ := time.Parse(time.RFC3339, d.EndingAt)
		bk := oaUsageBucket{Start: st.UTC(), End: en.UTC()}
		for _, r := range d.Results {
			if r.APIKeyID != nil && *r.APIKeyID != "" && *r.APIKeyID != keyID {
				continue
			}
			in := max(r.Uncached, 0) + max(r.CacheRead, 0)
			if r.CacheCreation != nil {
				in += max(r.CacheCreation.E1h, 0) + max(r.CacheCreation.E5m, 0)
			}
			bk.Input += in
			bk.Output += max(r.Output, 0)
			// The report counts tokens, not requests: a result row with
			// tokens is counted as activity.
			if in > 0 || r.Output > 0 {
				bk.Requests++
			}
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

func (p *Provider) anthropicAdmin(rc *rotators.RunContext) (anthropicAdminAPI, bool, error) {
	key, ok, err := p.adminKey(rc, anthropicAdminEnv)
	if err != nil || !ok {
		return nil, false, err
	}
	return &anthropicHTTP{p: p, base: p.baseNamed(rc, "anthropic", anthropicBase), key: key}, true, nil
}

// anthropicPlan identifies the exposed key through the Admin API.
type anthropicPlan struct{ p *Provider }

func (a anthropicPlan) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: check whether %s still works (GET /v1/models); with ANTHROPIC_ADMIN_KEY, find it among the organization's API keys by its partial hint", rc.Credential.Hint), nil
}

func (a anthropicPlan) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	res, err := planAction{a.p, anthropic}.Do(ctx, rc)
	if err != nil {
		return nil, err
	}
	adm, ok, err := a.p.anthropicAdmin(rc)
	if err != nil {
		return nil, err
	}
	rc.Vars["admin"] = ok
	if !ok {
		res["admin"] = "no ANTHROPIC_ADMIN_KEY: you deactivate the exposed key in the Console; Tourniquet verifies it is refused"
		return res, nil
	}
	keys, err := adm.Keys(ctx)
	if err != nil {
		return nil, err
	}
	full, _ := a.p.oldKey(rc)
	want := rc.Param("anthropic_key_id")
	var cands []anKey
	for _, k := range keys {
		m, _ := hintMatch(k.Hint, full, rc.Credential.Hint)
		if want != "" && k.ID == want && !m {
			return nil, fmt.Errorf("key %s (%s) does not look like the exposed key %s", k.ID, k.Hint, rc.Credential.Hint)
		}
		if m && (want == "" || k.ID == want) {
			cands = append(cands, k)
		}
	}
	switch len(cands) {
	case 0:
		return nil, fmt.Errorf("none of the organization's %d API keys matches %s: already deleted, or a key of another organization (check in the %s)", len(keys), rc.Credential.Hint, anthropic.console)
	case 1:
	default:
		var list []string
		for _, k := range cands {
			list = append(list, fmt.Sprintf("%s (%s, %q, %s)", k.ID, k.Hint, k.Name, k.Status))
		}
		return nil, fmt.Errorf("%d API keys match %s: %v; choose with --param anthropic_key_id=ID", len(cands), rc.Credential.Hint, list)
	}
	k := cands[0]
	rc.Vars["key_id"] = k.ID
	rc.Vars["workspace_id"] = k.WorkspaceID
	res["key_id"], res["key_name"], res["status"], res["workspace"], res["created"] = k.ID, k.Name, k.Status, k.WorkspaceID, k.CreatedAt
	return res, nil
}

func (a anthropicPlan) Preview(ctx context.Context, rc *rotators.RunContext) error {
	_, err := a.Do(ctx, rc)
	return err
}

func (a anthropicPlan) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// anthropicUsage reads the usage report for the exposed key over the window.
type anthropicUsage struct{ p *Provider }

func (a anthropicUsage) Needed(_ context.Context, rc *rotators.RunContext) (bool, string, error) {
	if !hasAdmin(rc) {
		return false, "no admin key: read usage in the Console (Usage, grouped by API key)", nil
	}
	return true, "", nil
}

func (a anthropicUsage) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("read-only: messages usage of key %s since the window start, grouped by api_key_id (GET /v1/organizations/usage_report/messages)", orUnknown(rc.Var("key_id"))), nil
}

func (a anthropicUsage) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	adm, ok, err := a.p.anthropicAdmin(rc)
	if err != nil || !ok {
		return nil, errors.Join(err, errors.New("the admin key is no longer set (ANTHROPIC_ADMIN_KEY)"))
	}
	start, end := window(rc)
	buckets, err := adm.Usage(ctx, rc.Var("key_id"), start, end)
	if err != nil {
		return nil, err
	}
	res, err := usageEvidence(ctx, rc, "anthropic", "anthropic:org", "anthropic:api_key/"+rc.Var("key_id"), start, end, buckets)
	if res != nil {
		res["note"] = "the usage report counts tokens; requests counts buckets x models with tokens"
	}
	return res, err
}

func (a anthropicUsage) Reconcile(context.Context, *rotators.RunContext) (rotators.Result, bool, error) {
	return nil, false, nil
}

// anthropicDeactivate sets the exposed key inactive once the new one is
// verified and delivered.
type anthropicDeactivate struct{ p *Provider }

func (a anthropicDeactivate) Needed(_ context.Context, rc *rotators.RunContext) (bool, string, error) {
	if !hasAdmin(rc) {
		return false, "no admin key: you deactivate the exposed key in the Console (next step)", nil
	}
	return true, "", nil
}

func (a anthropicDeactivate) Describe(_ context.Context, rc *rotators.RunContext) (string, error) {
	return fmt.Sprintf("DEACTIVATE the exposed API key %s (%s): status inactive, anything still using it fails from now on (reversible in the Console)", orUnknown(rc.Var("key_id")), rc.Credential.Hint), nil
}

func (a anthropicDeactivate) Do(ctx context.Context, rc *rotators.RunContext) (rotators.Result, error) {
	if v, _ := rc.Vars["verified"].(bool); !v || rc.Var("delivered_fp") == "" {
		return nil, errors.New("refusing to deactivate the exposed key before the new key is verified and delivered")
	}
	adm, ok, err := a.p.anthropicAdmin(rc)
	if err != nil || !ok {
		return nil, errors.Join(err, errors.New("the admin key is no longer set (ANTHROPIC_ADMIN_KEY)"))
	}
	k, err := adm.SetStatus(ctx, rc.Var("key_id"), "inactive")
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			rc.Vars["old_revoked_by_api"] = true
			return rotators.Result{"already_gone": rc.Var("key_id")}, nil
		}
		return nil, err
	}
	rc.Vars["old_revoked_by_api"] = true
	return rotators.Result{"deactivated": k.ID, "status": k.Status, "exposed": rc.Credential.Hint}, nil
}

func (a anthropicDeactivate) Reconcile(ctx context.Context, rc *rotators.RunContext) (rotators.Result, bool, error) {
	adm, ok, err := a.p.anthropicAdmin(rc)
	if err != nil || !ok {
		return nil, false, err
	}
	keys, err := adm.Keys(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, k := range keys {
		if k.ID == rc.Var("key_id") && k.Status != "active" {
			rc.Vars["old_revoked_by_api"] = true
			return rotators.Result{"deactivated": k.ID, "status": k.Status}, true, nil
		}
	}
	return nil, false, nil
}
