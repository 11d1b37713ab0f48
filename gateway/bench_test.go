package gateway

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
)

// The gateway against a bare httputil.ReverseProxy in front of the same fake
// upstream, in one run (compare the ns/op ratio, not absolute figures).
// scripts/bench-gateway.sh is the full benchmark (pinned, open and closed
// loop, RSS); these find regressions and feed the profiler.

func benchProxy(b *testing.B, e *env) *httptest.Server {
	u, _ := url.Parse(e.oa.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	base := rp.Director
	rp.Director = func(r *http.Request) { base(r); r.Header.Set("Authorization", "Bearer "+openaiKey) }
	s := httptest.NewServer(rp)
	b.Cleanup(s.Close)
	return s
}

func benchRequests(b *testing.B, url, key string, stream bool) {
	body := []byte(`{"model":"text-embedding-3-small","messages":[{"role":"user","content":"Summarise the incident in one sentence."}]}`)
	path := "/v1/chat/completions"
	if stream {
		body = []byte(`{"model":"text-embedding-3-small","stream":true,"messages":[{"role":"user","content":"Summarise the incident in one sentence."}]}`)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || n == 0 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

func BenchmarkForward(b *testing.B) {
	for _, stream := range []bool{false, true} {
		name := "json"
		if stream {
			name = "sse"
		}
		b.Run(name+"/proxy", func(b *testing.B) {
			e := newEnv(b)
			benchRequests(b, benchProxy(b, e).URL, "", stream)
		})
		b.Run(name+"/gateway", func(b *testing.B) {
			e := newEnv(b)
			benchRequests(b, e.http.URL, e.vkey, stream)
		})
	}
}
