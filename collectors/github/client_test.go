package github_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/rotators/github/ghtest"
)

// TestRateLimits: primary (403/429 with X-RateLimit-Remaining: 0 and a
// reset) and secondary limits (Retry-After, or the message alone) are
// waited out and retried; a reset further than the client waits is a
// retryable error, not a crash.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		header    func(now time.Time) http.Header
		body      string
		wantWait  time.Duration
		wantError bool
	}{
		{"primary 403", 403, func(now time.Time) http.Header {
			return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Add(90*time.Second).Unix(), 10)}}
		}, `{"message":"API rate limit exceeded"}`, 90 * time.Second, false},
		{"primary 429", 429, func(now time.Time) http.Header {
			return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)}}
		}, `{}`, 30 * time.Second, false},
		{"secondary Retry-After", 403, func(time.Time) http.Header { return http.Header{"Retry-After": {"7"}} },
			`{"message":"You have exceeded a secondary rate limit"}`, 7 * time.Second, false},
		{"secondary 429 Retry-After", 429, func(time.Time) http.Header { return http.Header{"Retry-After": {"3"}} }, `{}`, 3 * time.Second, false},
		{"secondary message only", 403, func(time.Time) http.Header { return http.Header{} },
			`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`, time.Minute, false},
		{"reset too far", 403, func(now time.Time) http.Header {
			return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(now.Add(2*time.Hour).Unix(), 10)}}
		}, `{}`, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := ghtest.NewFake(t)
			f.AddToken(operatorToken, "responder", "repo")
			f.AddOrg("acme")
			now := time.Now()
			f.FailNext("repos/list-for-org", 1, tc.status, tc.header(now), tc.body)
			var mu sync.Mutex
			var waits []time.Duration
			c := client(t, f, func(o *ghc.ClientOptions) {
				o.Sleep = func(_ context.Context, d time.Duration) error {
					mu.Lock()
					defer mu.Unlock()
					waits = append(waits, d)
					return nil
				}
			})
			_, err := c.OrgRepos(context.Background(), "acme")
			if tc.wantError {
				var rl *ghc.RateLimitError
				if !errors.As(err, &rl) || !ghc.Retryable(err) {
					t.Fatalf("err = %v, want a retryable RateLimitError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("not retried: %v", err)
			}
			if len(waits) != 1 || waits[0] < tc.wantWait-2*time.Second || waits[0] > tc.wantWait+2*time.Second {
				t.Errorf("waited %v, want about %v", waits, tc.wantWait)
			}
			if n := f.CallCount("repos/list-for-org", 200); n != 1 {
				t.Errorf("%d successful calls after the wait, want 1", n)
			}
		})
	}
}

// TestServerErrorsRetried: 5xx are retried a few times, then reported as
// retryable; a 422 is final.
func TestServerErrorsRetried(t *testing.T) {
	t.Parallel()
	f := ghtest.NewFake(t)
	f.AddToken(operatorToken, "responder", "repo")
	f.AddOrg("acme")
	f.FailNext("", 2, 502, nil, `{"message":"bad gateway"}`)
	if _, err := client(t, f, nil).OrgRepos(context.Background(), "acme"); err != nil {
		t.Fatalf("two 502s were not retried: %v", err)
	}
	f.FailNext("", 5, 503, nil, `{}`) // the first try and 4 retries
	_, err := client(t, f, nil).OrgRepos(context.Background(), "acme")
	if err == nil || !ghc.Retryable(err) {
		t.Fatalf("a long outage: err = %v, want retryable", err)
	}
	f.FailNext("", 1, 422, nil, `{"message":"Validation Failed"}`)
	_, err = client(t, f, nil).OrgRepos(context.Background(), "acme")
	if err == nil || ghc.Retryable(err) || ghc.Status(err) != 422 {
		t.Fatalf("422: err = %v, want a final 422", err)
	}
}

func TestCatalogueEnforced(t *testing.T) {
	t.Parallel()
	f := ghtest.NewFake(t)
	f.AddToken(operatorToken, "responder", "repo")
	c := client(t, f, nil)
	req, err := c.GH.NewRequest(http.MethodDelete, "repos/acme/api", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GH.Do(context.Background(), req, nil)
	if !errors.Is(err, ghc.ErrNotInCatalogue) {
		t.Fatalf("an uncatalogued DELETE /repos/{owner}/{repo} was sent: %v", err)
	}
	if len(f.Calls()) != 0 {
		t.Errorf("the fake saw %d requests", len(f.Calls()))
	}
}

func TestMatchEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ method, path, want string }{
		{"GET", "/repos/o/r/actions/secrets/public-key", "actions/get-repo-public-key"},
		{"GET", "/repos/o/r/actions/secrets/PUBLIC_KEY", "actions/get-repo-secret"},
		{"PUT", "/repos/o/r/environments/prod/secrets/X", "actions/create-or-update-environment-secret"},
		{"GET", "/repos/o/r/contents/.github/workflows/ci.yml", "repos/get-content"},
		{"GET", "/repos/o/r/contents/.github/../x", ""},
		{"GET", "/user", "users/get-authenticated"},
		{"POST", "/user", ""},
		{"POST", "/credentials/revoke", "credentials/revoke"},
		{"DELETE", "/repos/o/r/keys/12", "repos/delete-deploy-key"},
		{"GET", "/repos/o/r/keys/12/extra", ""},
	}
	for _, tc := range tests {
		ep, ok := ghc.MatchEndpoint(tc.method, tc.path)
		if ep.ID != tc.want || ok != (tc.want != "") {
			t.Errorf("%s %s = %q, want %q", tc.method, tc.path, ep.ID, tc.want)
		}
	}
	seen := map[string]bool{}
	for _, e := range ghc.Endpoints {
		if seen[e.ID] {
			t.Errorf("endpoint %s listed twice", e.ID)
		}
		seen[e.ID] = true
		if got, ok := ghc.MatchEndpoint(e.Method, strings.NewReplacer("{", "x", "}", "").Replace(e.Path)); !ok || got.ID != e.ID {
			t.Errorf("%s %s matches %q", e.Method, e.Path, got.ID)
		}
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"ghp_FAKEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "github_pat_11FAKE0000000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "gho_FAKEbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "ghs_FAKEcccccccccccccccccccccccccccccccccc"} {
		out := ghc.Scrub("refused: " + tok + " is bad")
		if strings.Contains(out, tok) || !strings.Contains(out, "…") {
			t.Errorf("Scrub kept %s: %q", tok[:8], out)
		}
	}
	err := ghc.Wrap("op", errors.New("echo ghp_FAKEaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
	if strings.Contains(err.Error(), "ghp_FAKEaaaa") {
		t.Errorf("Wrap kept a token: %v", err)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gh := filepath.Join(dir, "gh")
	if err := os.MkdirAll(gh, 0o700); err != nil {
		t.Fatal(err)
	}
	hosts := "github.com:\n    users:\n        alice:\n            oauth_token: gho_FAKEfromHOSTSfile0123456789abcdefghij\n    user: alice\nghe.corp.example:\n    oauth_token: ghp_FAKEenterprise0123456789abcdefghijk\n    user: alice\n"
	if err := os.WriteFile(filepath.Join(gh, "hosts.yml"), []byte(hosts), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		env      map[string]string
		api      string
		wantFrom string
		wantTok  string
		wantErr  string
	}{
		{map[string]string{"GH_TOKEN": "ghp_a", "GITHUB_TOKEN": "ghp_b", "XDG_CONFIG_HOME": dir}, ghc.DefaultBaseURL, "GH_TOKEN", "ghp_a", ""},
		{map[string]string{"GITHUB_TOKEN": "ghp_b", "XDG_CONFIG_HOME": dir}, ghc.DefaultBaseURL, "GITHUB_TOKEN", "ghp_b", ""},
		{map[string]string{"XDG_CONFIG_HOME": dir}, ghc.DefaultBaseURL, "gh hosts.yml (github.com)", "gho_FAKEfromHOSTSfile0123456789abcdefghij", ""},
		{map[string]string{"GH_CONFIG_DIR": gh}, "https://ghe.corp.example/api/v3/", "gh hosts.yml (ghe.corp.example)", "ghp_FAKEenterprise0123456789abcdefghijk", ""},
		{map[string]string{"HOME": filepath.Join(dir, "nobody")}, ghc.DefaultBaseURL, "", "", "no GitHub token"},
	}
	for _, tc := range tests {
		ts, err := ghc.TokenFromEnvironment(func(k string) string { return tc.env[k] }, tc.api)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: err = %v", tc.env, err)
			}
			continue
		}
		if err != nil || ts.From != tc.wantFrom || string(ts.Token.Reveal()) != tc.wantTok {
			t.Errorf("%v: %q %v, want %q", tc.env, ts.From, err, tc.wantFrom)
		}
	}
}
