package github_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators/github/ghtest"
)

const operatorToken = "ghp_FAKEoperatorTOKEN0123456789abcdefghij"

func builtin(t *testing.T) []*packs.Pack {
	t.Helper()
	ps, err := packs.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func client(t *testing.T, f *ghtest.Fake, mod func(*ghc.ClientOptions)) *ghc.Client {
	t.Helper()
	o := ghc.ClientOptions{BaseURL: f.URL, Token: redact.NewSecretString(operatorToken),
		Sleep: func(context.Context, time.Duration) error { return nil }}
	if mod != nil {
		mod(&o)
	}
	c, err := ghc.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// refCase is one `uses:` line of a generated workflow.
type refCase struct {
	action, ref string
	bad         bool
	why         string
}

// generatedRefs derives, from the built-in packs' CI rules themselves, every
// kind of compromised ref (each bad SHA, each exact ref, both ends and the
// middle of each tag range, each unpinned branch, tags of an any_tag
// action) and the refs the packs call safe (safe_refs, the v-prefixed
// trivy-action tags re-created by the maintainers, 0.35.0, a full SHA of an
// any_tag action that is in no list).
func generatedRefs(t *testing.T, ps []*packs.Pack) []refCase {
	var out []refCase
	for _, p := range ps {
		for _, r := range p.CI {
			a := r.Action
			for sha := range r.BadSHAs {
				out = append(out, refCase{a, sha, true, "bad sha " + r.ID})
				out = append(out, refCase{a, strings.ToUpper(sha[:1]) + sha[1:], true, "bad sha, upper-case first digit " + r.ID})
			}
			for _, ref := range r.Refs {
				out = append(out, refCase{a, ref, true, "ref " + r.ID})
			}
			for _, rg := range r.Ranges {
				from, _ := packs.ParseVersion(rg.From)
				to, _ := packs.ParseVersion(rg.To)
				out = append(out, refCase{a, rg.Prefix + rg.From, true, "range start " + r.ID}, refCase{a, rg.Prefix + rg.To, true, "range end " + r.ID})
				mid := fmt.Sprintf("%d.%d.%d", from[0], (from[1]+to[1])/2, 0)
				out = append(out, refCase{a, rg.Prefix + mid, true, "range middle " + r.ID})
				// Just past the range's end is not in it.
				past := fmt.Sprintf("%d.%d.%d", to[0], to[1]+1, 0)
				if !anyRuleBad(ps, a, rg.Prefix+past) {
					out = append(out, refCase{a, rg.Prefix + past, false, "past range " + r.ID})
				}
			}
			for _, b := range r.Unpinned {
				out = append(out, refCase{a, b, true, "unpinned " + r.ID})
			}
			if r.AnyTag {
				out = append(out, refCase{a, "v1", true, "any tag " + r.ID}, refCase{a, "v2.1.20", true, "any tag " + r.ID}, refCase{a, "main", true, "any tag (branch) " + r.ID})
				out = append(out, refCase{a, "c11ca46d0123456789abcdef0123456789abcdef", false, "full SHA in no list " + r.ID})
			}
			for _, s := range r.SafeRefs {
				out = append(out, refCase{a, s, false, "safe ref " + r.ID})
				if len(s) == 7 {
					out = append(out, refCase{a, s + "0123456789abcdef0123456789abcdef0", false, "full SHA of a short safe ref " + r.ID})
				}
			}
		}
	}
	out = append(out,
		refCase{"aquasecurity/trivy-action", "v0.20.0", false, "maintainers' v-prefixed re-creation"},
		refCase{"aquasecurity/trivy-action", "0.35.0", false, "the safe release"},
		refCase{"actions/checkout", "v4", false, "an unrelated action"},
	)
	// A ref bad under one rule of an action stays expected bad even if
	// another case called it safe: safe means safe under every rule.
	for i := range out {
		if !out[i].bad && anyRuleBad(ps, out[i].action, out[i].ref) {
			t.Fatalf("generated safe ref %s@%s is bad under a pack rule (%s)", out[i].action, out[i].ref, out[i].why)
		}
	}
	return out
}

func anyRuleBad(ps []*packs.Pack, action, ref string) bool {
	for _, p := range ps {
		for i := range p.CI {
			if strings.EqualFold(p.CI[i].Action, action) && p.CI[i].Verdict(ref) != "" {
				return true
			}
		}
	}
	return false
}

var lineRE = regexp.MustCompile(`^line (\d+) uses `)

// TestWorkflowRefRules is the acceptance test of issue 6: generated
// repositories hold every kind of compromised ref the packs describe and
// the packs' safe refs; every compromised ref is found, none of the safe.
func TestWorkflowRefRules(t *testing.T) {
	t.Parallel()
	ps := builtin(t)
	cases := generatedRefs(t, ps)
	f := ghtest.NewFake(t)
	f.AddToken(operatorToken, "responder", "repo, read:org")
	f.AddOrg("acme")
	// Spread the cases over repositories and two files each, in the
	// spellings workflows use.
	type loc struct {
		path string
		line int
	}
	where := map[loc]refCase{}
	const perFile = 40
	for i := 0; i < len(cases); i += 2 * perFile {
		repo := &ghtest.FakeRepo{Owner: "acme", Name: fmt.Sprintf("svc-%02d", i/(2*perFile)), Created: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Files: map[string]string{}}
		for file := 0; file < 2; file++ {
			var b strings.Builder
			b.WriteString("name: ci\non: [push]\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n")
			line := 7
			for j := i + file*perFile; j < min(i+(file+1)*perFile, len(cases)); j++ {
				c := cases[j]
				switch j % 3 {
				case 0:
					fmt.Fprintf(&b, "      - uses: %s@%s\n", c.action, c.ref)
				case 1:
					fmt.Fprintf(&b, "      - uses: \"%s@%s\" # pinned?\n", c.action, c.ref)
				default:
					fmt.Fprintf(&b, "      - name: step %d\n        uses: '%s@%s'\n", j, c.action, c.ref)
					line++
				}
				name := []string{"ci.yml", "scan.yaml"}[file]
				where[loc{"github:acme/" + repo.Name + "/.github/workflows/" + name, line}] = c
				line++
			}
			repo.Files[".github/workflows/"+[]string{"ci.yml", "scan.yaml"}[file]] = b.String()
		}
		repo.Files["README.md"] = "not a workflow"
		f.AddRepo(repo)
	}
	res, err := ghc.Collect(context.Background(), ghc.Options{Org: "acme", Client: client(t, f, nil), Packs: ps, TokenFrom: "test"})
	if err != nil {
		t.Fatal(err)
	}
	found := map[loc]bool{}
	for _, fd := range res.Findings {
		m := lineRE.FindStringSubmatch(fd.Detail)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		found[loc{fd.Path, n}] = true
	}
	bad, safe := 0, 0
	for l, c := range where {
		switch {
		case c.bad && !found[l]:
			t.Errorf("missed compromised ref %s@%s (%s) at %s:%d", c.action, c.ref, c.why, l.path, l.line)
		case !c.bad && found[l]:
			t.Errorf("flagged safe ref %s@%s (%s) at %s:%d", c.action, c.ref, c.why, l.path, l.line)
		}
		if c.bad {
			bad++
		} else {
			safe++
		}
	}
	if bad < 150 || safe < 8 {
		t.Errorf("only %d compromised and %d safe refs generated", bad, safe)
	}
	t.Logf("%d compromised refs found, %d safe refs not flagged, in %d repositories", bad, safe, (len(cases)+2*perFile-1)/(2*perFile))
}

var (
	windowStart = time.Date(2026, 3, 19, 17, 43, 0, 0, time.UTC)
	inWindow    = time.Date(2026, 3, 19, 19, 0, 0, 0, time.UTC)
)

// campaign builds an organization hit the way the packs describe.
func campaign(t *testing.T) *ghtest.Fake {
	f := ghtest.NewFake(t)
	f.AddToken(operatorToken, "responder", "repo, read:org, admin:org")
	f.AddOrg("acme")
	at := func(d time.Duration) time.Time { return inWindow.Add(d) }
	logOf := func(lines ...string) []byte {
		return ghtest.RunLogZip(map[string]string{"scan": "2026-03-19T19:00:00.0000000Z Current runner version: '2.322.0'\n" + strings.Join(lines, "")})
	}
	api := &ghtest.FakeRepo{Owner: "acme", Name: "api", Created: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Envs: []string{"production"},
		Files: map[string]string{
			".github/workflows/scan.yml":                 "jobs:\n  s:\n    steps:\n      - uses: aquasecurity/trivy-action@0.35.0\n",
			".github/workflows/old.yml@deadbeef00000001": "jobs:\n  s:\n    steps:\n      - uses: aquasecurity/setup-trivy@v0.2.3\n",
		},
		Runs: []ghtest.FakeRun{
			// The tag resolved to a known malicious commit.
			{ID: 1, Path: ".github/workflows/scan.yml", HeadSHA: "aaaa", Created: at(0), Updated: at(5 * time.Minute),
				LogZip: logOf(ghtest.ResolvedLine(at(time.Second), "aquasecurity/trivy-action", "0.28.0", "c5967f85626795f647d4bf6eb67227f9b79e02f5"))},
			// The safe release: nothing.
			{ID: 2, Path: ".github/workflows/scan.yml", HeadSHA: "bbbb", Created: at(time.Hour), Updated: at(time.Hour + time.Minute),
				LogZip: logOf(ghtest.ResolvedLine(at(time.Hour), "aquasecurity/trivy-action", "0.35.0", "57a97c7e7821a5776cebc9bb87c984fa69cba8f1"))},
			// Logs expired: the workflow at the run's commit names a bad tag.
			{ID: 3, Path: ".github/workflows/old.yml", HeadSHA: "deadbeef00000001", Created: at(30 * time.Minute), Updated: at(31 * time.Minute)},
			// Outside the window, a restored tag: nothing.
			{ID: 4, Path: ".github/workflows/scan.yml", HeadSHA: "cccc", Created: time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC), Updated: time.Date(2026, 3, 21, 0, 5, 0, 0, time.UTC),
				LogZip: logOf(ghtest.ResolvedLine(time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC), "aquasecurity/trivy-action", "0.28.0", "1111111111111111111111111111111111111111"))},
		}}
	web := &ghtest.FakeRepo{Owner: "acme", Name: "web", Created: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC),
		Runs: []ghtest.FakeRun{
			// The archive is broken: job by job; a KICS tag inside its window.
			{ID: 10, Path: ".github/workflows/kics.yml", HeadSHA: "dddd", Created: time.Date(2026, 3, 23, 13, 30, 0, 0, time.UTC), Updated: time.Date(2026, 3, 23, 13, 40, 0, 0, time.UTC),
				BrokenZip: true, JobLogs: map[string]string{"kics": ghtest.ResolvedLine(time.Date(2026, 3, 23, 13, 30, 1, 0, time.UTC), "Checkmarx/kics-github-action", "v2.1.3", "9999999999999999999999999999999999999999")}},
		}}
	f.AddRepo(api)
	f.AddRepo(web)
	f.AddRepo(&ghtest.FakeRepo{Owner: "acme", Name: "tpcp-docs", Created: at(20 * time.Minute)})
	f.AddRepo(&ghtest.FakeRepo{Owner: "acme", Name: "docs-tpcp-old", Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.AddRepo(&ghtest.FakeRepo{Owner: "acme", Name: "tpcp-docs-2019", Created: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.SetSecret("acme/api", "PYPI_TOKEN", "pypi-old", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	f.SetSecret("acme/api", "ROTATED_LATER", "x", time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC))
	f.SetSecret("acme/api/env:production", "DEPLOY_KEY", "k", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	f.SetSecret("org:acme", "NPM_TOKEN", "npm", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	f.SetSecret("acme/web", "WEB_SECRET", "w", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	f.AddKey("repo:acme/api", "ci deploy", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLDOLD0", true, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	f.AddKey("repo:acme/api", "who added this", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEW0", false, at(2*time.Hour))
	return f
}

func TestCollectRunsSecretsDeadDrops(t *testing.T) {
	t.Parallel()
	f := campaign(t)
	res, err := ghc.Collect(context.Background(), ghc.Options{Org: "acme", Client: client(t, f, nil), Packs: builtin(t), TokenFrom: "test"})
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string][]string{}
	for _, fd := range res.Findings {
		byPath[fd.Path] = append(byPath[fd.Path], fd.Severity+" "+fd.Rule+": "+fd.Detail)
	}
	want := []struct{ path, contains string }{
		{"github:acme/api/actions/runs/1", "known malicious commit (force-pushed to tag 0.28.0)"},
		{"github:acme/api/actions/runs/3", "logs gone: from .github/workflows/old.yml at deadbeef0000"},
		{"github:acme/web/actions/runs/10", "ran checkmarx/kics-github-action@v2.1.3 inside W-KICS-ACTION"},
		{"github:acme/tpcp-docs", "dead drop"},
		{"github:acme/api/keys/", "added-in-campaign"},
	}
	for _, w := range want {
		ok := false
		for p, ds := range byPath {
			if strings.HasPrefix(p, w.path) && strings.Contains(strings.Join(ds, "\n"), w.contains) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("no finding at %s containing %q; findings:\n%s", w.path, w.contains, dump(byPath))
		}
	}
	for _, p := range []string{"github:acme/api/actions/runs/2", "github:acme/api/actions/runs/4", "github:acme/docs-tpcp-old", "github:acme/tpcp-docs-2019"} {
		if len(byPath[p]) > 0 {
			t.Errorf("unexpected finding at %s: %v", p, byPath[p])
		}
	}
	if !strings.HasPrefix(byPath["github:acme/api/actions/runs/1"][0], "critical") {
		t.Errorf("a known malicious commit is not critical: %v", byPath["github:acme/api/actions/runs/1"])
	}
	creds := map[string]string{}
	for _, c := range res.Credentials {
		creds[c.Path] = c.Exposure + " " + c.Kind
		if c.Kind == ghc.KindActionsSecret && (c.Fingerprint != redact.Fingerprint([]byte(strings.TrimPrefix(c.Path, "github:"))) || !strings.Contains(c.Note, "cannot be read")) {
			t.Errorf("secret %s: fingerprint %s / note %q", c.Path, c.Fingerprint, c.Note)
		}
	}
	wantCreds := map[string]string{
		"github:acme/api/repo/PYPI_TOKEN":           "exposed github-actions-secret",
		"github:acme/api/repo/ROTATED_LATER":        "not_exposed github-actions-secret",
		"github:acme/api/env:production/DEPLOY_KEY": "exposed github-actions-secret",
		"github:acme/org/NPM_TOKEN":                 "exposed github-actions-secret",
		"github:acme/web/repo/WEB_SECRET":           "exposed github-actions-secret",
	}
	for p, w := range wantCreds {
		if creds[p] != w {
			t.Errorf("credential %s = %q, want %q", p, creds[p], w)
		}
	}
	if res.Verdict != "was_compromised" || res.Window.Start == nil || !res.Window.Start.Equal(inWindow) {
		t.Errorf("verdict %s window %+v", res.Verdict, res.Window)
	}
	if !strings.Contains(strings.Join(res.Errors, "\n"), "audit log: HTTP 404") {
		t.Errorf("the missing audit log is not reported as skipped: %v", res.Errors)
	}
	for _, c := range f.Calls() {
		if c.Status >= 400 && !(c.Status == 404 && (c.Endpoint == "orgs/get-audit-log" || c.Endpoint == "repos/get-content")) && !(c.Status == 410 && c.Endpoint == "actions/download-workflow-run-logs") {
			t.Errorf("unexpected %d from %s %s", c.Status, c.Method, c.Path)
		}
	}
}

func dump(m map[string][]string) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s\n    %s\n", k, strings.Join(m[k], "\n    "))
	}
	return b.String()
}

// TestPartialResults: a token lacking scopes gives a result that says what
// was skipped and why, not a failure.
func TestPartialResults(t *testing.T) {
	t.Parallel()
	f := campaign(t)
	for _, id := range []string{"actions/list-repo-secrets", "repos/list-deploy-keys", "actions/list-environment-secrets"} {
		f.Deny(id)
	}
	res, err := ghc.Collect(context.Background(), ghc.Options{Org: "acme", Client: client(t, f, nil), Packs: builtin(t)})
	if err != nil {
		t.Fatalf("a token lacking scopes made the scan fail: %v", err)
	}
	errs := strings.Join(res.Errors, "\n")
	for _, want := range []string{"repository secrets: HTTP 403: the token lacks", "deploy keys: HTTP 403", "environment secrets: HTTP 403"} {
		if !strings.Contains(errs, want) {
			t.Errorf("partial result does not say %q:\n%s", want, errs)
		}
	}
	if len(res.Findings) == 0 {
		t.Error("no findings from the parts that could be read")
	}
}

func TestBadTokenFails(t *testing.T) {
	t.Parallel()
	f := campaign(t)
	c := client(t, f, func(o *ghc.ClientOptions) {
		o.Token = redact.NewSecretString("ghp_FAKErevokedTOKEN0123456789abcdefghijk")
	})
	_, err := ghc.Collect(context.Background(), ghc.Options{Org: "acme", Client: c, Packs: builtin(t), TokenFrom: "GH_TOKEN"})
	if err == nil || ghc.Status(err) != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401", err)
	}
	if strings.Contains(err.Error(), "FAKErevokedTOKEN") {
		t.Errorf("the token is in the error: %v", err)
	}
}
