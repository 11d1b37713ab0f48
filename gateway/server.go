package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tourniquet-ir/tourniquet/gateway/keystore"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Options configure a gateway.
type Options struct {
	Store    *store.Store
	Keys     *keystore.Store
	Incident string
	Allow    AllowList
	// LogContent records request bodies in the audit events (off: only
	// their SHA-256).
	LogContent bool
	// MaxBody bounds a request body (default 4 MiB).
	MaxBody int64
	// Transport reaches the upstreams (default: a tuned http.Transport).
	Transport http.RoundTripper
	// Poll is how often keystore and configuration changes are picked up.
	Poll   time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// credential is a route's active provider key.
type credential struct {
	secret     redact.Secret
	fp         string
	verifiedAt time.Time
}

// route is a configured route with its live state.
type route struct {
	store.GatewayRoute
	base       *url.URL
	cred       atomic.Pointer[credential]
	requests   atomic.Int64
	errors     atomic.Int64
	lastVerify atomic.Pointer[verification]
}

type verification struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Error string    `json:"error,omitempty"`
	Key   string    `json:"key_fingerprint"`
}

// snapshot is the configuration the hot path reads, swapped atomically.
type snapshot struct {
	routes map[string]*route
	keys   map[[32]byte]*vkey
	byID   map[string]*vkey
}

// Server is the gateway.
type Server struct {
	o       Options
	cur     atomic.Pointer[snapshot]
	audit   *auditBatcher
	client  *http.Client
	started time.Time
	mu      sync.Mutex // serialises reloads and key switches
	ksVer   int
	// changed: a route's key was verified or refused since the last
	// status report, which is then written at once (a rotation waits on it).
	changed bool
	// Listen is the address being served, for the status report.
	Listen string
}

// New loads the configuration and keys; Run starts the background work.
func New(ctx context.Context, o Options) (*Server, error) {
	if o.MaxBody <= 0 {
		o.MaxBody = 4 << 20
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Incident == "" {
		o.Incident = "default"
	}
	if o.Allow.hosts == nil {
		o.Allow = NewAllowList(nil)
	}
	if o.Transport == nil {
		o.Transport = &http.Transport{
			Proxy:               nil, // never route provider keys through an environment proxy
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        1024,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
		}
	}
	s := &Server{o: o, client: &http.Client{Transport: o.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		started: o.Now()}
	s.audit = newAuditBatcher(o.Store, o.Incident, o.Logger)
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads routes and virtual keys and the keystore; routes keep their
// verified key unless the keystore changed it (then a canary decides).
func (s *Server) reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	routes, err := s.o.Store.GatewayRoutes(ctx)
	if err != nil {
		return err
	}
	keys, err := s.o.Store.GatewayKeys(ctx)
	if err != nil {
		return err
	}
	secrets, ver, err := s.o.Keys.Snapshot()
	if err != nil {
		return err
	}
	old := s.cur.Load()
	next := &snapshot{routes: map[string]*route{}, keys: map[[32]byte]*vkey{}, byID: map[string]*vkey{}}
	for _, r := range routes {
		base, err := s.o.Allow.Check(r.BaseURL)
		if err != nil {
			s.o.Logger.Warn("route refused", "model", r.Model, "err", err)
			s.audit.add("gateway.route_refused", r.Model, map[string]any{"error": err.Error()})
			continue
		}
		nr := &route{GatewayRoute: r, base: base}
		if old != nil {
			if or, ok := old.routes[r.Model]; ok && or.KeyRef == r.KeyRef {
				nr.cred.Store(or.cred.Load())
				nr.lastVerify.Store(or.lastVerify.Load())
				nr.requests.Store(or.requests.Load())
				nr.errors.Store(or.errors.Load())
			}
		}
		next.routes[r.Model] = nr
	}
	for _, k := range keys {
		if k.RevokedAt != nil {
			continue
		}
		var h [32]byte
		if b, err := hex.DecodeString(k.Hash); err != nil || len(b) != 32 {
			continue
		} else {
			copy(h[:], b)
		}
		var lim *limiter
		if old != nil {
			if ov, ok := old.byID[k.ID]; ok {
				lim = ov.lim
			}
		}
		v := newVKey(k, lim)
		s.audit.knownSpend(k.ID, k.SpentTokens)
		next.keys[h] = v
		next.byID[k.ID] = v
	}
	s.cur.Store(next)
	// Routes without a verified key, or whose key changed in the keystore:
	// verify the keystore's key before using it.
	changed := false
	for _, r := range next.routes {
		sec, ok := secrets[r.KeyRef]
		if !ok {
			continue
		}
		fp := sec.Fingerprint()
		c := r.cred.Load()
		if c != nil && c.fp == fp {
			continue
		}
		// A key that failed its canary is tried again only after a while:
		// not one canary (and one finding) per poll.
		if v := r.lastVerify.Load(); v != nil && !v.OK && v.Key == fp && s.o.Now().Sub(v.At) < canaryRetry {
			continue
		}
		s.verifyAndSwitch(ctx, r, sec)
		changed = true
	}
	s.ksVer = ver
	s.changed = s.changed || changed
	return nil
}

// canaryRetry is how long a key that failed its canary waits before the
// next try.
const canaryRetry = 30 * time.Second

// Run polls for keystore and configuration changes and flushes the audit
// batcher until ctx ends.
func (s *Server) Run(ctx context.Context) {
	go s.audit.run(ctx)
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	status := time.NewTicker(2 * time.Second)
	defer status.Stop()
	s.WriteStatus(ctx) // at once: a rotation may be waiting to see this gateway
	for {
		select {
		case <-ctx.Done():
			s.audit.flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			if err := s.reload(ctx); err != nil {
				s.o.Logger.Warn("reload", "err", err)
			}
			s.mu.Lock()
			changed := s.changed
			s.changed = false
			s.mu.Unlock()
			if changed {
				s.WriteStatus(ctx)
			}
		case <-status.C:
			s.WriteStatus(ctx)
		}
	}
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s }

// HTTPServer wraps the handler with timeouts against slow clients.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr: addr, Handler: s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// api is the client-facing format of an endpoint.
type api int

const (
	apiOpenAI api = iota
	apiAnthropic
)

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var format api
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions":
		format = apiOpenAI
	case r.Method == http.MethodPost && r.URL.Path == "/v1/embeddings":
		format = apiOpenAI
	case r.Method == http.MethodPost && r.URL.Path == "/v1/messages":
		format = apiAnthropic
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		s.models(w, r)
		return
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeError(w, apiOpenAI, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
		return
	}
	start := s.o.Now()
	snap := s.cur.Load()
	key := presentedKey(r)
	if key == "" {
		writeError(w, format, http.StatusUnauthorized, "authentication_error", "a Tourniquet virtual key is required (Authorization: Bearer tqv-… or x-api-key)")
		return
	}
	vk, ok := snap.keys[hashKey(key)]
	if !ok {
		writeError(w, format, http.StatusUnauthorized, "authentication_error", "invalid virtual key "+keyHint(key))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, format, http.StatusRequestEntityTooLarge, "request_too_large", fmt.Sprintf("request body over %d bytes", s.o.MaxBody))
			return
		}
		writeError(w, format, http.StatusBadRequest, "invalid_request_error", "could not read the request body")
		return
	}
	var head struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.Model == "" {
		writeError(w, format, http.StatusBadRequest, "invalid_request_error", "the body must be JSON with a model")
		return
	}
	if !vk.allows(head.Model) {
		s.record(vk, nil, head.Model, http.StatusForbidden, start, body, usage{}, head.Stream, "")
		writeError(w, format, http.StatusForbidden, "permission_error", "this virtual key may not use model "+head.Model)
		return
	}
	rt, ok := snap.routes[head.Model]
	if !ok {
		writeError(w, format, http.StatusNotFound, "not_found_error", "no route for model "+head.Model)
		return
	}
	if ok, wait := vk.admit(start); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.record(vk, rt, head.Model, http.StatusTooManyRequests, start, body, usage{}, head.Stream, "rate limit")
		writeError(w, format, http.StatusTooManyRequests, "rate_limit_error", "rate limit of this virtual key reached")
		return
	}
	if vk.overBudget(s.audit.spentBy(vk.ID)) {
		w.Header().Set("Retry-After", "3600")
		s.record(vk, rt, head.Model, http.StatusTooManyRequests, start, body, usage{}, head.Stream, "budget")
		writeError(w, format, http.StatusTooManyRequests, "rate_limit_error", "token budget of this virtual key spent")
		return
	}
	if r.URL.Path == "/v1/embeddings" && rt.Provider != "openai" {
		writeError(w, format, http.StatusBadRequest, "invalid_request_error", "embeddings are served by OpenAI-compatible routes only")
		return
	}
	if format == apiAnthropic && rt.Provider != "anthropic" {
		writeError(w, format, http.StatusBadRequest, "invalid_request_error", "model "+head.Model+" is not an Anthropic route")
		return
	}
	if format == apiOpenAI && rt.Provider == "anthropic" && !rt.Translate && r.URL.Path == "/v1/chat/completions" {
		writeError(w, format, http.StatusBadRequest, "invalid_request_error", "model "+head.Model+" is an Anthropic route without OpenAI translation")
		return
	}
	s.forward(w, r, format, vk, snap, rt, body, head.Stream, start)
}

// models lists the routes a key may use, in OpenAI's format.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	snap := s.cur.Load()
	key := presentedKey(r)
	vk, ok := snap.keys[hashKey(key)]
	if key == "" || !ok {
		writeError(w, apiOpenAI, http.StatusUnauthorized, "authentication_error", "a valid Tourniquet virtual key is required")
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	out := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for name, rt := range snap.routes {
		if vk.allows(name) {
			out.Data = append(out.Data, model{ID: name, Object: "model", Created: s.started.Unix(), OwnedBy: rt.Provider})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// writeError answers in the client's API format.
func writeError(w http.ResponseWriter, format api, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if format == apiAnthropic {
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": typ}})
}

// record sends a request's metadata to the audit batcher (never blocks on
// disk).
// requestEvent is a request's audit data. Its fields are in the order of
// their JSON names, so that encoding it gives canonical JSON directly (the
// flush hashes it without re-encoding; TestRequestEventCanonical checks).
type requestEvent struct {
	Body             string `json:"body,omitempty"`
	BodySHA256       string `json:"body_sha256"`
	CompletionTokens int    `json:"completion_tokens"`
	KeyID            string `json:"key_id,omitempty"`
	LatencyMS        int64  `json:"latency_ms"`
	Model            string `json:"model"`
	Note             string `json:"note,omitempty"`
	PromptTokens     int    `json:"prompt_tokens"`
	Provider         string `json:"provider,omitempty"`
	Route            string `json:"route,omitempty"`
	Started          string `json:"started"`
	Status           int    `json:"status"`
	Stream           bool   `json:"stream"`
}

func (e *requestEvent) canonical() json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e) // strings and numbers only: cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func (s *Server) record(vk *vkey, rt *route, model string, status int, start time.Time, body []byte, u usage, stream bool, note string) {
	sum := sha256.Sum256(body)
	ev := requestEvent{Model: model, Status: status, LatencyMS: s.o.Now().Sub(start).Milliseconds(), Started: start.UTC().Format(time.RFC3339Nano),
		PromptTokens: u.prompt, CompletionTokens: u.completion, BodySHA256: hex.EncodeToString(sum[:]), Stream: stream, Note: note}
	if rt != nil {
		ev.Route, ev.Provider = rt.Model, rt.Provider
	}
	if s.o.LogContent {
		ev.Body = string(body)
	}
	if vk != nil {
		ev.KeyID = vk.ID
		if n := int64(u.prompt + u.completion); n > 0 {
			s.audit.spend(vk.ID, n)
		}
	}
	s.audit.addRequest(ev.canonical())
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// bodyReader is a helper so that retried upstream attempts can re-send the
// same body.
func bodyReader(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
