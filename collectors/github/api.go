package github

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// The typed calls below are the only way the collector and the rotation
// actions reach GitHub: one method per entry of Endpoints (some use two of
// them). Lists are paged at 100 and bounded by maxPages.

const (
	perPage  = 100
	maxPages = 100 // 10,000 items of one list
	// MaxFileSize bounds a workflow file read through the API.
	MaxFileSize = 1 << 20
)

// ErrTruncated is joined to a list's result when maxPages was reached.
var ErrTruncated = errors.New("list truncated at 10,000 items")

func paged[T any](ctx context.Context, op string, fetch func(opt gh.ListOptions) ([]T, *gh.Response, error)) ([]T, error) {
	var out []T
	opt := gh.ListOptions{PerPage: perPage, Page: 1}
	for page := 0; ; page++ {
		if page == maxPages {
			return out, ErrTruncated
		}
		items, resp, err := fetch(opt)
		if err != nil {
			return out, Wrap(op, err)
		}
		out = append(out, items...)
		if resp == nil || resp.NextPage == 0 || len(items) == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
}

// Me is the token's user and, for classic tokens and OAuth tokens, its
// scopes (nil for fine-grained tokens, which have permissions instead).
type Me struct {
	Login   string
	Scopes  []string
	Classic bool
}

// AuthenticatedUser calls GET /user.
func (c *Client) AuthenticatedUser(ctx context.Context) (Me, error) {
	u, resp, err := c.GH.Users.Get(ctx, "")
	if err != nil {
		return Me{}, Wrap("GET /user", err)
	}
	me := Me{Login: u.GetLogin()}
	if resp != nil {
		if h, ok := resp.Header["X-Oauth-Scopes"]; ok {
			me.Classic = true
			for _, s := range strings.Split(strings.Join(h, ","), ",") {
				if s = strings.TrimSpace(s); s != "" {
					me.Scopes = append(me.Scopes, s)
				}
			}
		}
	}
	return me, nil
}

// Repo is the part of a repository the collector uses.
type Repo struct {
	Owner, Name, FullName string
	ID                    int64
	Private, Archived     bool
	CreatedAt             time.Time
	HTMLURL               string
}

func repoOf(r *gh.Repository) Repo {
	return Repo{Owner: r.GetOwner().GetLogin(), Name: r.GetName(), FullName: r.GetFullName(), ID: r.GetID(),
		Private: r.GetPrivate(), Archived: r.GetArchived(), CreatedAt: r.GetCreatedAt().Time, HTMLURL: r.GetHTMLURL()}
}

func repos(rs []*gh.Repository) []Repo {
	out := make([]Repo, 0, len(rs))
	for _, r := range rs {
		out = append(out, repoOf(r))
	}
	return out
}

// OrgRepos lists every repository of an organization (repos/list-for-org).
func (c *Client) OrgRepos(ctx context.Context, org string) ([]Repo, error) {
	rs, err := paged(ctx, "list repositories of "+org, func(o gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
		return c.GH.Repositories.ListByOrg(ctx, org, &gh.RepositoryListByOrgOptions{Type: "all", ListOptions: o})
	})
	return repos(rs), err
}

// UserRepos lists a user's public repositories (repos/list-for-user).
func (c *Client) UserRepos(ctx context.Context, user string) ([]Repo, error) {
	rs, err := paged(ctx, "list repositories of "+user, func(o gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
		return c.GH.Repositories.ListByUser(ctx, user, &gh.RepositoryListByUserOptions{Type: "owner", ListOptions: o})
	})
	return repos(rs), err
}

// OwnRepos lists the token user's own repositories, private ones included
// (repos/list-for-authenticated-user).
func (c *Client) OwnRepos(ctx context.Context) ([]Repo, error) {
	rs, err := paged(ctx, "list your repositories", func(o gh.ListOptions) ([]*gh.Repository, *gh.Response, error) {
		return c.GH.Repositories.ListByAuthenticatedUser(ctx, &gh.RepositoryListByAuthenticatedUserOptions{Affiliation: "owner", ListOptions: o})
	})
	return repos(rs), err
}

// Entry is a file in a directory listing.
type Entry struct {
	Name, Path, Type, SHA string
	Size                  int
}

// Dir lists a directory at ref ("" for the default branch); a missing
// directory is an empty list (repos/get-content).
func (c *Client) Dir(ctx context.Context, owner, repo, dir, ref string) ([]Entry, error) {
	_, ents, _, err := c.GH.Repositories.GetContents(ctx, owner, repo, dir, &gh.RepositoryContentGetOptions{Ref: ref})
	if Status(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, Wrap(fmt.Sprintf("list %s/%s/%s", owner, repo, dir), err)
	}
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		out = append(out, Entry{Name: e.GetName(), Path: e.GetPath(), Type: e.GetType(), SHA: e.GetSHA(), Size: e.GetSize()})
	}
	return out, nil
}

// File reads a file at ref through the contents API (base64 in JSON, up to
// 1 MiB: larger workflow files are not read).
func (c *Client) File(ctx context.Context, owner, repo, path, ref string) ([]byte, error) {
	fc, _, _, err := c.GH.Repositories.GetContents(ctx, owner, repo, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, Wrap(fmt.Sprintf("read %s/%s/%s", owner, repo, path), err)
	}
	if fc == nil {
		return nil, fmt.Errorf("read %s/%s/%s: a directory, not a file", owner, repo, path)
	}
	if fc.GetSize() > MaxFileSize {
		return nil, fmt.Errorf("read %s/%s/%s: %d bytes, over the %d-byte bound", owner, repo, path, fc.GetSize(), MaxFileSize)
	}
	if fc.GetEncoding() != "base64" {
		return nil, fmt.Errorf("read %s/%s/%s: encoding %q (the file is too large for the contents API)", owner, repo, path, fc.GetEncoding())
	}
	raw := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, derefStr(fc.Content))
	if base64.StdEncoding.DecodedLen(len(raw)) > MaxFileSize {
		return nil, fmt.Errorf("read %s/%s/%s: over the %d-byte bound", owner, repo, path, MaxFileSize)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s/%s: bad base64: %w", owner, repo, path, err)
	}
	return b, nil
}

// Run is the part of a workflow run the collector uses.
type Run struct {
	ID, Attempt                  int64
	Name, Path, Event            string
	Status, Conclusion           string
	HeadSHA, HeadBranch, HTMLURL string
	Actor                        string
	CreatedAt, StartedAt, Ended  time.Time
}

// Runs lists a repository's runs created in [since, until], newest first
// (actions/list-workflow-runs-for-repo). The description types the
// created filter as one date-time, so the range is not sent: pages are read
// newest first until a run older than since, at most maxRunPages pages.
func (c *Client) Runs(ctx context.Context, owner, repo string, since, until time.Time, maxRunPages int) ([]Run, bool, error) {
	var out []Run
	next := 1
	for page := 0; page < maxRunPages; page++ {
		// go-github v60's WorkflowRun has no path (the workflow file): decode
		// the answer here.
		req, err := c.GH.NewRequest(http.MethodGet, fmt.Sprintf("repos/%s/%s/actions/runs?per_page=%d&page=%d", owner, repo, perPage, next), nil)
		if err != nil {
			return out, false, err
		}
		var rs struct {
			WorkflowRuns []*workflowRun `json:"workflow_runs"`
		}
		resp, err := c.GH.Do(ctx, req, &rs)
		if err != nil {
			return out, false, Wrap(fmt.Sprintf("list runs of %s/%s", owner, repo), err)
		}
		older := false
		for _, r := range rs.WorkflowRuns {
			created := r.GetCreatedAt().Time
			if created.Before(since) {
				older = true
				continue
			}
			if created.After(until) {
				continue
			}
			out = append(out, Run{ID: r.GetID(), Attempt: int64(r.GetRunAttempt()), Name: r.GetName(), Path: r.Path, Event: r.GetEvent(),
				Status: r.GetStatus(), Conclusion: r.GetConclusion(), HeadSHA: r.GetHeadSHA(), HeadBranch: r.GetHeadBranch(),
				HTMLURL: r.GetHTMLURL(), Actor: r.GetActor().GetLogin(), CreatedAt: created, StartedAt: r.GetRunStartedAt().Time, Ended: r.GetUpdatedAt().Time})
		}
		if older || resp == nil || resp.NextPage == 0 || len(rs.WorkflowRuns) == 0 {
			return out, false, nil
		}
		next = resp.NextPage
	}
	return out, true, nil
}

type workflowRun struct {
	gh.WorkflowRun
	Path string `json:"path"`
}

func derefStr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// LogsURL asks where a run's log archive is (actions/download-workflow-run-logs);
// gone logs (expired, deleted) give ok=false.
func (c *Client) RunLogsURL(ctx context.Context, owner, repo string, runID int64) (*url.URL, bool, error) {
	u, resp, err := c.GH.Actions.GetWorkflowRunLogs(ctx, owner, repo, runID, 0)
	return logsURL(fmt.Sprintf("logs of run %d of %s/%s", runID, owner, repo), u, resp, err)
}

// JobLogsURL asks where one job's log is (actions/download-job-logs-for-workflow-run).
func (c *Client) JobLogsURL(ctx context.Context, owner, repo string, jobID int64) (*url.URL, bool, error) {
	u, resp, err := c.GH.Actions.GetWorkflowJobLogs(ctx, owner, repo, jobID, 0)
	return logsURL(fmt.Sprintf("log of job %d of %s/%s", jobID, owner, repo), u, resp, err)
}

func logsURL(op string, u *url.URL, resp *gh.Response, err error) (*url.URL, bool, error) {
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		switch code {
		case http.StatusNotFound, http.StatusGone:
			return nil, false, nil
		case 0:
			return nil, false, Wrap(op, err)
		}
		return nil, false, Wrap(op, &StatusError{Op: "GET", Code: code})
	}
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, false, fmt.Errorf("%s: the redirect is not an http(s) URL", op)
	}
	return u, true, nil
}

// Job is one job of a run.
type Job struct {
	ID   int64
	Name string
}

// Jobs lists a run's jobs (actions/list-jobs-for-workflow-run).
func (c *Client) Jobs(ctx context.Context, owner, repo string, runID int64) ([]Job, error) {
	js, err := paged(ctx, fmt.Sprintf("list jobs of run %d", runID), func(o gh.ListOptions) ([]*gh.WorkflowJob, *gh.Response, error) {
		j, resp, err := c.GH.Actions.ListWorkflowJobs(ctx, owner, repo, runID, &gh.ListWorkflowJobsOptions{Filter: "all", ListOptions: o})
		if err != nil {
			return nil, resp, err
		}
		return j.Jobs, resp, nil
	})
	out := make([]Job, 0, len(js))
	for _, j := range js {
		out = append(out, Job{ID: j.GetID(), Name: j.GetName()})
	}
	return out, err
}

// Download fetches a log from the URL the API redirected to, without the
// token, reading at most max bytes.
func (c *Client) Download(ctx context.Context, u *url.URL, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Downloads.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download logs from %s: %w", u.Host, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Op: "download logs from " + u.Host, Code: resp.StatusCode}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("download logs from %s: %w", u.Host, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("download logs from %s: larger than %d bytes", u.Host, max)
	}
	return b, nil
}

// SecretMeta is an Actions secret's name and dates (its value cannot be
// read through the API).
type SecretMeta struct {
	Name       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Visibility string
}

func metas(ss []*gh.Secret) []SecretMeta {
	out := make([]SecretMeta, 0, len(ss))
	for _, s := range ss {
		out = append(out, SecretMeta{Name: s.Name, CreatedAt: s.CreatedAt.Time, UpdatedAt: s.UpdatedAt.Time, Visibility: s.Visibility})
	}
	return out
}

func secretPages(ctx context.Context, op string, f func(o *gh.ListOptions) (*gh.Secrets, *gh.Response, error)) ([]SecretMeta, error) {
	ss, err := paged(ctx, op, func(o gh.ListOptions) ([]*gh.Secret, *gh.Response, error) {
		s, resp, err := f(&o)
		if err != nil {
			return nil, resp, err
		}
		return s.Secrets, resp, nil
	})
	return metas(ss), err
}

// RepoSecrets lists a repository's Actions secrets (actions/list-repo-secrets).
func (c *Client) RepoSecrets(ctx context.Context, owner, repo string) ([]SecretMeta, error) {
	return secretPages(ctx, "list secrets of "+owner+"/"+repo, func(o *gh.ListOptions) (*gh.Secrets, *gh.Response, error) {
		return c.GH.Actions.ListRepoSecrets(ctx, owner, repo, o)
	})
}

// RepoOrgSecrets lists the organization secrets shared with a repository
// (actions/list-repo-organization-secrets).
func (c *Client) RepoOrgSecrets(ctx context.Context, owner, repo string) ([]SecretMeta, error) {
	return secretPages(ctx, "list organization secrets of "+owner+"/"+repo, func(o *gh.ListOptions) (*gh.Secrets, *gh.Response, error) {
		return c.GH.Actions.ListRepoOrgSecrets(ctx, owner, repo, o)
	})
}

// Environments lists a repository's deployment environments (repos/get-all-environments).
func (c *Client) Environments(ctx context.Context, owner, repo string) ([]string, error) {
	var out []string
	opt := &gh.EnvironmentListOptions{ListOptions: gh.ListOptions{PerPage: perPage, Page: 1}}
	for page := 0; page < maxPages; page++ {
		envs, resp, err := c.GH.Repositories.ListEnvironments(ctx, owner, repo, opt)
		if Status(err) == http.StatusNotFound {
			return nil, nil
		}
		if err != nil {
			return out, Wrap("list environments of "+owner+"/"+repo, err)
		}
		for _, e := range envs.Environments {
			out = append(out, e.GetName())
		}
		if resp == nil || resp.NextPage == 0 || len(envs.Environments) == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
	return out, ErrTruncated
}

// EnvSecrets lists an environment's secrets (actions/list-environment-secrets;
// go-github v60 only knows the older /repositories/{id}/... path).
func (c *Client) EnvSecrets(ctx context.Context, owner, repo, env string) ([]SecretMeta, error) {
	return secretPages(ctx, fmt.Sprintf("list secrets of environment %s of %s/%s", env, owner, repo), func(o *gh.ListOptions) (*gh.Secrets, *gh.Response, error) {
		u := fmt.Sprintf("repos/%s/%s/environments/%s/secrets?per_page=%d&page=%d", owner, repo, url.PathEscape(env), o.PerPage, o.Page)
		req, err := c.GH.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, nil, err
		}
		var s gh.Secrets
		resp, err := c.GH.Do(ctx, req, &s)
		return &s, resp, err
	})
}

// Key is a deploy key or a user's SSH key.
type Key struct {
	ID        int64
	Key       string // the public key ("ssh-ed25519 AAAA...")
	Title     string
	ReadOnly  bool
	Verified  bool
	CreatedAt time.Time
	AddedBy   string
	LastUsed  *time.Time
}

func keyOf(k *gh.Key) Key {
	out := Key{ID: k.GetID(), Key: k.GetKey(), Title: k.GetTitle(), ReadOnly: k.GetReadOnly(), Verified: k.GetVerified(),
		CreatedAt: k.GetCreatedAt().Time, AddedBy: k.GetAddedBy()}
	if k.LastUsed != nil {
		t := k.LastUsed.Time
		out.LastUsed = &t
	}
	return out
}

func keys(ks []*gh.Key) []Key {
	out := make([]Key, 0, len(ks))
	for _, k := range ks {
		out = append(out, keyOf(k))
	}
	return out
}

// DeployKeys lists a repository's deploy keys (repos/list-deploy-keys).
func (c *Client) DeployKeys(ctx context.Context, owner, repo string) ([]Key, error) {
	ks, err := paged(ctx, "list deploy keys of "+owner+"/"+repo, func(o gh.ListOptions) ([]*gh.Key, *gh.Response, error) {
		return c.GH.Repositories.ListKeys(ctx, owner, repo, &o)
	})
	return keys(ks), err
}

// CreateDeployKey adds a deploy key (repos/create-deploy-key).
func (c *Client) CreateDeployKey(ctx context.Context, owner, repo, title, pub string, readOnly bool) (Key, error) {
	k, _, err := c.GH.Repositories.CreateKey(ctx, owner, repo, &gh.Key{Title: &title, Key: &pub, ReadOnly: &readOnly})
	if err != nil {
		return Key{}, Wrap("add deploy key to "+owner+"/"+repo, err)
	}
	return keyOf(k), nil
}

// DeployKey reads one deploy key (repos/get-deploy-key); found=false on 404.
func (c *Client) DeployKey(ctx context.Context, owner, repo string, id int64) (Key, bool, error) {
	k, _, err := c.GH.Repositories.GetKey(ctx, owner, repo, id)
	if Status(err) == http.StatusNotFound {
		return Key{}, false, nil
	}
	if err != nil {
		return Key{}, false, Wrap(fmt.Sprintf("read deploy key %d of %s/%s", id, owner, repo), err)
	}
	return keyOf(k), true, nil
}

// DeleteDeployKey removes a deploy key; a key already gone is success
// (repos/delete-deploy-key).
func (c *Client) DeleteDeployKey(ctx context.Context, owner, repo string, id int64) error {
	_, err := c.GH.Repositories.DeleteKey(ctx, owner, repo, id)
	if err != nil && Status(err) != http.StatusNotFound {
		return Wrap(fmt.Sprintf("delete deploy key %d of %s/%s", id, owner, repo), err)
	}
	return nil
}

// UserKeys lists the token user's SSH keys
// (users/list-public-ssh-keys-for-authenticated-user).
func (c *Client) UserKeys(ctx context.Context) ([]Key, error) {
	ks, err := paged(ctx, "list your SSH keys", func(o gh.ListOptions) ([]*gh.Key, *gh.Response, error) {
		return c.GH.Users.ListKeys(ctx, "", &o)
	})
	return keys(ks), err
}

// CreateUserKey adds an SSH key to the token's user.
func (c *Client) CreateUserKey(ctx context.Context, title, pub string) (Key, error) {
	k, _, err := c.GH.Users.CreateKey(ctx, &gh.Key{Title: &title, Key: &pub})
	if err != nil {
		return Key{}, Wrap("add SSH key", err)
	}
	return keyOf(k), nil
}

// UserKey reads one of the token user's SSH keys; found=false on 404.
func (c *Client) UserKey(ctx context.Context, id int64) (Key, bool, error) {
	k, _, err := c.GH.Users.GetKey(ctx, id)
	if Status(err) == http.StatusNotFound {
		return Key{}, false, nil
	}
	if err != nil {
		return Key{}, false, Wrap(fmt.Sprintf("read SSH key %d", id), err)
	}
	return keyOf(k), true, nil
}

// DeleteUserKey removes one of the token user's SSH keys; gone is success.
func (c *Client) DeleteUserKey(ctx context.Context, id int64) error {
	_, err := c.GH.Users.DeleteKey(ctx, id)
	if err != nil && Status(err) != http.StatusNotFound {
		return Wrap(fmt.Sprintf("delete SSH key %d", id), err)
	}
	return nil
}

// AuditEvent is one organization audit log entry.
type AuditEvent struct {
	Action, Actor, Repo, User string
	At                        time.Time
}

// AuditLog reads an organization's audit log entries matching phrase,
// oldest first, following the after cursor (orgs/get-audit-log; GitHub
// Enterprise Cloud plans only: others answer 404).
func (c *Client) AuditLog(ctx context.Context, org, phrase string, maxEntries int) ([]AuditEvent, bool, error) {
	var out []AuditEvent
	after := ""
	for len(out) < maxEntries {
		q := url.Values{"phrase": {phrase}, "per_page": {fmt.Sprint(perPage)}, "order": {"asc"}, "include": {"all"}}
		if after != "" {
			q.Set("after", after)
		}
		req, err := c.GH.NewRequest(http.MethodGet, "orgs/"+org+"/audit-log?"+q.Encode(), nil)
		if err != nil {
			return nil, false, err
		}
		var es []*gh.AuditEntry
		resp, err := c.GH.Do(ctx, req, &es)
		if err != nil {
			return out, false, Wrap("read the audit log of "+org, err)
		}
		for _, e := range es {
			ev := AuditEvent{Action: e.GetAction(), Actor: e.GetActor(), User: e.GetUser()}
			if e.CreatedAt != nil {
				ev.At = e.CreatedAt.Time
			} else if e.Timestamp != nil {
				ev.At = e.Timestamp.Time
			}
			if r, ok := e.AdditionalFields["repo"].(string); ok {
				ev.Repo = r
			} else if r, ok := e.Data["repo"].(string); ok {
				ev.Repo = r
			}
			out = append(out, ev)
		}
		if resp == nil || resp.After == "" || len(es) == 0 {
			return out, false, nil
		}
		after = resp.After
	}
	return out, true, nil
}

// RevokeCredentials asks GitHub to revoke tokens (credentials/revoke): at
// most 1,000 per request, sent without authentication (an authenticated
// request is refused). 202 Accepted is success; revocation is asynchronous.
func (c *Client) RevokeCredentials(ctx context.Context, tokens []string) error {
	if len(tokens) == 0 || len(tokens) > 1000 {
		return fmt.Errorf("revoke: %d credentials in one request (1 to 1,000)", len(tokens))
	}
	req, err := c.Anon.NewRequest(http.MethodPost, "credentials/revoke", map[string][]string{"credentials": tokens})
	if err != nil {
		return err
	}
	_, err = c.Anon.Do(ctx, req, nil)
	var accepted *gh.AcceptedError
	if err == nil || errors.As(err, &accepted) {
		return nil
	}
	return Wrap(fmt.Sprintf("revoke %d credential(s)", len(tokens)), err)
}

// SecretScope names where an Actions secret lives: an organization, a
// repository, or a repository's environment.
type SecretScope struct {
	Org         string // organization secret
	Owner, Repo string // repository secret (and environment's repository)
	Env         string // environment secret
}

func (s SecretScope) String() string {
	switch {
	case s.Org != "":
		return "organization " + s.Org
	case s.Env != "":
		return fmt.Sprintf("environment %s of %s/%s", s.Env, s.Owner, s.Repo)
	}
	return "repository " + s.Owner + "/" + s.Repo
}

// Key returns "repo/scope": owner/repo/repo, owner/repo/env:NAME or org/org,
// the prefix of an exposed secret's fingerprint input.
func (s SecretScope) Key() string {
	switch {
	case s.Org != "":
		return s.Org + "/org"
	case s.Env != "":
		return s.Owner + "/" + s.Repo + "/env:" + s.Env
	}
	return s.Owner + "/" + s.Repo + "/repo"
}

func (s SecretScope) prefix() string {
	switch {
	case s.Org != "":
		return "orgs/" + s.Org + "/actions/secrets"
	case s.Env != "":
		return fmt.Sprintf("repos/%s/%s/environments/%s/secrets", s.Owner, s.Repo, url.PathEscape(s.Env))
	}
	return fmt.Sprintf("repos/%s/%s/actions/secrets", s.Owner, s.Repo)
}

// PublicKey returns the scope's key for sealing secrets
// (actions/get-{repo,environment,org}-public-key).
func (c *Client) PublicKey(ctx context.Context, s SecretScope) (keyID, key string, err error) {
	req, err := c.GH.NewRequest(http.MethodGet, s.prefix()+"/public-key", nil)
	if err != nil {
		return "", "", err
	}
	var pk gh.PublicKey
	if _, err := c.GH.Do(ctx, req, &pk); err != nil {
		return "", "", Wrap("read the secrets public key of "+s.String(), err)
	}
	return pk.GetKeyID(), pk.GetKey(), nil
}

// Secret reads a secret's metadata; found=false on 404
// (actions/get-{repo,environment,org}-secret).
func (c *Client) Secret(ctx context.Context, s SecretScope, name string) (SecretMeta, bool, error) {
	req, err := c.GH.NewRequest(http.MethodGet, s.prefix()+"/"+url.PathEscape(name), nil)
	if err != nil {
		return SecretMeta{}, false, err
	}
	var sec gh.Secret
	_, err = c.GH.Do(ctx, req, &sec)
	if Status(err) == http.StatusNotFound {
		return SecretMeta{}, false, nil
	}
	if err != nil {
		return SecretMeta{}, false, Wrap("read secret "+name+" of "+s.String(), err)
	}
	return SecretMeta{Name: sec.Name, CreatedAt: sec.CreatedAt.Time, UpdatedAt: sec.UpdatedAt.Time, Visibility: sec.Visibility}, true, nil
}

// PutSecret creates or updates a secret with a value already sealed to the
// scope's public key (actions/create-or-update-{repo,environment,org}-secret).
// An organization secret keeps the visibility given (all, private, selected);
// selected repositories are left as they are.
func (c *Client) PutSecret(ctx context.Context, s SecretScope, name, sealedB64, keyID, visibility string) error {
	body := map[string]string{"encrypted_value": sealedB64, "key_id": keyID}
	if s.Org != "" {
		if visibility == "" {
			visibility = "private"
		}
		body["visibility"] = visibility
	}
	req, err := c.GH.NewRequest(http.MethodPut, s.prefix()+"/"+url.PathEscape(name), body)
	if err != nil {
		return err
	}
	_, err = c.GH.Do(ctx, req, nil)
	return Wrap("write secret "+name+" of "+s.String(), err)
}
