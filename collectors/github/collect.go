// Package github collects CI evidence from GitHub for an organization or a
// user: workflows that reference compromised action refs (the packs' CI
// rules), runs inside the pack windows with the exact commit each action
// resolved to (from the job logs), the Actions secrets those runs could
// read, dead-drop repositories, deploy keys and SSH keys with their creation
// dates, and the organization audit log where the plan has one. Results use
// the collectors.Result types, so they land in the same database and JSON
// as host scans.
//
// Every request goes through Client, whose transport sends only the
// requests listed in Endpoints.
package github

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/collectors/pyenv"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Credential kinds this collector records.
const (
	KindActionsSecret = "github-actions-secret"
	KindDeployKey     = "github-deploy-key"
	KindSSHKey        = "github-ssh-key"
)

// Pack names the findings that come from this collector's own knowledge
// rather than a pack rule (dead drops, keys, audit events).
const Pack = "tourniquet-github"

// DeadDropNames match the public repositories the payloads create with the
// job's token to upload stolen data when their exfiltration endpoint fails:
// tpcp-docs (trivy-action, setup-trivy), docs-tpcp (KICS), and the
// tpcp-docs-* renames seen on 2026-03-22 (fact sheet 6.1, 6.3).
var DeadDropNames = regexp.MustCompile(`(?i)^(tpcp-docs|docs-tpcp|tpcp-docs-.+)$`)

// Options say what to collect.
type Options struct {
	// Org or User is the account to scan (exactly one).
	Org, User string
	Client    *Client
	Packs     []*packs.Pack
	// TokenFrom says where the operator's token came from (for the record).
	TokenFrom string
	Now       func() time.Time
	Logs      LogLimits
	// MaxRunPages bounds the pages of runs read per repository (100 runs
	// each, newest first, down to the window start). Default 30.
	MaxRunPages int
	// Progress reports what is being read.
	Progress func(format string, args ...any)
}

// ciRule is a pack CI rule with the window it applies in.
type ciRule struct {
	pack   *packs.Pack
	rule   *packs.CIRule
	start  time.Time
	end    *time.Time
	window string
}

func (r ciRule) inWindow(t time.Time) bool {
	return !t.Before(r.start) && (r.end == nil || !t.After(*r.end))
}

type collector struct {
	o        Options
	c        *Client
	res      *collectors.Result
	target   string
	rules    map[string][]ciRule
	since    time.Time // earliest rule window start
	until    time.Time // latest rule window end (or now)
	campaign time.Time // earliest pack start: dead drops and keys from here are suspect
	seenF    map[string]bool
	creds    map[string]int // credential ID -> index in res.Credentials
	skipped  map[string][]string
	windowLo *time.Time
	windowHi *time.Time
}

// Collect scans one organization or user.
func Collect(ctx context.Context, o Options) (*collectors.Result, error) {
	if (o.Org == "") == (o.User == "") {
		return nil, errors.New("github: give an organization or a user")
	}
	if o.Client == nil {
		return nil, errors.New("github: no client")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logs == (LogLimits{}) {
		o.Logs = DefaultLogLimits
	}
	if o.MaxRunPages == 0 {
		o.MaxRunPages = 30
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	started := o.Now()
	account := o.Org
	if account == "" {
		account = o.User
	}
	k := &collector{o: o, c: o.Client, target: "github:" + account, rules: map[string][]ciRule{},
		seenF: map[string]bool{}, creds: map[string]int{}, skipped: map[string][]string{}}
	k.res = &collectors.Result{Schema: collectors.ScanSchema, Host: collectors.HostInfo{Kind: "ci", Name: k.target, Root: "-", ScannedAt: started.UTC()},
		Findings: []collectors.Finding{}, Credentials: []collectors.Credential{}}
	k.index()
	if len(k.rules) == 0 {
		return nil, errors.New("github: none of the packs has CI rules")
	}

	me, err := k.c.AuthenticatedUser(ctx)
	switch {
	case Status(err) == http.StatusUnauthorized:
		return nil, fmt.Errorf("github: the token (%s) was refused: %w", orDefault(o.TokenFrom, "no token"), err)
	case err != nil && o.TokenFrom != "":
		return nil, err
	case err == nil:
		scopes := "fine-grained token or GitHub App (permissions, no scopes)"
		if me.Classic {
			scopes = "scopes: " + orDefault(strings.Join(me.Scopes, ", "), "none")
		}
		k.res.Window.Basis = append(k.res.Window.Basis, fmt.Sprintf("GitHub token of %s (%s; from %s)", me.Login, scopes, orDefault(o.TokenFrom, "options")))
	}

	var repos []Repo
	switch {
	case o.Org != "":
		repos, err = k.c.OrgRepos(ctx, o.Org)
	case me.Login != "" && strings.EqualFold(me.Login, o.User):
		repos, err = k.c.OwnRepos(ctx)
	default:
		repos, err = k.c.UserRepos(ctx, o.User)
	}
	if err != nil && !errors.Is(err, ErrTruncated) {
		if Status(err) == http.StatusNotFound {
			return nil, fmt.Errorf("github: %s not found (or not visible to this token)", account)
		}
		return nil, err
	}
	if errors.Is(err, ErrTruncated) {
		k.skip("repositories", "more than 10,000: only the first 10,000 were scanned")
	}
	sort.Slice(repos, func(i, j int) bool { return repos[i].FullName < repos[j].FullName })
	for _, r := range repos {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k.deadDrop(r)
		o.Progress("%s: workflows, runs, secrets, deploy keys", r.FullName)
		k.repo(ctx, r)
	}
	if o.Org == "" && me.Login != "" && strings.EqualFold(me.Login, o.User) {
		k.userKeys(ctx, me.Login)
	} else if o.User != "" {
		k.skip("user SSH keys", "GitHub lists SSH keys with their IDs and dates only to their own user: scan --github-user with that user's token")
	}
	if o.Org != "" {
		k.auditLog(ctx)
	}
	k.finish(started)
	return k.res, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// index gathers the packs' CI rules by action, with their windows.
func (k *collector) index() {
	for _, p := range k.o.Packs {
		if len(p.CI) > 0 && (k.campaign.IsZero() || p.Window.Start.Before(k.campaign)) {
			k.campaign = p.Window.Start
		}
		for i := range p.CI {
			r := &p.CI[i]
			cr := ciRule{pack: p, rule: r, start: p.Window.Start, end: p.Window.End}
			if w, ok := p.NamedWindow(r.Window); ok {
				cr.start, cr.end, cr.window = w.Start, w.End, w.ID
			}
			k.rules[strings.ToLower(r.Action)] = append(k.rules[strings.ToLower(r.Action)], cr)
			if k.since.IsZero() || cr.start.Before(k.since) {
				k.since = cr.start
			}
			end := k.o.Now()
			if cr.end != nil {
				end = *cr.end
			}
			if end.After(k.until) {
				k.until = end
			}
		}
	}
}

func findingID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "f-gh-" + hex.EncodeToString(h[:6])
}

func (k *collector) add(f collectors.Finding) {
	if k.seenF[f.ID] {
		return
	}
	k.seenF[f.ID] = true
	k.res.Findings = append(k.res.Findings, f)
}

// skip records a part that could not be read, and why.
func (k *collector) skip(part, why string) {
	why = Scrub(why)
	for _, w := range k.skipped[part] {
		if w == why {
			return
		}
	}
	k.skipped[part] = append(k.skipped[part], why)
}

// skipErr explains an API refusal in terms of what the token lacks.
func (k *collector) skipErr(part, need string, err error) {
	switch Status(err) {
	case http.StatusForbidden:
		k.skip(part, "HTTP 403: the token lacks "+need)
	case http.StatusNotFound:
		k.skip(part, "HTTP 404: not visible to this token (it lacks "+need+", or the resource does not exist)")
	default:
		k.skip(part, err.Error())
	}
}

func (k *collector) deadDrop(r Repo) {
	if !DeadDropNames.MatchString(r.Name) || r.CreatedAt.Before(k.campaign) {
		return
	}
	t := r.CreatedAt
	k.add(collectors.Finding{
		ID: findingID(k.target, "dead-drop", r.FullName), Pack: Pack, Rule: "dead-drop-repository", Severity: string(packs.Critical),
		Path:       "github:" + r.FullName,
		Detail:     fmt.Sprintf("repository %s created %s, after the campaign start: the name of the payloads' dead drop for stolen CI secrets (tpcp-docs / docs-tpcp); every secret of the runs that made it is exposed; preserve it as evidence before deleting", r.FullName, t.UTC().Format(time.RFC3339)),
		ObservedAt: &t, Confidence: string(packs.Confirmed),
	})
}

// affected is a run that executed a compromised action ref.
type affected struct {
	run  Run
	end  time.Time
	what string
}

func (k *collector) repo(ctx context.Context, r Repo) {
	k.workflows(ctx, r)
	runs := k.runs(ctx, r)
	if len(runs) > 0 {
		k.secrets(ctx, r, runs)
	}
	k.deployKeys(ctx, r)
}

func (k *collector) workflows(ctx context.Context, r Repo) {
	ents, err := k.c.Dir(ctx, r.Owner, r.Name, ".github/workflows", "")
	if err != nil {
		k.skipErr("workflow files", "read access to repository contents (scope repo, or Contents: read)", err)
		return
	}
	for _, e := range ents {
		if e.Type != "file" || !(strings.HasSuffix(e.Name, ".yml") || strings.HasSuffix(e.Name, ".yaml")) {
			continue
		}
		data, err := k.c.File(ctx, r.Owner, r.Name, e.Path, "")
		if err != nil {
			k.skipErr("workflow files", "read access to repository contents", err)
			continue
		}
		loc := "github:" + r.FullName + "/" + e.Path
		for _, u := range pyenv.ParseWorkflowUses(data) {
			for _, cr := range k.rules[u.Action] {
				verdict := cr.rule.Verdict(u.Ref)
				if verdict == "" {
					continue
				}
				sev := string(cr.rule.Severity)
				if packs.KnownMalicious(verdict) {
					sev = string(packs.Critical)
				}
				k.add(collectors.Finding{
					ID: findingID(k.target, cr.pack.ID, cr.rule.ID, loc, fmt.Sprint(u.Line)), Pack: cr.pack.ID, Rule: cr.rule.ID, Severity: sev,
					Path:    loc,
					Detail:  fmt.Sprintf("line %d uses %s@%s: %s (default branch now; runs are checked separately)", u.Line, u.Action, u.Ref, verdict),
					Excerpt: trunc(u.Raw, 200), Confidence: string(cr.rule.Confidence),
				})
			}
		}
	}
}

// runs finds the runs inside the rules' windows that executed a bad ref,
// with the commit each action resolved to.
func (k *collector) runs(ctx context.Context, r Repo) []affected {
	runs, truncated, err := k.c.Runs(ctx, r.Owner, r.Name, k.since, k.until, k.o.MaxRunPages)
	if err != nil {
		k.skipErr("workflow runs", "read access to Actions (scope repo, or Actions: read)", err)
		return nil
	}
	if truncated {
		k.skip("workflow runs", fmt.Sprintf("%s: more than %d runs since the window start; the oldest were not read (raise the bound)", r.FullName, k.o.MaxRunPages*perPage))
	}
	var out []affected
	for _, run := range runs {
		if ctx.Err() != nil {
			return out
		}
		when := run.StartedAt
		if when.IsZero() {
			when = run.CreatedAt
		}
		acts, how, err := k.runActions(ctx, r, run)
		if err != nil {
			k.skip("run logs", fmt.Sprintf("%s run %d: %v", r.FullName, run.ID, err))
			continue
		}
		var bad []string
		for _, a := range acts {
			for _, cr := range k.rules[a.Action] {
				sev, detail, conf := k.judge(cr, a, when, how)
				if sev == "" {
					continue
				}
				loc := fmt.Sprintf("github:%s/actions/runs/%d", r.FullName, run.ID)
				t := when
				k.add(collectors.Finding{
					ID: findingID(k.target, cr.pack.ID, cr.rule.ID, loc, a.Action, a.Ref, a.SHA), Pack: cr.pack.ID, Rule: cr.rule.ID + ".run", Severity: sev,
					Path: loc,
					Detail: fmt.Sprintf("run %d of %s (%s, event %s, %s) %s; every secret the job could read is exposed; %s",
						run.ID, orDefault(run.Path, run.Name), r.FullName, run.Event, when.UTC().Format(time.RFC3339), detail, run.HTMLURL),
					ObservedAt: &t, Confidence: conf,
				})
				bad = append(bad, a.Action+"@"+a.Ref)
			}
		}
		if len(bad) > 0 {
			end := run.Ended
			if end.Before(when) {
				end = when
			}
			out = append(out, affected{run: run, end: end, what: strings.Join(bad, ", ")})
			k.widen(when, end)
		}
	}
	return out
}

// judge decides whether one resolved action of a run is bad: a known
// malicious commit at any time; a compromised tag only inside its window
// (tags were restored afterwards); a safe commit never.
func (k *collector) judge(cr ciRule, a ResolvedAction, when time.Time, how string) (sev, detail, confidence string) {
	if a.SHA != "" {
		if v := cr.rule.Verdict(a.SHA); packs.KnownMalicious(v) {
			return string(packs.Critical), fmt.Sprintf("resolved %s@%s to %s: %s (%s)", a.Action, a.Ref, a.SHA, v, how), string(cr.rule.Confidence)
		}
		if cr.rule.Verdict(a.SHA) == "" && len(cr.rule.SafeRefs) > 0 && isSafe(cr.rule, a.SHA) {
			return "", "", ""
		}
	}
	v := cr.rule.Verdict(a.Ref)
	if v == "" || !cr.inWindow(when) {
		return "", "", ""
	}
	sha := "the resolved commit is unknown"
	if a.SHA != "" {
		sha = "resolved to " + a.SHA + ", a commit not in the pack's lists"
	}
	conf := string(cr.rule.Confidence)
	if a.SHA == "" {
		conf = string(packs.Inferred)
	}
	return string(cr.rule.Severity), fmt.Sprintf("ran %s@%s inside %s: %s; %s (%s)", a.Action, a.Ref, orDefault(cr.window, "the pack window"), v, sha, how), conf
}

// isSafe reports a SHA the rule names as safe.
func isSafe(r *packs.CIRule, sha string) bool {
	for _, s := range r.SafeRefs {
		s = strings.ToLower(s)
		if len(s) >= 7 && strings.HasPrefix(sha, s) {
			return true
		}
	}
	return false
}

// runActions returns the actions a run resolved, from its log archive, or
// per job, or (logs gone) from the workflow file at the run's commit.
func (k *collector) runActions(ctx context.Context, r Repo, run Run) ([]ResolvedAction, string, error) {
	u, ok, err := k.c.RunLogsURL(ctx, r.Owner, r.Name, run.ID)
	if err != nil {
		return nil, "", err
	}
	if ok {
		zipData, err := k.c.Download(ctx, u, k.o.Logs.ZipBytes)
		if err == nil {
			acts, note, err := RunLogActions(zipData, k.o.Logs)
			if err == nil {
				if note != "" {
					k.skip("run logs", fmt.Sprintf("%s run %d: %s", r.FullName, run.ID, note))
				}
				return acts, "from the job log", nil
			}
		}
		// The archive could not be fetched or read: job by job.
		if acts, err := k.jobActions(ctx, r, run); err == nil {
			return acts, "from the job log", nil
		}
	}
	// Logs expired or deleted: the workflow at the run's commit says which
	// refs it asked for, not which commit they resolved to.
	if run.Path == "" || run.HeadSHA == "" {
		return nil, "", errors.New("logs are gone and the run names no workflow file")
	}
	data, err := k.c.File(ctx, r.Owner, r.Name, run.Path, run.HeadSHA)
	if err != nil {
		return nil, "", fmt.Errorf("logs are gone; workflow at %s: %w", shortSHA(run.HeadSHA), err)
	}
	var acts []ResolvedAction
	for _, use := range pyenv.ParseWorkflowUses(data) {
		acts = append(acts, ResolvedAction{Action: use.Action, Ref: use.Ref})
	}
	return acts, "logs gone: from " + run.Path + " at " + shortSHA(run.HeadSHA), nil
}

func (k *collector) jobActions(ctx context.Context, r Repo, run Run) ([]ResolvedAction, error) {
	jobs, err := k.c.Jobs(ctx, r.Owner, r.Name, run.ID)
	if err != nil {
		return nil, err
	}
	var out []ResolvedAction
	for _, j := range jobs {
		u, ok, err := k.c.JobLogsURL(ctx, r.Owner, r.Name, j.ID)
		if err != nil || !ok {
			continue
		}
		b, err := k.c.Download(ctx, u, k.o.Logs.FileBytes)
		if err != nil {
			continue
		}
		acts, _ := ResolvedActions(strings.NewReader(string(b)), j.Name, k.o.Logs.LineBytes, k.o.Logs.Actions)
		out = append(out, acts...)
	}
	if len(jobs) > 0 && len(out) == 0 {
		return nil, errors.New("no job log could be read")
	}
	return out, nil
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func (k *collector) widen(start, end time.Time) {
	if k.windowLo == nil || start.Before(*k.windowLo) {
		s := start
		k.windowLo = &s
	}
	if k.windowHi == nil || end.After(*k.windowHi) {
		e := end
		k.windowHi = &e
	}
}

// secrets records every Actions secret the affected runs could read.
func (k *collector) secrets(ctx context.Context, r Repo, runs []affected) {
	last := runs[0]
	for _, a := range runs {
		if a.end.After(last.end) {
			last = a
		}
	}
	record := func(scope SecretScope, detail string, s SecretMeta) {
		key := scope.Key() + "/" + s.Name
		fp := redact.Fingerprint([]byte(key))
		loc := "github:" + key
		exposure, reason := store.Exposed, fmt.Sprintf("updated %s, before the end of run %d (%s), which ran %s", s.UpdatedAt.UTC().Format(time.RFC3339), last.run.ID, r.FullName, last.what)
		if s.UpdatedAt.After(last.end) {
			exposure, reason = store.NotExposed, fmt.Sprintf("updated %s, after the last affected run ended (%s): the current value is newer than what the runs could read (rotate the upstream credential if the old value still works)", s.UpdatedAt.UTC().Format(time.RFC3339), last.end.UTC().Format(time.RFC3339))
		}
		id := "c-gh-" + strings.TrimPrefix(fp, "sha256:")[:12]
		t := s.UpdatedAt
		c := collectors.Credential{ID: id, Kind: KindActionsSecret, Path: loc, Fingerprint: fp, Hint: s.Name, ModifiedAt: &t,
			Exposure: exposure, Reason: reason, Owner: scopeOwner(scope), Detail: detail,
			Note: "The value of an Actions secret cannot be read through the API: the fingerprint is sha256 of \"" + key + "\" (repo/scope/name), not of the value."}
		if i, ok := k.creds[id]; ok {
			// An organization secret seen from several repositories: keep
			// the most exposed verdict.
			if k.res.Credentials[i].Exposure != store.Exposed {
				k.res.Credentials[i] = c
			}
			return
		}
		k.creds[id] = len(k.res.Credentials)
		k.res.Credentials = append(k.res.Credentials, c)
	}
	rs := SecretScope{Owner: r.Owner, Repo: r.Name}
	if ss, err := k.c.RepoSecrets(ctx, r.Owner, r.Name); err != nil {
		k.skipErr("repository secrets", "admin access to the repository's Actions secrets (scope repo, or Secrets: read)", err)
	} else {
		for _, s := range ss {
			record(rs, "repository secret", s)
		}
	}
	if ss, err := k.c.RepoOrgSecrets(ctx, r.Owner, r.Name); err != nil {
		k.skipErr("organization secrets", "access to the repository's organization secrets (scope repo, or Secrets: read)", err)
	} else {
		for _, s := range ss {
			record(SecretScope{Org: r.Owner}, "organization secret shared with "+r.FullName, s)
		}
	}
	envs, err := k.c.Environments(ctx, r.Owner, r.Name)
	if err != nil {
		k.skipErr("environment secrets", "read access to environments (scope repo, or Environments: read)", err)
		return
	}
	for _, env := range envs {
		ss, err := k.c.EnvSecrets(ctx, r.Owner, r.Name, env)
		if err != nil {
			k.skipErr("environment secrets", "admin access to environment secrets (scope repo, or Environments/Secrets: read)", err)
			continue
		}
		for _, s := range ss {
			record(SecretScope{Owner: r.Owner, Repo: r.Name, Env: env}, "secret of environment "+env+" (only jobs that name the environment read it: listed conservatively)", s)
		}
	}
}

func scopeOwner(s SecretScope) string {
	if s.Org != "" {
		return s.Org
	}
	return s.Owner + "/" + s.Repo
}

func (k *collector) deployKeys(ctx context.Context, r Repo) {
	ks, err := k.c.DeployKeys(ctx, r.Owner, r.Name)
	if err != nil {
		k.skipErr("deploy keys", "admin access to the repository (scope repo, or Administration: read)", err)
		return
	}
	for _, key := range ks {
		k.key(KindDeployKey, "github:"+r.FullName+"/keys/"+fmt.Sprint(key.ID), r.FullName, key,
			fmt.Sprintf("deploy key %q of %s (%s)", key.Title, r.FullName, access(key.ReadOnly)))
	}
}

func access(ro bool) string {
	if ro {
		return "read-only"
	}
	return "read-write"
}

func (k *collector) userKeys(ctx context.Context, login string) {
	ks, err := k.c.UserKeys(ctx)
	if err != nil {
		k.skipErr("user SSH keys", "scope read:public_key", err)
		return
	}
	for _, key := range ks {
		k.key(KindSSHKey, "github:user/"+login+"/keys/"+fmt.Sprint(key.ID), login, key, fmt.Sprintf("SSH key %q of user %s", key.Title, login))
	}
}

// key records a deploy or SSH key as a credential (fingerprint of its
// public key; its private half is wherever it was put) and a finding when
// it was added after the campaign started.
func (k *collector) key(kind, loc, owner string, key Key, detail string) {
	fp := redact.Fingerprint([]byte(strings.TrimSpace(key.Key)))
	t := key.CreatedAt
	c := collectors.Credential{ID: "c-gh-" + strings.TrimPrefix(fp, "sha256:")[:12], Kind: kind, Path: loc, Fingerprint: fp, Hint: keyHint(key),
		ModifiedAt: &t, Owner: owner, Detail: detail, Exposure: store.Unknown,
		Reason: "exposed if its private half sat in an Actions secret of an affected run or on a hit host; GitHub cannot tell",
		Note:   "The fingerprint is sha256 of the public key (GitHub never holds the private half)."}
	if !key.CreatedAt.Before(k.campaign) {
		c.Reason = "added " + key.CreatedAt.UTC().Format(time.RFC3339) + ", after the campaign started: possibly the attacker's"
		k.add(collectors.Finding{
			ID: findingID(k.target, "key-added", loc), Pack: Pack, Rule: kind + "-added-in-campaign", Severity: string(packs.High),
			Path: loc, Detail: fmt.Sprintf("%s was added %s (by %s), after the campaign started: an attacker with a stolen token can add keys for lasting access; check it", detail, key.CreatedAt.UTC().Format(time.RFC3339), orDefault(key.AddedBy, "unknown")),
			ObservedAt: &t, Confidence: string(packs.Inferred),
		})
	}
	k.creds[c.ID] = len(k.res.Credentials)
	k.res.Credentials = append(k.res.Credentials, c)
}

// keyHint shows the key type and the end of its base64 body.
func keyHint(k Key) string {
	f := strings.Fields(k.Key)
	if len(f) < 2 || len(f[1]) < 8 {
		return k.Title
	}
	return f[0] + " …" + f[1][len(f[1])-8:]
}

// auditEvents worth a look when they happen after the campaign start.
var auditActions = map[string]string{
	"repo.create": "repository created", "repo.rename": "repository renamed", "repo.access": "repository visibility changed",
	"repo.destroy": "repository deleted", "public_key.create": "SSH key added", "deploy_key.create": "deploy key added",
	"org.add_member": "member added", "org.update_member": "member role changed", "personal_access_token.access_granted": "token granted access",
	"org.remove_actions_secret": "organization secret removed", "repo.remove_actions_secret": "repository secret removed",
	"protected_branch.destroy": "branch protection removed", "workflows.disable_workflow": "workflow disabled",
}

func (k *collector) auditLog(ctx context.Context) {
	phrase := "created:>=" + k.campaign.UTC().Format("2006-01-02")
	evs, truncated, err := k.c.AuditLog(ctx, k.o.Org, phrase, 5000)
	if err != nil {
		switch Status(err) {
		case http.StatusNotFound:
			k.skip("audit log", "HTTP 404: the audit log API needs GitHub Enterprise Cloud; read it in the organization settings instead")
		case http.StatusForbidden:
			k.skip("audit log", "HTTP 403: the token lacks read:audit_log (organization owners only)")
		default:
			k.skip("audit log", err.Error())
		}
		return
	}
	if truncated {
		k.skip("audit log", "more than 5,000 events since the campaign start: only the first 5,000 were read")
	}
	k.skip("audit log (note)", "git events (clone, fetch, push) are kept 7 days only; other events 180 days")
	for _, e := range evs {
		what, ok := auditActions[e.Action]
		if !ok || e.At.Before(k.campaign) {
			continue
		}
		sev := string(packs.Medium)
		if DeadDropNames.MatchString(path.Base(e.Repo)) {
			sev = string(packs.Critical)
		}
		t := e.At
		k.add(collectors.Finding{
			ID: findingID(k.target, "audit", e.Action, e.Actor, e.Repo, e.User, e.At.String()), Pack: Pack, Rule: "audit-" + e.Action, Severity: sev,
			Path:       "github:" + k.o.Org + "/audit-log",
			Detail:     fmt.Sprintf("%s: %s by %s %s %s at %s", e.Action, what, orDefault(e.Actor, "unknown"), e.Repo, e.User, e.At.UTC().Format(time.RFC3339)),
			ObservedAt: &t, Confidence: string(packs.Inferred),
		})
	}
}

// finish sets the verdict, the window and the partial-result notes.
func (k *collector) finish(started time.Time) {
	res := k.res
	for _, p := range k.o.Packs {
		if len(p.CI) > 0 {
			res.Packs = append(res.Packs, p.ID)
		}
	}
	res.Verdict = store.VerdictClean
	ran, static := false, false
	for _, f := range res.Findings {
		switch {
		case strings.HasSuffix(f.Rule, ".run"), f.Rule == "dead-drop-repository":
			ran = true
		default:
			static = true
		}
	}
	switch {
	case ran:
		res.Verdict = store.VerdictWasCompromised
	case static:
		res.Verdict = store.VerdictUnknown
	}
	if k.windowLo != nil {
		res.Window.Start, res.Window.End = k.windowLo, k.windowHi
		res.Window.Basis = append(res.Window.Basis, fmt.Sprintf("affected workflow runs from %s to %s", k.windowLo.UTC().Format(time.RFC3339), k.windowHi.UTC().Format(time.RFC3339)))
	}
	parts := make([]string, 0, len(k.skipped))
	for p := range k.skipped {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	for _, p := range parts {
		res.Errors = append(res.Errors, "skipped or partial: "+p+": "+strings.Join(k.skipped[p], "; "))
	}
	sort.SliceStable(res.Findings, func(i, j int) bool { return res.Findings[i].Path < res.Findings[j].Path })
	res.Stats.DurationMS = k.o.Now().Sub(started).Milliseconds()
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
