package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"go.yaml.in/yaml/v3"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

// DefaultBaseURL is GitHub.com's REST API.
const DefaultBaseURL = "https://api.github.com/"

// APIVersion is the REST API version every request asks for.
const APIVersion = "2022-11-28"

// ClientOptions configure a Client.
type ClientOptions struct {
	// BaseURL is the REST API root (default https://api.github.com/; GitHub
	// Enterprise Server: https://HOST/api/v3/).
	BaseURL string
	// Token authenticates every request but the anonymous ones
	// (credentials/revoke). It may be zero (public data only).
	Token redact.Secret
	// Transport sends the requests (default: a clone of
	// http.DefaultTransport).
	Transport http.RoundTripper
	// MaxRateWait is the longest the client waits for a rate limit to
	// reset before giving up with a retryable error (default 15 min).
	MaxRateWait time.Duration
	// MaxRetries bounds the retries of one request after a secondary rate
	// limit or a 5xx (default 4).
	MaxRetries int
	// Sleep and Now are replaced in tests.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// Observe, when set, sees every API request sent and the answer (nil
	// when it failed before one): tests prove coverage with it.
	Observe func(ep Endpoint, req *http.Request, resp *http.Response)
	// DownloadTimeout bounds one log download (default 5 min).
	DownloadTimeout time.Duration
	// Note receives progress messages (rate-limit waits).
	Note func(format string, args ...any)
}

// Client talks to one GitHub API with one token, through a transport that
// sends only requests listed in Endpoints, sets the media type and API
// version, and waits out primary and secondary rate limits.
type Client struct {
	// GH is the authenticated go-github client; Anon sends without a token.
	GH   *gh.Client
	Anon *gh.Client
	// Downloads fetch log archives from the URLs the API redirects to:
	// no token, no redirects beyond those URLs' own.
	Downloads *http.Client
	base      *url.URL
	o         ClientOptions
	rate      *rateState
}

// NewClient builds a client.
func NewClient(o ClientOptions) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if !strings.HasSuffix(o.BaseURL, "/") {
		o.BaseURL += "/"
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("github API URL %q: want http(s)://HOST/[PATH/]", o.BaseURL)
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.MaxRateWait == 0 {
		o.MaxRateWait = 15 * time.Minute
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 4
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DownloadTimeout == 0 {
		o.DownloadTimeout = 5 * time.Minute
	}
	if o.Note == nil {
		o.Note = func(string, ...any) {}
	}
	c := &Client{base: base, o: o, rate: &rateState{}}
	mk := func(anon bool) *gh.Client {
		hc := &http.Client{Transport: &apiTransport{c: c, anonymous: anon}}
		g := gh.NewClient(hc)
		g.BaseURL = base
		g.UploadURL = base
		g.UserAgent = "tourniquet"
		return g
	}
	c.GH, c.Anon = mk(false), mk(true)
	c.Downloads = &http.Client{
		Transport: o.Transport,
		Timeout:   o.DownloadTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			req.Header.Del("Authorization")
			return nil
		},
	}
	return c, nil
}

// BaseURL is the API root the client talks to.
func (c *Client) BaseURL() string { return c.base.String() }

// WithToken returns a client for the same API acting with another token
// (a new token under verification).
func (c *Client) WithToken(tok redact.Secret) *Client {
	o := c.o
	o.Token = tok
	n, _ := NewClient(o)
	return n
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// rateState is the client's view of the primary rate limit, shared by its
// requests: it is the authority (go-github's own check never sees a zero).
type rateState struct {
	mu        sync.Mutex
	remaining int
	known     bool
	reset     time.Time
}

// ErrNotInCatalogue is returned for a request that matches no Endpoint.
var ErrNotInCatalogue = errors.New("request is not in the GitHub endpoint catalogue (collectors/github/endpoints.go)")

// RateLimitError says the API refuses requests until a time further away
// than the client will wait.
type RateLimitError struct {
	Until     time.Time
	Secondary bool
}

func (e *RateLimitError) Error() string {
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	return fmt.Sprintf("GitHub %s rate limit: no more requests until %s", kind, e.Until.UTC().Format(time.RFC3339))
}

type apiTransport struct {
	c         *Client
	anonymous bool
}

func (t *apiTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	rel := strings.TrimPrefix(req.URL.Path, strings.TrimSuffix(c.base.Path, "/"))
	if req.URL.Host != c.base.Host {
		return nil, fmt.Errorf("%w: %s to another host", ErrNotInCatalogue, req.Method)
	}
	ep, ok := MatchEndpoint(req.Method, rel)
	if !ok {
		return nil, fmt.Errorf("%w: %s %s", ErrNotInCatalogue, req.Method, Scrub(rel))
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, 8<<20))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		if err := c.waitPrimary(ctx); err != nil {
			return nil, err
		}
		r := req.Clone(ctx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		r.Header.Del("Authorization")
		if !t.anonymous && !ep.Anonymous && !c.o.Token.IsZero() {
			r.Header.Set("Authorization", "Bearer "+string(c.o.Token.Reveal()))
		}
		// go-github sends vnd.github.v3+json or a preview type (repository
		// lists ask for mercy-preview); the description only has
		// application/json (Prism answers 406 otherwise) and GitHub serves
		// it for every call made here.
		r.Header.Set("Accept", "application/json")
		r.Header.Set("X-GitHub-Api-Version", APIVersion)
		resp, err := c.o.Transport.RoundTrip(r)
		if err != nil {
			observeFunc(c.o.Observe).call(ep, r, nil)
			return nil, err
		}
		observeFunc(c.o.Observe).call(ep, r, resp)
		c.recordRate(resp)
		wait, limited, secondary := c.retryAfter(resp)
		if (limited || resp.StatusCode >= 500) && attempt < c.o.MaxRetries {
			if !limited {
				wait = time.Duration(1<<attempt) * time.Second
			}
			if wait <= c.o.MaxRateWait {
				resp.Body.Close()
				c.o.Note("GitHub %s (HTTP %d): waiting %s before retrying %s", limitKind(limited, secondary), resp.StatusCode, wait.Round(time.Second), ep.ID)
				if err := c.o.Sleep(ctx, wait); err != nil {
					return nil, err
				}
				if limited {
					// The wait covered the reset: do not wait for it again.
					c.rate.mu.Lock()
					c.rate.known = false
					c.rate.mu.Unlock()
				}
				continue
			}
		}
		if limited {
			resp.Body.Close()
			return nil, &RateLimitError{Until: c.o.Now().Add(wait), Secondary: secondary}
		}
		// The client keeps the rate state; go-github must not refuse to
		// send on its own (it would on Remaining: 0).
		resp.Header.Del("X-RateLimit-Remaining")
		resp.Header.Del("X-RateLimit-Reset")
		return resp, nil
	}
}

func limitKind(limited, secondary bool) string {
	switch {
	case secondary:
		return "secondary rate limit"
	case limited:
		return "rate limit"
	}
	return "server error"
}

// observeFunc lets a nil Observe be called.
type observeFunc func(ep Endpoint, req *http.Request, resp *http.Response)

func (f observeFunc) call(ep Endpoint, req *http.Request, resp *http.Response) {
	if f != nil {
		f(ep, req, resp)
	}
}

func (c *Client) waitPrimary(ctx context.Context) error {
	c.rate.mu.Lock()
	remaining, known, reset := c.rate.remaining, c.rate.known, c.rate.reset
	c.rate.mu.Unlock()
	if !known || remaining > 0 {
		return nil
	}
	wait := reset.Sub(c.o.Now())
	if wait <= 0 {
		return nil
	}
	if wait > c.o.MaxRateWait {
		return &RateLimitError{Until: reset}
	}
	c.o.Note("GitHub rate limit exhausted: waiting %s for its reset", wait.Round(time.Second))
	if err := c.o.Sleep(ctx, wait+time.Second); err != nil {
		return err
	}
	c.rate.mu.Lock()
	c.rate.known = false
	c.rate.mu.Unlock()
	return nil
}

func (c *Client) recordRate(resp *http.Response) {
	rem, err1 := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	reset, err2 := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	c.rate.mu.Lock()
	c.rate.remaining, c.rate.known, c.rate.reset = rem, true, time.Unix(reset, 0)
	c.rate.mu.Unlock()
}

// retryAfter reads a rate-limit answer: 403 or 429 with Retry-After (a
// secondary limit), or with X-RateLimit-Remaining: 0 (the primary limit,
// until X-RateLimit-Reset). A 403/429 that says "secondary rate limit"
// without a header waits a minute, as GitHub's documentation asks.
func (c *Client) retryAfter(resp *http.Response) (wait time.Duration, limited, secondary bool) {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return 0, false, false
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return time.Duration(n) * time.Second, true, true
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			w := time.Unix(reset, 0).Sub(c.o.Now()) + time.Second
			if w < 0 {
				w = time.Second
			}
			return w, true, false
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return time.Minute, true, true
	}
	// Peek at the body for the secondary limit's message, and put it back.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if bytes.Contains(bytes.ToLower(b), []byte("secondary rate limit")) || bytes.Contains(bytes.ToLower(b), []byte("abuse")) {
		return time.Minute, true, true
	}
	return 0, false, false
}

// Status returns the HTTP status of an API error, or 0.
func Status(err error) int {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return http.StatusForbidden
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) && ab.Response != nil {
		return ab.Response.StatusCode
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// StatusError is an unexpected HTTP status outside go-github's error types.
type StatusError struct {
	Op   string
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("%s: HTTP %d", e.Op, e.Code) }

// Retryable reports a failure worth trying again later: a rate limit, a
// 5xx, a network error.
func Retryable(err error) bool {
	var rl *RateLimitError
	var grl *gh.RateLimitError
	var ab *gh.AbuseRateLimitError
	var ne net.Error
	switch {
	case errors.As(err, &rl), errors.As(err, &grl), errors.As(err, &ab):
		return true
	case Status(err) >= 500 || Status(err) == http.StatusTooManyRequests:
		return true
	case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// tokenRE matches GitHub token shapes, so that no message quotes one.
var tokenRE = regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}|v1\.[0-9a-f]{40})\b`)

// Scrub replaces every token-shaped string in s with its hint.
func Scrub(s string) string {
	return tokenRE.ReplaceAllStringFunc(s, redact.Hint)
}

// Wrap adds context to an API error and scrubs token-shaped text from it.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return &apiError{op: op, err: err}
}

type apiError struct {
	op  string
	err error
}

func (e *apiError) Error() string {
	msg := e.err.Error()
	var er *gh.ErrorResponse
	if errors.As(e.err, &er) && er.Response != nil {
		msg = fmt.Sprintf("HTTP %d %s", er.Response.StatusCode, er.Message)
		if len(er.Errors) > 0 {
			msg += fmt.Sprintf(" %v", er.Errors)
		}
	}
	return Scrub(e.op + ": " + msg)
}

func (e *apiError) Unwrap() error { return e.err }

// TokenSource says where a token came from, never what it is.
type TokenSource struct {
	Token redact.Secret
	From  string // "GH_TOKEN", "GITHUB_TOKEN", "gh hosts.yml (github.com)"
}

// TokenFromEnvironment finds the operator's token: GH_TOKEN, GITHUB_TOKEN
// (GH_ENTERPRISE_TOKEN / GITHUB_ENTERPRISE_TOKEN for other hosts), then the
// GitHub CLI's hosts.yml in the operator's own configuration directory
// ($GH_CONFIG_DIR, $XDG_CONFIG_HOME/gh, ~/.config/gh). It never reads a
// scanned root: a token found there is evidence, not ours to act with.
func TokenFromEnvironment(getenv func(string) string, apiURL string) (TokenSource, error) {
	host := "github.com"
	if u, err := url.Parse(apiURL); err == nil && u.Host != "" && u.Host != "api.github.com" {
		host = u.Hostname()
	}
	names := []string{"GH_TOKEN", "GITHUB_TOKEN"}
	if host != "github.com" {
		names = []string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GH_TOKEN", "GITHUB_TOKEN"}
	}
	for _, n := range names {
		if v := strings.TrimSpace(getenv(n)); v != "" {
			return TokenSource{Token: redact.NewSecretString(v), From: n}, nil
		}
	}
	var dir string
	switch {
	case getenv("GH_CONFIG_DIR") != "":
		dir = getenv("GH_CONFIG_DIR")
	case getenv("XDG_CONFIG_HOME") != "":
		dir = filepath.Join(getenv("XDG_CONFIG_HOME"), "gh")
	case getenv("HOME") != "":
		dir = filepath.Join(getenv("HOME"), ".config", "gh")
	default:
		return TokenSource{}, errors.New("no GitHub token: set GH_TOKEN or GITHUB_TOKEN, or log in with gh")
	}
	file := filepath.Join(dir, "hosts.yml")
	f, err := os.Open(file)
	if err != nil {
		return TokenSource{}, fmt.Errorf("no GitHub token: GH_TOKEN and GITHUB_TOKEN are unset and %s cannot be read (%v)", file, errors.Unwrap(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return TokenSource{}, fmt.Errorf("read %s: %w", file, err)
	}
	var hosts map[string]struct {
		OAuthToken string `yaml:"oauth_token"`
		User       string `yaml:"user"`
		Users      map[string]struct {
			OAuthToken string `yaml:"oauth_token"`
		} `yaml:"users"`
	}
	if err := yaml.Unmarshal(b, &hosts); err != nil {
		return TokenSource{}, fmt.Errorf("%s is not a gh hosts file", file)
	}
	h, ok := hosts[host]
	if !ok {
		return TokenSource{}, fmt.Errorf("no GitHub token for %s in %s (gh may keep it in the system keyring: export GH_TOKEN=$(gh auth token))", host, file)
	}
	tok := h.OAuthToken
	if tok == "" && h.User != "" {
		tok = h.Users[h.User].OAuthToken
	}
	if tok == "" {
		return TokenSource{}, fmt.Errorf("%s has no token for %s (gh keeps it in the system keyring: export GH_TOKEN=$(gh auth token))", file, host)
	}
	return TokenSource{Token: redact.NewSecretString(tok), From: "gh hosts.yml (" + host + ")"}, nil
}
