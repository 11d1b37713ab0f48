package awstest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Proxy sits in front of moto: it forwards every request, records each as a
// CloudTrail event, answers CloudTrail LookupEvents itself, enforces
// access-key status the way IAM does, and injects faults on request.
//
// Order of handling for one request: count it (Calls); an injected FailNext
// fault answers first; then a refused key (Inactive, deleted, or not yet
// propagated) is answered as AWS does; then LookupEvents is answered locally
// and everything else is forwarded to moto; DropNext finally swallows the
// answer. Every call except LookupEvents is recorded as an Event.
type Proxy struct {
	URL string

	upstream *url.URL
	client   *http.Client
	srv      *httptest.Server

	mu      sync.Mutex
	now     func() time.Time
	delay   time.Duration
	limiter Limiter
	keys    map[string]*keyState
	fails   map[string][]*fault
	drops   map[string]int
	calls   map[string]int
	events  []Event // insertion order; the index is the tie-breaker for ordering
	tokens  map[string]pageToken
}

// keyState is what the proxy knows about an access key.
type keyState struct {
	user     string
	status   string    // "Active", "Inactive" or keyDeleted
	usableAt time.Time // refused before this instant (propagation delay)
}

const keyDeleted = "Deleted"

type fault struct {
	status int
	code   string
	left   int
}

const maxBody = 16 << 20

// NewProxy starts a proxy in front of upstream (a moto URL). It is closed in
// t.Cleanup.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		t.Fatalf("awstest: upstream %q is not an absolute URL", upstream)
	}
	transport := &http.Transport{MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second}
	p := &Proxy{
		upstream: u,
		client:   &http.Client{Transport: transport, Timeout: 60 * time.Second},
		now:      time.Now,
		limiter:  NewWindowLimiter(2, time.Second),
		keys:     map[string]*keyState{},
		fails:    map[string][]*fault{},
		drops:    map[string]int{},
		calls:    map[string]int{},
		tokens:   map[string]pageToken{},
	}
	p.srv = httptest.NewServer(p)
	p.URL = p.srv.URL
	t.Cleanup(func() {
		p.srv.Close()
		transport.CloseIdleConnections()
	})
	return p
}

// AWSConfig returns a config for aws-sdk-go-v2 clients that talk to the proxy:
// region us-east-1, static credentials, BaseEndpoint = p.URL, and the SDK's
// default retryer (standard mode, 3 attempts).
//
// It is built from scratch rather than with config.LoadDefaultConfig so that
// the developer's environment (AWS_PROFILE, AWS_ENDPOINT_URL_*, AWS_MAX_ATTEMPTS,
// ~/.aws/config) cannot leak into tests. ctx is accepted for symmetry with
// LoadDefaultConfig and is not used.
func (p *Proxy) AWSConfig(ctx context.Context, accessKeyID, secret string) aws.Config {
	_ = ctx
	creds := aws.Credentials{AccessKeyID: accessKeyID, SecretAccessKey: secret, Source: "awstest"}
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(p.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
	}
}

// bootstrapKeyID signs the set-up calls Bootstrap sends straight to moto,
// which accepts any credentials by default. It is the AWS documentation's
// example key, never a real one.
const bootstrapKeyID = "AKIAIOSFODNN7EXAMPLE"

// Bootstrap creates IAM user (unless it exists) with an access key directly in
// moto (bypassing the proxy, so it leaves no events and no call counts) and
// returns the key.
// The proxy knows the key as Active and usable at once, and knows its user,
// so events signed with it carry Username. Use it for the "operator" key a
// rotator runs with, or for the "exposed" key it rotates.
func (p *Proxy) Bootstrap(ctx context.Context, t testing.TB, user string) (keyID, secret string) {
	t.Helper()
	cfg := p.AWSConfig(ctx, bootstrapKeyID, "bootstrap")
	client := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(p.upstream.String()) })
	_, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)})
	var exists *iamtypes.EntityAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		t.Fatalf("awstest: bootstrap user %s: %v", user, err)
	}
	out, err := client.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatalf("awstest: bootstrap access key for %s: %v", user, err)
	}
	keyID, secret = aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)
	p.mu.Lock()
	p.keys[keyID] = &keyState{user: user, status: "Active"}
	p.mu.Unlock()
	return keyID, secret
}

// SetPropagationDelay makes every key created by CreateAccessKey from now on
// unusable for d after its creation: requests signed with it are refused as
// STS refuses an unknown key (403 InvalidClientTokenId). Real IAM is
// eventually consistent and a new key can take seconds to work
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
// Keys created earlier keep their own delay.
func (p *Proxy) SetPropagationDelay(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.delay = d
}

// FailNext makes the next n calls of action (the operation name, e.g.
// "CreateAccessKey", "GetCallerIdentity", "LookupEvents") fail with status and
// an AWS error body of code in the request's protocol, e.g. 503
// ServiceUnavailable, 500 InternalFailure, 400 Throttling (query) or
// ThrottlingException (JSON). The call is not forwarded: it has no effect in
// moto. Faults queue: FailNext twice for one action injects the first fault's
// n calls, then the second's. The SDK retries 5xx and throttling codes on its
// own, so one injected fault usually shows as one extra call, not an error.
func (p *Proxy) FailNext(action string, status int, code string, n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fails[action] = append(p.fails[action], &fault{status: status, code: code, left: n})
}

// DropNext makes the next n calls of action take effect (they are forwarded
// to moto and recorded as successful events) and then closes the client's
// connection without an answer: the "created but the caller never heard"
// gap. The SDK sees a connection error and, with its default retryer, sends
// the call again.
func (p *Proxy) DropNext(action string, n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drops[action] += n
}

// SetClock replaces the clock of the proxy (time.Now by default). It drives
// the propagation delay, event times, the 90-day LookupEvents window and the
// LookupEvents rate limit, so a test can step time instead of sleeping.
func (p *Proxy) SetClock(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// Calls reports how many requests for action reached the proxy, including
// retries, refused and failed ones.
func (p *Proxy) Calls(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[action]
}

// TotalCalls is how many requests of any action reached the proxy
// (LookupEvents included).
func (p *Proxy) TotalCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		n += c
	}
	return n
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "awstest: read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	req := parseRequest(r, body)

	p.mu.Lock()
	if req.action != "" {
		p.calls[req.action]++
	}
	f := p.takeFaultLocked(req.action)
	refused := f == nil && p.refusedLocked(req.keyID)
	caller := p.userLocked(req.keyID)
	p.mu.Unlock()

	switch {
	case f != nil:
		writeError(w, req, f.status, f.code, "")
		p.record(req, caller, f.code, nil)
		return
	case refused:
		status, code := authError(req)
		writeError(w, req, status, code, "")
		p.record(req, caller, code, nil)
		return
	case req.isLookupEvents():
		rec := httptest.NewRecorder()
		p.lookupEvents(rec, req)
		if p.takeDrop(req.action) {
			dropConnection(w)
			return
		}
		copyHeader(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}

	resp, respBody, err := p.forward(r, body)
	if err != nil {
		writeError(w, req, http.StatusBadGateway, "InternalFailure", "awstest: upstream: "+err.Error())
		p.record(req, caller, "InternalFailure", nil)
		return
	}
	errCode := upstreamErrorCode(req, resp.StatusCode, resp.Header, respBody)
	resources := p.observe(req, caller, errCode, respBody)
	p.record(req, caller, errCode, resources)
	if p.takeDrop(req.action) {
		dropConnection(w)
		return
	}
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// authError is how AWS refuses a request signed with an access key that is
// Inactive, deleted or not yet propagated. Query-protocol services (IAM, STS)
// answer 403 InvalidClientTokenId
// (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
// JSON services (Secrets Manager, CloudTrail) answer the same message as
// 400 UnrecognizedClientException: that is what the real endpoints send, e.g.
// {"__type":"UnrecognizedClientException","message":"The security token
// included in the request is invalid."} from secretsmanager (reported in
// github.com/aws/aws-sdk-php-laravel/pull/228), and what the SDK models as
// UnrecognizedClientException in JSON services.
func authError(req request) (status int, code string) {
	if req.proto == protoJSON {
		return http.StatusBadRequest, "UnrecognizedClientException"
	}
	return http.StatusForbidden, "InvalidClientTokenId"
}

func (p *Proxy) takeFaultLocked(action string) *fault {
	q := p.fails[action]
	if len(q) == 0 {
		return nil
	}
	f := *q[0]
	q[0].left--
	if q[0].left <= 0 {
		p.fails[action] = q[1:]
	}
	return &f
}

func (p *Proxy) takeDrop(action string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drops[action] <= 0 {
		return false
	}
	p.drops[action]--
	return true
}

// refusedLocked reports whether a request signed with keyID must be refused.
// Keys the proxy never saw (the bootstrap admin, made-up keys) are allowed, as
// moto allows them.
func (p *Proxy) refusedLocked(keyID string) bool {
	k, ok := p.keys[keyID]
	if !ok {
		return false
	}
	if k.status != "Active" {
		return true
	}
	return p.now().Before(k.usableAt)
}

func (p *Proxy) userLocked(keyID string) string {
	if k, ok := p.keys[keyID]; ok {
		return k.user
	}
	return ""
}

// dropConnection closes the client connection without writing anything.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("awstest: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic("awstest: hijack: " + err.Error())
	}
	_ = conn.Close()
}

// forward sends the request to moto unchanged (moto does not check SigV4
// signatures, so the changed Host does not matter) and reads the whole answer.
func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	target := *p.upstream
	target.Path = strings.TrimSuffix(target.Path, "/") + r.URL.Path
	target.RawPath = ""
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	copyHeader(out.Header, r.Header)
	resp, err := p.client.Do(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, err
	}
	return resp, respBody, nil
}

// observe updates the key table from a call moto answered, and returns the
// CloudTrail resources the call touched.
//
// Moto accepts requests signed with Inactive or deleted keys; real IAM does
// not. The proxy therefore learns each key's status: from CreateAccessKey
// answers (the key id and user are parsed from the XML; the secret is never
// kept), and from UpdateAccessKey and DeleteAccessKey requests that moto
// accepted.
func (p *Proxy) observe(req request, caller, errCode string, respBody []byte) []Resource {
	var res []Resource
	switch req.proto {
	case protoQuery:
		if user := req.form.Get("UserName"); user != "" {
			res = append(res, Resource{Type: "AWS::IAM::User", Name: user})
		}
		if key := req.form.Get("AccessKeyId"); key != "" {
			res = append(res, Resource{Type: "AWS::IAM::AccessKey", Name: key})
		}
	case protoJSON:
		var in struct{ SecretId, Name string }
		if req.service == "secretsmanager" && json.Unmarshal(req.body, &in) == nil {
			if name := in.SecretId + in.Name; name != "" {
				res = append(res, Resource{Type: "AWS::SecretsManager::Secret", Name: name})
			}
		}
	}
	if errCode != "" || req.service != "iam" {
		return res
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	switch req.action {
	case "CreateAccessKey":
		var doc struct {
			Key struct {
				UserName    string `xml:"UserName"`
				AccessKeyID string `xml:"AccessKeyId"`
				Status      string `xml:"Status"`
			} `xml:"CreateAccessKeyResult>AccessKey"`
		}
		if xml.Unmarshal(respBody, &doc) != nil || doc.Key.AccessKeyID == "" {
			return res
		}
		status := doc.Key.Status
		if status == "" {
			status = "Active"
		}
		p.keys[doc.Key.AccessKeyID] = &keyState{
			user:     doc.Key.UserName,
			status:   status,
			usableAt: p.now().Add(p.delay),
		}
		if req.form.Get("UserName") == "" {
			res = append(res, Resource{Type: "AWS::IAM::User", Name: doc.Key.UserName})
		}
		res = append(res, Resource{Type: "AWS::IAM::AccessKey", Name: doc.Key.AccessKeyID})
	case "UpdateAccessKey", "DeleteAccessKey":
		keyID := req.form.Get("AccessKeyId")
		k := p.keys[keyID]
		if k == nil {
			// A key created outside the proxy: IAM defaults UserName to the
			// signer's user.
			user := req.form.Get("UserName")
			if user == "" {
				user = caller
			}
			k = &keyState{user: user}
			p.keys[keyID] = k
		}
		if req.action == "DeleteAccessKey" {
			k.status = keyDeleted
		} else {
			k.status = req.form.Get("Status")
		}
	}
	return res
}
