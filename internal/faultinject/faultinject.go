// Package faultinject is an http.RoundTripper for tests that makes a
// provider misbehave on a schedule: rate limits with reset headers, server
// errors, connection resets (before the request left, or after the
// provider applied it and the answer was lost), timeouts and truncated
// bodies. Provider clients take a transport, so every rotator is tested
// against the same faults.
package faultinject

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Kind is one fault.
type Kind int

const (
	None Kind = iota
	// RateLimited answers 429 with Retry-After, X-RateLimit-Remaining 0
	// and X-RateLimit-Reset (one second ahead); the request is not sent.
	RateLimited
	// ServerError answers 503; the request is not sent.
	ServerError
	// ResetBefore fails with a connection reset before the request left.
	ResetBefore
	// ResetAfter sends the request (the provider applies it) and then
	// fails with a connection reset: the answer is lost. This is the
	// create-before-record gap seen from the network.
	ResetAfter
	// Timeout fails with a network timeout; the request is not sent.
	Timeout
	// Truncated sends the request and cuts the answer's body in half.
	Truncated
)

var names = map[Kind]string{None: "none", RateLimited: "429", ServerError: "5xx", ResetBefore: "reset-before",
	ResetAfter: "reset-after", Timeout: "timeout", Truncated: "truncated"}

func (k Kind) String() string { return names[k] }

// All are the faults, for tables.
var All = []Kind{RateLimited, ServerError, ResetBefore, ResetAfter, Timeout, Truncated}

// Schedule picks the fault for the n-th request (from 0) the transport
// sees; it may look at the request.
type Schedule func(n int, r *http.Request) Kind

// Every injects k on every period-th request, starting with the first
// matching one; match (nil: all) selects the requests counted.
func Every(period int, k Kind, match func(*http.Request) bool) Schedule {
	var mu sync.Mutex
	seen := 0
	return func(_ int, r *http.Request) Kind {
		if match != nil && !match(r) {
			return None
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if (seen-1)%period == 0 {
			return k
		}
		return None
	}
}

// Random injects k into a fraction p of the requests match selects (nil:
// all), decided by a generator seeded with seed: the same run gets the
// same faults, and unlike a fixed period they cannot line up with a step
// that always makes the same number of requests (which would never pass).
func Random(seed int64, p float64, k Kind, match func(*http.Request) bool) Schedule {
	var mu sync.Mutex
	rng := rand.New(rand.NewSource(seed))
	return func(_ int, r *http.Request) Kind {
		if match != nil && !match(r) {
			return None
		}
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() < p {
			return k
		}
		return None
	}
}

// Transport injects faults into Base.
type Transport struct {
	Base     http.RoundTripper
	Schedule Schedule

	mu       sync.Mutex
	n        int
	injected map[Kind]int
	log      []string
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	n := t.n
	t.n++
	t.mu.Unlock()
	k := None
	if t.Schedule != nil {
		k = t.Schedule(n, r)
	}
	if k != None {
		t.mu.Lock()
		if t.injected == nil {
			t.injected = map[Kind]int{}
		}
		t.injected[k]++
		t.log = append(t.log, fmt.Sprintf("%s %s %s", k, r.Method, r.URL.Path))
		t.mu.Unlock()
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	switch k {
	case RateLimited:
		drain(r)
		h := http.Header{}
		h.Set("Retry-After", "1")
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
		h.Set("Content-Type", "application/json")
		return answer(r, http.StatusTooManyRequests, h, `{"message":"rate limited (injected)","error":{"type":"rate_limit_error","message":"rate limited (injected)"}}`), nil
	case ServerError:
		drain(r)
		h := http.Header{"Content-Type": {"application/json"}}
		return answer(r, http.StatusServiceUnavailable, h, `{"message":"unavailable (injected)","error":{"type":"overloaded_error","message":"unavailable (injected)"}}`), nil
	case ResetBefore:
		drain(r)
		return nil, reset(r)
	case Timeout:
		drain(r)
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}
	case ResetAfter:
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, reset(r)
	case Truncated:
		resp, err := base.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b[:len(b)/2]), errReader{io.ErrUnexpectedEOF}))
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		return resp, nil
	}
	return base.RoundTrip(r)
}

// Injected counts the faults injected so far, by kind.
func (t *Transport) Injected() map[Kind]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[Kind]int{}
	for k, v := range t.injected {
		out[k] = v
	}
	return out
}

// Total is the number of faults injected.
func (t *Transport) Total() int {
	n := 0
	for _, v := range t.Injected() {
		n += v
	}
	return n
}

// Log lists the faults injected, in order ("5xx POST /path").
func (t *Transport) Log() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.log...)
}

func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
}

func answer(r *http.Request, status int, h http.Header, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Header: h,
		Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)), Request: r,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

func reset(*http.Request) error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (injected)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

var _ http.RoundTripper = (*Transport)(nil)
