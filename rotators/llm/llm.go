// Package llm rotates LLM provider API keys as playbook actions: OpenAI and
// Anthropic through their Admin APIs (find the exposed key, read its usage
// inside the window, replace it, delete or deactivate it), and guided,
// verified manual rotations for the providers whose keys only a human can
// create (Gemini, Azure OpenAI, Mistral, Cohere, Groq, OpenRouter) and for
// the LiteLLM proxy's own master key. One file per provider; the shared
// steps (verify the new key, deliver it, prove the old one is refused) live
// here.
//
// Calls go out with keys the operator supplies at run time: admin keys from
// the environment (OPENAI_ADMIN_KEY, ANTHROPIC_ADMIN_KEY, LITELLM_MASTER_KEY
// or --param admin_key_from=env:VAR|FILE), new keys from --secret-from or the
// console's hidden prompt; never from a scanned root, and never stored.
package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors/credentials"
	"github.com/tourniquet-ir/tourniquet/internal/redact"
	"github.com/tourniquet-ir/tourniquet/rotators"
	"github.com/tourniquet-ir/tourniquet/rotators/sinks"
)

// Options are the operator's settings and the seams tests use.
type Options struct {
	// Getenv reads admin keys at run time (default os.Getenv).
	Getenv func(string) string
	// HTTP is the client for every provider call (default: 30 s timeout).
	HTTP *http.Client
	// Keystore opens the gateway keystore for --param gateway_ref; nil
	// makes that sink unavailable.
	Keystore func() (sinks.Keystore, error)
	// GatewaySwitched waits until a running gateway serves every route of
	// a keystore reference with the key of this fingerprint (its canary
	// succeeded), so that the old key is revoked only once no route needs
	// it; nil skips the wait.
	GatewaySwitched func(ctx context.Context, ref, fingerprint string) error
	// BaseURLs overrides a provider's API root by provider name ("openai",
	// "anthropic"...): tests point them at fakes. --param api_base wins.
	BaseURLs map[string]string
	// Poll is the delay between verification attempts (default 2 s).
	Poll time.Duration
}

// Provider holds the settings; it is safe for concurrent runs.
type Provider struct {
	o Options
}

// New returns a provider.
func New(o Options) *Provider {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Poll == 0 {
		o.Poll = 2 * time.Second
	}
	return &Provider{o: o}
}

// Secret names in the run's in-memory stores.
const (
	inNewSecret  = "new_secret" // --secret-from or the console's prompt
	inOldSecret  = "old_secret" // --old-secret-from
	secNewKey    = "llm.new_key"
	secOldKey    = "llm.old_key"
	maxBody      = 4 << 20
	userAgent    = "tourniquet (incident response; key rotation)"
	defaultSince = 30 * 24 * time.Hour
)

// service is what the shared steps need to know of a provider.
type service struct {
	name    string // action prefix and BaseURLs key: "openai"
	title   string // "OpenAI"
	base    string // default API root
	console string // where a human creates and revokes keys
	// check asks the provider whether key works: ok=true accepted,
	// ok=false refused (revoked, invalid); err for anything else.
	check func(ctx context.Context, p *Provider, rc *rotators.RunContext, key redact.Secret) (ok bool, detail string, err error)
	// revokedByAdmin proves the exposed key revoked through an admin API
	// when the key itself can no longer be read (optional).
	revokedByAdmin func(ctx context.Context, p *Provider, rc *rotators.RunContext) (revoked, ok bool, detail string, err error)
	// resolve finds the API root when it is per deployment (optional).
	resolve func(p *Provider, rc *rotators.RunContext) (string, error)
}

func (p *Provider) base(rc *rotators.RunContext, s *service) string {
	return p.baseNamed(rc, s.name, s.base)
}

// baseNamed is base without the service value (usable while services are
// being initialised).
func (p *Provider) baseNamed(rc *rotators.RunContext, name, def string) string {
	if b := rc.Param("api_base"); b != "" {
		return strings.TrimRight(b, "/")
	}
	if b := p.o.BaseURLs[name]; b != "" {
		return strings.TrimRight(b, "/")
	}
	return def
}

// apiError is a provider's refusal, with every key in its text replaced by
// its hint.
type apiError struct {
	Op     string
	Status int
	Msg    string
}

func (e *apiError) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("%s: HTTP %d", e.Op, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.Op, e.Status, e.Msg)
}

// keyLike matches the shapes of provider keys and key query parameters, so
// that an error never carries one even when a provider echoes it.
var keyLike = regexp.MustCompile(`(sk-[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{16,}|gsk_[A-Za-z0-9]{16,}|[?&]key=[^&\s"']+)`)

// scrub replaces the known secrets and anything shaped like a key.
func scrub(s string, secrets ...redact.Secret) string {
	for _, sec := range secrets {
		if v := sec.Reveal(); len(v) >= 8 {
			s = strings.ReplaceAll(s, string(v), sec.Hint())
		}
	}
	return keyLike.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "?key=") || strings.HasPrefix(m, "&key=") {
			return m[:5] + "…"
		}
		return redact.Hint(m)
	})
}

// classify turns a transport error or an HTTP status into what the engine
// acts on: 429, 5xx and network failures are transient (retried, then the
// run pauses); 401 and 403 are ErrAuth (exit 4); a cancelled context stays
// context.Canceled.
func classify(op string, status int, body []byte, err error, secrets ...redact.Secret) error {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return context.Canceled
		}
		clean := errors.New(scrub(op+": "+err.Error(), secrets...))
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
			strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF") {
			return rotators.Transient(clean)
		}
		return clean
	}
	if status >= 200 && status < 300 {
		return nil
	}
	ae := &apiError{Op: op, Status: status, Msg: scrub(errorMessage(body), secrets...)}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return rotators.Transient(ae)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%w: %w", rotators.ErrAuth, ae)
	}
	return ae
}

// errorMessage extracts a short message from a provider's error body (the
// OpenAI and Anthropic {"error":{"message"}} shape, Google's, LiteLLM's),
// else the first 200 bytes.
func errorMessage(body []byte) string {
	m := firstJSONString(body, "message")
	if m == "" {
		m = strings.TrimSpace(string(body))
	}
	if len(m) > 200 {
		m = m[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, m)
}

// do sends one request and reads its body (bounded). The caller classifies.
func (p *Provider) do(ctx context.Context, req *http.Request) (int, []byte, error) {
	req = req.WithContext(ctx)
	req.Header.Set("User-Agent", userAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := p.o.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, b, nil
}

// adminKey reads an admin key at run time: --param admin_key_from=env:VAR or
// FILE, else the provider's environment variable. Never stored.
func (p *Provider) adminKey(rc *rotators.RunContext, envVar string) (redact.Secret, bool, error) {
	src := rc.Param("admin_key_from")
	if src == "" {
		v := strings.TrimSpace(p.o.Getenv(envVar))
		if v == "" {
			return redact.Secret{}, false, nil
		}
		return redact.NewSecretString(v), true, nil
	}
	if name, ok := strings.CutPrefix(src, "env:"); ok {
		v := strings.TrimSpace(p.o.Getenv(name))
		if v == "" {
			return redact.Secret{}, false, fmt.Errorf("admin_key_from env:%s: the variable is empty or unset", name)
		}
		return redact.NewSecretString(v), true, nil
	}
	f, err := os.Open(src)
	if err != nil {
		return redact.Secret{}, false, fmt.Errorf("admin_key_from: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return redact.Secret{}, false, fmt.Errorf("admin_key_from: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return redact.Secret{}, false, fmt.Errorf("admin_key_from %s: the file is empty", src)
	}
	return redact.NewSecretString(v), true, nil
}

// sourceFile is where the credential was found, on this machine.
func sourceFile(rc *rotators.RunContext) (string, bool) {
	if rc.Host.Kind != "" && rc.Host.Kind != "host" {
		return "", false
	}
	if rc.Host.Root == "" || rc.Host.Root == "/" {
		return rc.Credential.Path, true
	}
	return path.Join(rc.Host.Root, rc.Credential.Path), true
}

// oldKey recovers the exposed key, in memory only: from this process, else
// by re-reading the file it was found in and matching the fingerprint, else
// from --old-secret-from.
func (p *Provider) oldKey(rc *rotators.RunContext) (redact.Secret, bool) {
	if v, ok := rc.Secrets.Get(secOldKey); ok && v.Fingerprint() == rc.Credential.Fingerprint {
		return v, true
	}
	if file, ok := sourceFile(rc); ok && rc.Credential.Path != "" {
		if data, err := readSmall(file); err == nil {
			for _, f := range credentials.Parse(rc.Credential.Path, data) {
				if f.Secret.Fingerprint() == rc.Credential.Fingerprint {
					rc.Secrets.Put(secOldKey, f.Secret)
					return f.Secret, true
				}
			}
			// The variable the credential was found in, read as a .env
			// loader reads it (whatever the collector's typing rules).
			if m := lineVar.FindStringSubmatch(rc.Credential.Detail); m != nil {
				if v, err := (sinks.Dotenv{Path: file, Var: m[1]}).Current(context.Background()); err == nil && v.Fingerprint() == rc.Credential.Fingerprint {
					rc.Secrets.Put(secOldKey, v)
					return v, true
				}
			}
		}
	}
	if rc.Inputs != nil {
		if v, ok := rc.Inputs.Get(inOldSecret); ok && v.Fingerprint() == rc.Credential.Fingerprint {
			rc.Secrets.Put(secOldKey, v)
			return v, true
		}
	}
	return redact.Secret{}, false
}

func readSmall(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// newKey returns the replacement key: created by this run (in memory),
// supplied by the operator, or, after a crash, read back from its sink.
func (p *Provider) newKey(ctx context.Context, rc *rotators.RunContext) (redact.Secret, string, bool) {
	want := rc.Var("new_fp")
	if v, ok := rc.Secrets.Get(secNewKey); ok && (want == "" || v.Fingerprint() == want) {
		return v, "created", true
	}
	if rc.Inputs != nil {
		if v, ok := rc.Inputs.Get(inNewSecret); ok && (want == "" || v.Fingerprint() == want) {
			return v, "supplied", true
		}
	}
	if want != "" {
		for _, s := range p.sinks(rc) {
			if v, err := s.Current(ctx); err == nil && v.Fingerprint() == want {
				return v, "sink", true
			}
		}
	}
	return redact.Secret{}, "", false
}

// keySink is where a new key goes.
type keySink interface {
	Describe() string
	Deliver(ctx context.Context, oldFP string, v redact.Secret) error
	Current(ctx context.Context) (redact.Secret, error)
}

type dotenvSink struct{ d sinks.Dotenv }

func (s dotenvSink) Describe() string { return s.d.Describe() }
func (s dotenvSink) Deliver(ctx context.Context, oldFP string, v redact.Secret) error {
	_, err := s.d.Replace(ctx, oldFP, v)
	return err
}
func (s dotenvSink) Current(ctx context.Context) (redact.Secret, error) { return s.d.Current(ctx) }

type gatewaySink struct {
	open     func() (sinks.Keystore, error)
	ref      string
	switched func(ctx context.Context, ref, fingerprint string) error
}

func (s gatewaySink) Describe() string { return sinks.Gateway{Ref: s.ref}.Describe() }
func (s gatewaySink) g() (sinks.Gateway, error) {
	ks, err := s.open()
	if err != nil {
		return sinks.Gateway{}, fmt.Errorf("open the gateway keystore: %w", err)
	}
	return sinks.Gateway{Store: ks, Ref: s.ref}, nil
}
func (s gatewaySink) Deliver(ctx context.Context, _ string, v redact.Secret) error {
	g, err := s.g()
	if err != nil {
		return err
	}
	if err := g.Deliver(ctx, v); err != nil {
		return err
	}
	if s.switched != nil {
		if err := s.switched(ctx, s.ref, v.Fingerprint()); err != nil {
			return fmt.Errorf("deliver to %s: %w", g.Describe(), err)
		}
	}
	return nil
}
func (s gatewaySink) Current(ctx context.Context) (redact.Secret, error) {
	g, err := s.g()
	if err != nil {
		return redact.Secret{}, err
	}
	return g.Current(ctx)
}

// lineVar reads the variable name from a Detail "line N: NAME".
var lineVar = regexp.MustCompile(`^line [0-9]+: ([A-Za-z_][A-Za-z0-9_.\-]*)$`)

func isDotenvName(p string) bool {
	b := path.Base(p)
	return b == ".env" || strings.HasPrefix(b, ".env.") || strings.HasSuffix(b, ".env")
}

// sinks lists where the new key goes: --param dotenv_path/dotenv_var (by
// default the .env file and variable the exposed key was found in, when it
// was found on this machine) and/or --param gateway_ref.
func (p *Provider) sinks(rc *rotators.RunContext) []keySink {
	var out []keySink
	file, name := rc.Param("dotenv_path"), rc.Param("dotenv_var")
	onThisMachine := (rc.Host.Root == "" || rc.Host.Root == "/") && (rc.Host.Kind == "" || rc.Host.Kind == "host")
	if m := lineVar.FindStringSubmatch(rc.Credential.Detail); m != nil {
		if name == "" {
			name = m[1]
		}
		if file == "" && onThisMachine && isDotenvName(rc.Credential.Path) {
			file = rc.Credential.Path
		}
	}
	if file != "" && name != "" && rc.Param("no_dotenv") == "" {
		out = append(out, dotenvSink{sinks.Dotenv{Path: file, Var: name}})
	}
	if ref := rc.Param("gateway_ref"); ref != "" && p.o.Keystore != nil {
		out = append(out, gatewaySink{open: p.o.Keystore, ref: ref, switched: p.o.GatewaySwitched})
	}
	return out
}

const noSinkHelp = "no sink for the new key: the exposed key was not found in a .env file on this machine; pass --param dotenv_path=FILE --param dotenv_var=NAME and/or --param gateway_ref=NAME"

func describeSinks(ss []keySink) string {
	var d []string
	for _, s := range ss {
		d = append(d, s.Describe())
	}
	return strings.Join(d, " and ")
}

// window is the time range evidence is read for: the host's window, else
// --param since (RFC 3339 or a duration back from now), else 30 days.
func window(rc *rotators.RunContext) (time.Time, time.Time) {
	now := rc.Now().UTC()
	end := now
	if rc.Host.WindowEnd != nil && !rc.Host.WindowOpen {
		end = rc.Host.WindowEnd.UTC()
	}
	start := now.Add(-defaultSince)
	if rc.Host.WindowStart != nil {
		start = rc.Host.WindowStart.UTC()
	}
	if s := rc.Param("since"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			start = t.UTC()
		} else if d, err := time.ParseDuration(s); err == nil {
			start = now.Add(-d)
		}
	}
	if !start.Before(end) {
		start = end.Add(-24 * time.Hour)
	}
	return start, end
}

func verifyTimeout(rc *rotators.RunContext) time.Duration {
	if d, err := time.ParseDuration(rc.Param("verify_timeout")); err == nil && d > 0 {
		return d
	}
	return 2 * time.Minute
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(decided at run time)"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// serviceBase is the API root for a call; providers without a fixed root
// (Azure, a LiteLLM proxy) set resolve.
func (p *Provider) serviceBase(rc *rotators.RunContext, s *service) (string, error) {
	if s.resolve != nil {
		return s.resolve(p, rc)
	}
	return p.base(rc, s), nil
}
