package github

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ghc "github.com/tourniquet-ir/tourniquet/collectors/github"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/playbooks"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/rotators/github/ghtest"
	"github.com/tourniquet-ir/tourniquet/store"
	"golang.org/x/crypto/nacl/box"
)

// exercises sends each catalogue endpoint's request through the very
// method the collector and the actions call. TestEveryRequestValidAgainstSpec
// fails when an endpoint has no exercise, so a new endpoint cannot skip it.
var exercises = map[string]func(ctx context.Context, c *ghc.Client) error{
	"users/get-authenticated": func(ctx context.Context, c *ghc.Client) error { _, err := c.AuthenticatedUser(ctx); return err },
	"repos/list-for-org":      func(ctx context.Context, c *ghc.Client) error { _, err := c.OrgRepos(ctx, "acme"); return err },
	"repos/list-for-user":     func(ctx context.Context, c *ghc.Client) error { _, err := c.UserRepos(ctx, "alice"); return err },
	"repos/list-for-authenticated-user": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.OwnRepos(ctx)
		return err
	},
	"repos/get-content": func(ctx context.Context, c *ghc.Client) error {
		if _, err := c.Dir(ctx, "acme", "api", ".github/workflows", ""); err != nil {
			return err
		}
		_, err := c.File(ctx, "acme", "api", ".github/workflows/ci.yml", "0123456789abcdef0123456789abcdef01234567")
		if err != nil && strings.Contains(err.Error(), "a directory, not a file") {
			err = nil // Prism's example answer is a listing; the request was valid
		}
		return err
	},
	"actions/list-workflow-runs-for-repo": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.Runs(ctx, "acme", "api", time.Unix(0, 0), time.Now().Add(24*time.Hour), 1)
		return err
	},
	"actions/download-workflow-run-logs": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.RunLogsURL(ctx, "acme", "api", 42)
		return err
	},
	"actions/list-jobs-for-workflow-run": func(ctx context.Context, c *ghc.Client) error { _, err := c.Jobs(ctx, "acme", "api", 42); return err },
	"actions/download-job-logs-for-workflow-run": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.JobLogsURL(ctx, "acme", "api", 4200)
		return err
	},
	"actions/list-repo-secrets": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.RepoSecrets(ctx, "acme", "api")
		return err
	},
	"actions/list-repo-organization-secrets": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.RepoOrgSecrets(ctx, "acme", "api")
		return err
	},
	"repos/get-all-environments": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.Environments(ctx, "acme", "api")
		return err
	},
	"actions/list-environment-secrets": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.EnvSecrets(ctx, "acme", "api", "production")
		return err
	},
	"repos/list-deploy-keys": func(ctx context.Context, c *ghc.Client) error { _, err := c.DeployKeys(ctx, "acme", "api"); return err },
	"users/list-public-ssh-keys-for-authenticated-user": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.UserKeys(ctx)
		return err
	},
	"orgs/get-audit-log": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.AuditLog(ctx, "acme", "created:>=2026-03-19", 10)
		return err
	},
	"credentials/revoke": func(ctx context.Context, c *ghc.Client) error {
		return c.RevokeCredentials(ctx, []string{"ghp_FAKEtokenEXAMPLE0123456789abcdefghijk"})
	},
	"repos/create-deploy-key": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.CreateDeployKey(ctx, "acme", "api", "tourniquet r-0123456789", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRKF1jSpXZ7mjLyM7rDXE3PMoxlnQy6FSRlBx6CgSK6", true)
		return err
	},
	"repos/get-deploy-key": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.DeployKey(ctx, "acme", "api", 7)
		return err
	},
	"repos/delete-deploy-key": func(ctx context.Context, c *ghc.Client) error {
		return c.DeleteDeployKey(ctx, "acme", "api", 7)
	},
	"users/create-public-ssh-key-for-authenticated-user": func(ctx context.Context, c *ghc.Client) error {
		_, err := c.CreateUserKey(ctx, "tourniquet r-0123456789", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDRKF1jSpXZ7mjLyM7rDXE3PMoxlnQy6FSRlBx6CgSK6")
		return err
	},
	"users/get-public-ssh-key-for-authenticated-user": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.UserKey(ctx, 7)
		return err
	},
	"users/delete-public-ssh-key-for-authenticated-user": func(ctx context.Context, c *ghc.Client) error {
		return c.DeleteUserKey(ctx, 7)
	},
	"actions/get-repo-public-key": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.PublicKey(ctx, ghc.SecretScope{Owner: "acme", Repo: "api"})
		return err
	},
	"actions/get-repo-secret": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.Secret(ctx, ghc.SecretScope{Owner: "acme", Repo: "api"}, "PYPI_TOKEN")
		return err
	},
	"actions/create-or-update-repo-secret": func(ctx context.Context, c *ghc.Client) error {
		return putSealed(ctx, c, ghc.SecretScope{Owner: "acme", Repo: "api"}, "PYPI_TOKEN")
	},
	"actions/get-environment-public-key": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.PublicKey(ctx, ghc.SecretScope{Owner: "acme", Repo: "api", Env: "production"})
		return err
	},
	"actions/get-environment-secret": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.Secret(ctx, ghc.SecretScope{Owner: "acme", Repo: "api", Env: "production"}, "DEPLOY_KEY")
		return err
	},
	"actions/create-or-update-environment-secret": func(ctx context.Context, c *ghc.Client) error {
		return putSealed(ctx, c, ghc.SecretScope{Owner: "acme", Repo: "api", Env: "production"}, "DEPLOY_KEY")
	},
	"actions/get-org-public-key": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.PublicKey(ctx, ghc.SecretScope{Org: "acme"})
		return err
	},
	"actions/get-org-secret": func(ctx context.Context, c *ghc.Client) error {
		_, _, err := c.Secret(ctx, ghc.SecretScope{Org: "acme"}, "NPM_TOKEN")
		return err
	},
	"actions/create-or-update-org-secret": func(ctx context.Context, c *ghc.Client) error {
		return putSealed(ctx, c, ghc.SecretScope{Org: "acme"}, "NPM_TOKEN")
	},
}

// putSealed writes a value sealed exactly as putSecret does, to a key of
// our own: Prism's example public key is not a usable X25519 key, and the
// key ID from the description's example is sent as the real one would be.
func putSealed(ctx context.Context, c *ghc.Client, scope ghc.SecretScope, name string) error {
	keyID, _, err := c.PublicKey(ctx, scope)
	if err != nil {
		return err
	}
	pub, _, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	sealed, err := seal(base64.StdEncoding.EncodeToString(pub[:]), []byte("new-value-0123456789"))
	if err != nil {
		return err
	}
	return c.PutSecret(ctx, scope, name, sealed, keyID, "private")
}

// prismOnly sends requests to loopback only (the description's example log
// URL is on the internet, unreachable here) and drops the example Link
// header Prism puts on every list (it would page forever; paging itself is
// tested against the fake).
type prismOnly struct{ rt http.RoundTripper }

func (p prismOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() != "127.0.0.1" {
		return nil, errors.New("prism test: no network beyond loopback")
	}
	resp, err := p.rt.RoundTrip(r)
	if resp != nil {
		resp.Header.Del("Link")
	}
	return resp, err
}

// observer records every request the client sent and Prism's verdict on
// it: a 4xx, or a 500 whose sl-violations name the request, means our
// request is invalid. A 500 whose violations are all in the response is
// Prism rejecting its own example answer (the description's examples miss
// required fields): the request itself passed validation.
type observer struct {
	mu      sync.Mutex
	seen    map[string][]int
	details []string
}

func (o *observer) observe(ep ghc.Endpoint, req *http.Request, resp *http.Response) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string][]int{}
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
		v := resp.Header.Get("sl-violations")
		switch {
		case status == 500 && v != "" && !strings.Contains(v, `"location":["request"`):
			status = 200 // a response-example defect, not ours
		case status >= 400:
			o.details = append(o.details, ep.ID+" "+req.Method+" "+req.URL.RequestURI()+": "+v)
		}
	}
	o.seen[ep.ID] = append(o.seen[ep.ID], status)
}

func (o *observer) bad() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for id, ss := range o.seen {
		for _, s := range ss {
			if s == 0 || s >= 400 {
				out = append(out, id+": "+http.StatusText(s)+" ("+itoa(s)+")")
			}
		}
	}
	sort.Strings(out)
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestEveryRequestValidAgainstSpec is the acceptance test of issue 6: every
// GitHub request the project can send (ghc.Endpoints, which the client's
// transport enforces) goes to Prism in validation mode on GitHub's official
// description, and any 4xx (422 invalid, 404 no such path, 406 media type)
// fails. It then runs the whole collector and every playbook action against
// Prism and requires the same.
func TestEveryRequestValidAgainstSpec(t *testing.T) {
	t.Parallel()
	prism := ghtest.StartPrism(t)
	ctx := context.Background()
	obs := &observer{}
	newClient := func(o ghc.ClientOptions) (*ghc.Client, error) {
		o.BaseURL = prism.URL
		o.Observe = obs.observe
		o.MaxRetries = 1
		o.Transport = prismOnly{http.DefaultTransport}
		o.DownloadTimeout = 2 * time.Second // the example log URL is on the internet
		o.Sleep = func(context.Context, time.Duration) error { return nil }
		return ghc.NewClient(o)
	}
	c, err := newClient(ghc.ClientOptions{Token: redact.NewSecretString("ghp_FAKEoperatorTOKEN0123456789abcdefghij")})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("each endpoint", func(t *testing.T) {
		for _, ep := range ghc.Endpoints {
			ex, ok := exercises[ep.ID]
			if !ok {
				t.Errorf("endpoint %s (%s %s) has no exercise: add one to exercises", ep.ID, ep.Method, ep.Path)
				continue
			}
			if err := ex(ctx, c); err != nil && ghc.Status(err) != http.StatusInternalServerError {
				t.Errorf("%s: %v", ep.ID, err)
			} else if err != nil {
				// Prism answers 500 when its own example answer breaks the
				// schema; the observer tells that from an invalid request.
				t.Logf("%s: %v (Prism's example answer; the request is judged by the observer)", ep.ID, err)
			}
			obs.mu.Lock()
			n := len(obs.seen[ep.ID])
			obs.mu.Unlock()
			if n == 0 {
				t.Errorf("%s: its exercise sent no request to it", ep.ID)
			}
		}
		if len(exercises) != len(ghc.Endpoints) {
			t.Errorf("%d exercises for %d endpoints: an exercise names an endpoint that is not in the catalogue", len(exercises), len(ghc.Endpoints))
		}
	})

	t.Run("collector", func(t *testing.T) {
		ps, err := packs.Builtin()
		if err != nil {
			t.Fatal(err)
		}
		// Prism's example run is from 2020: a wide window makes the
		// collector read its logs, secrets and keys.
		wide := *ps[0]
		wide.ID = "prism-wide"
		wide.Window = packs.Window{Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
		wide.Windows = nil
		wide.CI = []packs.CIRule{{Meta: packs.Meta{ID: "any-checkout", Severity: packs.High, Confidence: packs.Confirmed}, Action: "actions/checkout", AnyTag: true}}
		for _, opt := range []ghc.Options{{Org: "acme"}, {User: "octocat"}, {User: "someone-else"}} {
			opt.Client, opt.Packs = c, append(ps, &wide)
			if _, err := ghc.Collect(ctx, opt); err != nil {
				t.Errorf("collect %+v: %v", opt.Org+opt.User, err)
			}
		}
	})

	t.Run("playbook actions", func(t *testing.T) {
		p := New(Options{APIURL: prism.URL, Client: newClient, Token: func() (ghc.TokenSource, error) {
			return ghc.TokenSource{Token: redact.NewSecretString("ghp_FAKEoperatorTOKEN0123456789abcdefghij"), From: "test"}, nil
		}})
		acts := p.Actions()
		all, err := playbooks.Builtin()
		if err != nil {
			t.Fatal(err)
		}
		creds := map[string]store.Credential{
			"github-token":          {ID: "c-t", Kind: "github-token", Path: "/nowhere/.env", Hint: "ghp_…hijk", Fingerprint: redact.Fingerprint([]byte("ghp_FAKEexposedTOKEN0123456789abcdefghijk"))},
			"github-actions-secret": {ID: "c-s", Kind: "github-actions-secret", Path: "github:acme/api/repo/PYPI_TOKEN", Hint: "PYPI_TOKEN"},
			"github-deploy-key":     {ID: "c-d", Kind: "github-deploy-key", Path: "github:acme/api/keys/1", Hint: "ssh-rsa …"},
			"github-ssh-key":        {ID: "c-k", Kind: "github-ssh-key", Path: "github:user/octocat/keys/2", Hint: "ssh-rsa …"},
		}
		for _, pb := range all {
			if !strings.HasPrefix(pb.ID, "github-") {
				continue
			}
			rc := &rotators.RunContext{Run: store.Run{ID: "r-prism"}, Credential: creds[pb.Kind()], Host: store.Host{Kind: "ci", Root: "-"},
				Vars: map[string]any{}, Params: map[string]any{"key_path": t.TempDir() + "/id_ed25519", "actions_secret": "acme/api/DEPLOY_KEY", "generate": "32"},
				Secrets: &rotators.Secrets{}, Inputs: &rotators.Secrets{}, Now: time.Now, Note: func(string, ...any) {}}
			rc.Secrets.Put(secOldToken, redact.NewSecretString("ghp_FAKEexposedTOKEN0123456789abcdefghijk"))
			rc.Inputs.Put(inNewSecret, redact.NewSecretString("ghp_FAKEnewTOKEN0123456789abcdefghijklmn"))
			for _, sd := range pb.Steps {
				a, ok := acts[sd.Action]
				if sd.Action == "" {
					continue
				}
				if !ok {
					t.Errorf("%s: step %s names unregistered action %s", pb.ID, sd.ID, sd.Action)
					continue
				}
				rc.StepID = sd.ID
				// Prism is stateless, so later steps may not find what
				// earlier ones made; what counts is that each request
				// they send is valid. Preconditions are forced.
				rc.Vars["verified"], rc.Vars["delivered"] = true, true
				if _, err := a.Describe(ctx, rc); err != nil {
					t.Logf("%s/%s describe: %v", pb.ID, sd.ID, err)
				}
				if _, err := a.Do(ctx, rc); err != nil {
					t.Logf("%s/%s: %v (logical, against a stateless mock)", pb.ID, sd.ID, err)
				}
				if _, _, err := a.Reconcile(ctx, rc); err != nil {
					t.Logf("%s/%s reconcile: %v", pb.ID, sd.ID, err)
				}
			}
		}
	})

	if bad := obs.bad(); len(bad) > 0 {
		t.Errorf("requests Prism refused as invalid against GitHub's description:\n  %s\n%s\nPrism's log:\n%s", strings.Join(bad, "\n  "), strings.Join(obs.details, "\n"), tail(prism.Output(), 4000))
	}
	var missing []string
	for _, ep := range ghc.Endpoints {
		if len(obs.seen[ep.ID]) == 0 {
			missing = append(missing, ep.ID)
		}
	}
	if len(missing) > 0 {
		t.Errorf("never sent: %v", missing)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
