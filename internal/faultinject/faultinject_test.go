package faultinject

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
)

// TestKinds: each fault does what it says, and the provider sees the
// request exactly when the fault says it was sent.
func TestKinds(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, `{"ok":true,"padding":"0123456789"}`)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		k      Kind
		sent   bool
		status int
		check  func(error) bool
	}{
		{RateLimited, false, 429, nil},
		{ServerError, false, 503, nil},
		{ResetBefore, false, 0, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{ResetAfter, true, 0, func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{Timeout, false, 0, func(err error) bool { var ne net.Error; return errors.As(err, &ne) && ne.Timeout() }},
		{Truncated, true, 200, nil},
	} {
		t.Run(tc.k.String(), func(t *testing.T) {
			before := hits.Load()
			ft := &Transport{Schedule: func(int, *http.Request) Kind { return tc.k }}
			resp, err := (&http.Client{Transport: ft}).Get(srv.URL)
			if sent := hits.Load() > before; sent != tc.sent {
				t.Errorf("sent %v, want %v", sent, tc.sent)
			}
			if tc.check != nil {
				if err == nil || !tc.check(err) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("status %d", resp.StatusCode)
			}
			_, rerr := io.ReadAll(resp.Body)
			if tc.k == Truncated && !errors.Is(rerr, io.ErrUnexpectedEOF) {
				t.Errorf("truncated body read: %v", rerr)
			}
			if tc.k == RateLimited && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Reset") == "") {
				t.Error("no reset headers")
			}
			if ft.Injected()[tc.k] != 1 {
				t.Errorf("injected %v", ft.Injected())
			}
		})
	}
}

func TestRandomIsSeeded(t *testing.T) {
	a, b := Random(7, 0.5, ServerError, nil), Random(7, 0.5, ServerError, nil)
	n := 0
	for i := 0; i < 200; i++ {
		ka, kb := a(i, nil), b(i, nil)
		if ka != kb {
			t.Fatal("the same seed gave different schedules")
		}
		if ka != None {
			n++
		}
	}
	if n < 60 || n > 140 {
		t.Errorf("%d of 200 faulted at p=0.5", n)
	}
}
