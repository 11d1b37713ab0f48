package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// upstreamHeaders are the only request headers passed to a provider: the
// client's own credentials, cookies and forwarding headers never are.
var upstreamHeaders = []string{"Content-Type", "Accept", "Anthropic-Version", "Anthropic-Beta", "Openai-Beta"}

// responseHeaders are the provider response headers passed back.
var responseHeaders = []string{"Content-Type", "Retry-After", "X-Request-Id", "Request-Id", "Openai-Processing-Ms",
	"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens"}

// maxFallbacks bounds how many other routes one request may try.
const maxFallbacks = 2

type usage struct{ prompt, completion int }

// retryable says whether an upstream answer lets us try a fallback: the
// provider throttled or failed, and nothing has been sent to the client.
func retryable(status int) bool { return status == http.StatusTooManyRequests || status >= 500 }

func (s *Server) forward(w http.ResponseWriter, r *http.Request, format api, vk *vkey, snap *snapshot, rt *route, body []byte, stream bool, start time.Time) {
	tried := []*route{rt}
	for _, fb := range rt.Fallbacks {
		if len(tried) > maxFallbacks {
			break
		}
		if f, ok := snap.routes[fb]; ok && f.Provider == rt.Provider && vk.allows(rt.Model) {
			tried = append(tried, f)
		}
	}
	var lastErr error
	for i, cand := range tried {
		last := i == len(tried)-1
		resp, cancel, err := s.attempt(r.Context(), r, format, cand, body)
		if err == nil && (!retryable(resp.StatusCode) || last) {
			u := s.respond(w, resp, format, cand, rt.Model, stream)
			cancel()
			cand.requests.Add(1)
			if resp.StatusCode >= 400 {
				cand.errors.Add(1)
			}
			note := ""
			if cand != rt {
				note = "fallback from " + rt.Model
			}
			s.record(vk, cand, rt.Model, resp.StatusCode, start, body, u, stream, note)
			return
		}
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			lastErr = fmt.Errorf("upstream %s answered %d", cand.Model, resp.StatusCode)
		} else {
			lastErr = err
		}
		cancel()
		cand.requests.Add(1)
		cand.errors.Add(1)
		if r.Context().Err() != nil {
			return
		}
	}
	status := http.StatusBadGateway
	if errors.Is(lastErr, context.DeadlineExceeded) {
		status = http.StatusGatewayTimeout
	}
	s.record(vk, rt, rt.Model, status, start, body, usage{}, stream, "upstream failed: "+lastErr.Error())
	writeError(w, format, status, "api_error", "upstream unavailable: "+lastErr.Error())
}

// attempt sends one request to a route's upstream.
func (s *Server) attempt(ctx context.Context, in *http.Request, format api, rt *route, body []byte) (*http.Response, context.CancelFunc, error) {
	cred := rt.cred.Load()
	if cred == nil {
		return nil, func() {}, fmt.Errorf("route %s has no verified provider key (key reference %s)", rt.Model, rt.KeyRef)
	}
	path := in.URL.Path
	payload := body
	if rt.Translate && format == apiOpenAI {
		var err error
		if payload, err = toAnthropic(body, rt.UpstreamModel); err != nil {
			return nil, func() {}, err
		}
		path = "/v1/messages"
	} else if rt.UpstreamModel != "" {
		var err error
		if payload, err = withModel(body, rt.UpstreamModel); err != nil {
			return nil, func() {}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, rt.Timeout)
	u := *rt.base
	u.Path = u.Path + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		cancel()
		return nil, func() {}, err
	}
	for _, h := range upstreamHeaders {
		if v := in.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	setProviderAuth(req, rt.Provider, cred)
	if rt.Provider == "anthropic" && req.Header.Get("Anthropic-Version") == "" {
		req.Header.Set("Anthropic-Version", "2023-06-01")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		cancel()
		return nil, func() {}, err
	}
	return resp, cancel, nil
}

func setProviderAuth(req *http.Request, provider string, c *credential) {
	if provider == "anthropic" {
		req.Header.Set("X-Api-Key", string(c.secret.Reveal()))
		return
	}
	req.Header.Set("Authorization", "Bearer "+string(c.secret.Reveal()))
}

// respond copies (or translates) the upstream answer to the client and
// returns the token usage it reported.
func (s *Server) respond(w http.ResponseWriter, resp *http.Response, format api, rt *route, model string, stream bool) usage {
	defer resp.Body.Close()
	translate := rt.Translate && format == apiOpenAI
	isSSE := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	for _, h := range responseHeaders {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	if translate && resp.StatusCode < 300 {
		if isSSE {
			return translateStream(w, resp.Body, model)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			writeError(w, format, http.StatusBadGateway, "api_error", "reading the upstream answer failed")
			return usage{}
		}
		out, u, err := fromAnthropic(b, model)
		if err != nil {
			writeError(w, format, http.StatusBadGateway, "api_error", err.Error())
			return usage{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		w.Write(out)
		return u
	}
	if translate {
		// An Anthropic error, to an OpenAI client: keep status and message.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e struct {
			Error struct{ Type, Message string } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		writeError(w, format, resp.StatusCode, e.Error.Type, e.Error.Message)
		return usage{}
	}
	w.WriteHeader(resp.StatusCode)
	if isSSE {
		return copyStream(w, resp.Body)
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	var u usage
	var tail tailBuffer
	io.CopyBuffer(io.MultiWriter(w, &tail), resp.Body, *bp)
	u = usageFrom(tail.bytes())
	return u
}

var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

// copyStream passes server-sent events through, flushing each, and picks
// the token usage out of the events that carry it.
func copyStream(w http.ResponseWriter, body io.Reader) usage {
	fl, _ := w.(http.Flusher)
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() { br.Reset(nil); readerPool.Put(br) }()
	var u usage
	pending := false
	for {
		// Flush whenever the next read could wait on the upstream, and only
		// then: events already here go out together (as a bare proxy's
		// flush-per-read does), and the client never waits on data the
		// gateway holds.
		if pending && fl != nil {
			if b, _ := br.Peek(br.Buffered()); bytes.IndexByte(b, '\n') < 0 {
				fl.Flush()
				pending = false
			}
		}
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			w.Write(line)
			pending = true
			if bytes.HasPrefix(line, []byte("data:")) && bytes.Contains(line, []byte(`"usage"`)) {
				if x := usageFrom(bytes.TrimSpace(line[5:])); x.prompt+x.completion > 0 {
					if x.prompt > 0 {
						u.prompt = x.prompt
					}
					if x.completion > 0 {
						u.completion = x.completion
					}
				}
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if fl != nil {
				fl.Flush()
			}
			return u
		}
	}
}

// usageFrom reads OpenAI's usage (prompt/completion_tokens) or Anthropic's
// (input/output_tokens) from a JSON document or event.
func usageFrom(b []byte) usage {
	i := bytes.Index(b, []byte(`"usage"`))
	if i < 0 {
		return usage{}
	}
	var doc struct {
		Usage struct {
			Prompt     int `json:"prompt_tokens"`
			Completion int `json:"completion_tokens"`
			Input      int `json:"input_tokens"`
			Output     int `json:"output_tokens"`
		} `json:"usage"`
		Message struct {
			Usage struct {
				Input  int `json:"input_tokens"`
				Output int `json:"output_tokens"`
			} `json:"usage"`
		} `json:"message"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return usage{}
	}
	return usage{prompt: doc.Usage.Prompt + doc.Usage.Input + doc.Message.Usage.Input, completion: doc.Usage.Completion + doc.Usage.Output + doc.Message.Usage.Output}
}

// tailBuffer keeps the last 16 KiB written (the usage block sits at the end
// of an OpenAI or Anthropic answer).
type tailBuffer struct{ buf []byte }

const tailMax = 16 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	if len(t.buf)+len(p) > tailMax {
		keep := tailMax - len(p)
		if keep < 0 {
			t.buf = append(t.buf[:0], p[len(p)-tailMax:]...)
			return len(p), nil
		}
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	// The tail may start inside the document: find the usage object and
	// parse just it.
	i := bytes.LastIndex(t.buf, []byte(`"usage"`))
	if i < 0 {
		return nil
	}
	j := bytes.IndexByte(t.buf[i:], '}')
	if j < 0 {
		return nil
	}
	return append(append([]byte("{"), t.buf[i:i+j+1]...), '}')
}

// withModel rewrites the body's model (a route with an upstream model name).
func withModel(body []byte, model string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	b, _ := json.Marshal(model)
	m["model"] = b
	return json.Marshal(m)
}
