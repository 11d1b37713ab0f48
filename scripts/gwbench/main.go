// Command gwbench measures the gateway (issue 8) against a bare
// httputil.ReverseProxy and against the mock upstream directly, in one run:
// non-streaming and SSE, closed loop (N connections) and open loop (fixed
// rate). It reports req/s, p50/p99 latency, CPU µs per request and RSS of
// the process under test, and the gateway/proxy ratios against the goals.
//
// scripts/bench-gateway.sh builds it and pins processes: the proxy and the
// gateway to CPU 0, the mock upstream and this load generator to the rest.
//
//	gwbench -tourniquet BIN [-duration 5s] [-conns 50] [-rate 2000] [-events 24]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "upstream":
			serveUpstream(os.Args[2:])
			return
		case "proxy":
			serveProxy(os.Args[2:])
			return
		}
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gwbench:", err)
		os.Exit(1)
	}
}

const upstreamKey = "sk-proj-BENCHupstreamKEY0123456789abcdefghij"

// serveUpstream is the mock provider: fixed answers, as cheap as possible,
// so that the process under test is what limits throughput.
func serveUpstream(args []string) {
	fs := flag.NewFlagSet("upstream", flag.ExitOnError)
	events := fs.Int("events", 24, "content events per streamed answer")
	_ = fs.Parse(args)
	body := []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hello from the benchmark upstream"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7,"total_tokens":16}}`)
	var sse bytes.Buffer
	for i := 0; i < *events; i++ {
		fmt.Fprintf(&sse, "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"},\"finish_reason\":null}]}\n\n", i)
	}
	sse.WriteString("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":24,\"total_tokens\":33}}\n\ndata: [DONE]\n\n")
	chunks := bytes.SplitAfter(sse.Bytes(), []byte("\n\n"))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+upstreamKey {
			http.Error(w, `{"error":{"message":"bad key","type":"invalid_request_error"}}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/v1/models" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}`))
			return
		}
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			f, _ := w.(http.Flusher)
			for _, c := range chunks {
				if len(c) == 0 {
					continue
				}
				_, _ = w.Write(c)
				f.Flush()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	listenAndAnnounce(h)
}

// serveProxy is the baseline: a bare reverse proxy that swaps in the
// upstream key, as the least a key-holding proxy must do.
func serveProxy(args []string) {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	upstream := fs.String("upstream", "", "upstream base URL")
	_ = fs.Parse(args)
	u, err := url.Parse(*upstream)
	if err != nil {
		panic(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, IdleConnTimeout: 90 * time.Second}
	rp.FlushInterval = -1 // stream SSE as it comes, like the gateway
	base := rp.Director
	rp.Director = func(r *http.Request) {
		base(r)
		r.Header.Set("Authorization", "Bearer "+upstreamKey)
	}
	listenAndAnnounce(rp)
}

func listenAndAnnounce(h http.Handler) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(ln)
}

// proc is a process under test.
type proc struct {
	name string
	url  string
	key  string
	cmd  *exec.Cmd
}

func (p *proc) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
		}
	}
}

// cpuTicks is utime+stime of a process, in clock ticks (1/100 s on Linux).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields start after the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st, nil
}

func memKB(pid int, field string) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func start(name string, cmd *exec.Cmd, re *regexp.Regexp, fromStderr bool) (*proc, error) {
	var r io.Reader
	if fromStderr {
		pr, err := cmd.StderrPipe()
		if err != nil {
			return nil, err
		}
		r = pr
	} else {
		pr, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		r = pr
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		return &proc{name: name, url: u, cmd: cmd}, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not start", name)
	}
}

// pinned runs a command on CPU 0 when taskset is there.
func pinned(cpu string, name string, args ...string) *exec.Cmd {
	if p, err := exec.LookPath("taskset"); err == nil && cpu != "" {
		return exec.Command(p, append([]string{"-c", cpu, name}, args...)...)
	}
	return exec.Command(name, args...)
}

type result struct {
	Target   string  `json:"target"`
	Mode     string  `json:"mode"` // json or sse
	Load     string  `json:"load"` // closed or open
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	CPUus    float64 `json:"cpu_us_per_req"`
	CPUPct   float64 `json:"cpu_percent"`
	RSSMB    float64 `json:"rss_mb"`
	PeakMB   float64 `json:"peak_rss_mb"`
}

func run() error {
	bin := flag.String("tourniquet", "", "tourniquet binary")
	duration := flag.Duration("duration", 5*time.Second, "measured time per case")
	warmup := flag.Duration("warmup", time.Second, "unmeasured time before each case")
	conns := flag.Int("conns", 50, "closed loop: concurrent connections")
	rate := flag.Int("rate", 2000, "open loop: requests per second")
	events := flag.Int("events", 24, "SSE: content events per answer")
	cpu := flag.String("cpu", "0", "CPU the proxy and the gateway are pinned to (taskset -c)")
	jsonOut := flag.String("json", "", "also write the results as JSON to FILE")
	flag.Parse()
	if *bin == "" {
		return errors.New("-tourniquet BIN is required")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	listenRe := regexp.MustCompile(`^LISTEN (http://\S+)$`)
	up, err := start("upstream", exec.Command(self, "upstream", "-events", strconv.Itoa(*events)), listenRe, false)
	if err != nil {
		return err
	}
	defer up.stop()
	up.key = upstreamKey
	px, err := start("proxy", pinned(*cpu, self, "proxy", "-upstream", up.url), listenRe, false)
	if err != nil {
		return err
	}
	defer px.stop()
	px.key = "unused-by-the-proxy"

	dir, err := os.MkdirTemp("", "gwbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "TOURNIQUET_DB="+filepath.Join(dir, "bench.db"), "BENCH_UPSTREAM_KEY="+upstreamKey)
	tq := func(args ...string) ([]byte, error) {
		c := exec.Command(*bin, args...)
		c.Env = env
		c.Stderr = os.Stderr
		out, err := c.Output()
		if err != nil {
			return nil, fmt.Errorf("tourniquet %s: %w", strings.Join(args, " "), err)
		}
		return out, nil
	}
	if _, err := tq("gateway", "routes", "add", "gpt-4o", "--base-url", up.url, "--key-ref", "bench"); err != nil {
		return err
	}
	if _, err := tq("gateway", "provider-key", "set", "bench", "--secret-from", "env:BENCH_UPSTREAM_KEY"); err != nil {
		return err
	}
	out, err := tq("--json", "gateway", "keys", "create", "--routes", "gpt-4o", "--name", "bench")
	if err != nil {
		return err
	}
	var created struct{ Key string }
	if err := json.Unmarshal(out, &created); err != nil {
		return err
	}
	gwCmd := pinned(*cpu, *bin, "gateway", "serve", "--listen", "127.0.0.1:0")
	gwCmd.Env = env
	gw, err := start("gateway", gwCmd, regexp.MustCompile(`gateway listening on (http://\S+)`), true)
	if err != nil {
		return err
	}
	defer gw.stop()
	gw.key = created.Key

	fmt.Printf("gwbench: %v per case after %v warm-up; closed loop %d connections, open loop %d req/s; SSE %d events\n",
		*duration, *warmup, *conns, *rate, *events)
	fmt.Printf("processes under test pinned to CPU %s; upstream and load generator elsewhere\n\n", *cpu)
	var results []result
	for _, mode := range []string{"json", "sse"} {
		for _, load := range []string{"closed", "open"} {
			for _, p := range []*proc{up, px, gw} {
				target := p.name
				if p == up {
					target = "direct"
				}
				lc := loadConfig{url: p.url + "/v1/chat/completions", key: p.key, stream: mode == "sse", conns: *conns}
				if load == "open" {
					lc.rate = *rate
				}
				lc.duration = *warmup
				runLoad(lc) // warm-up: connections, caches, the gateway's first audit batches
				lc.duration = *duration
				pid := p.cmd.Process.Pid
				t0, _ := cpuTicks(pid)
				r := runLoad(lc)
				t1, _ := cpuTicks(pid)
				r.Target, r.Mode, r.Load = target, mode, load
				cpuSec := float64(t1-t0) / 100
				if r.Requests > 0 {
					r.CPUus = cpuSec * 1e6 / float64(r.Requests)
				}
				r.CPUPct = 100 * cpuSec / duration.Seconds()
				r.RSSMB = float64(memKB(pid, "VmRSS")) / 1024
				r.PeakMB = float64(memKB(pid, "VmHWM")) / 1024
				results = append(results, r)
				fmt.Fprintf(os.Stderr, "  %-8s %-4s %-6s %8.0f req/s  p99 %6.2f ms  errors %d\n", target, mode, load, r.RPS, r.P99ms, r.Errors)
			}
		}
	}
	report(os.Stdout, results)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

type loadConfig struct {
	url      string
	key      string
	stream   bool
	conns    int
	rate     int
	duration time.Duration
}

// runLoad runs an open loop at rate requests/s when rate is set, else a
// closed loop over conns connections.
func runLoad(lc loadConfig) result {
	body := []byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"Summarise the incident in one sentence."}]}`)
	if lc.stream {
		body = []byte(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Summarise the incident in one sentence."}]}`)
	}
	tr := &http.Transport{MaxIdleConns: 4096, MaxIdleConnsPerHost: 4096, DisableCompression: true, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var reqs, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	one := func(scheduled time.Time) {
		req, _ := http.NewRequest(http.MethodPost, lc.url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+lc.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		ok := err == nil
		if ok {
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = resp.StatusCode == 200 && n > 0
		}
		d := time.Since(scheduled)
		reqs.Add(1)
		if !ok {
			errs.Add(1)
		}
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), lc.duration)
	defer cancel()
	begin := time.Now()
	var wg sync.WaitGroup
	if lc.rate > 0 {
		// Open loop: requests leave on schedule whatever the answers do, and
		// latency counts from the scheduled time (no coordinated omission).
		interval := time.Second / time.Duration(lc.rate)
		for i := 0; ; i++ {
			at := begin.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			}
			if ctx.Err() != nil {
				break
			}
			wg.Add(1)
			go func() { defer wg.Done(); one(at) }()
		}
	} else {
		for i := 0; i < lc.conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					one(time.Now())
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(begin)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	return result{Requests: reqs.Load(), Errors: errs.Load(), RPS: float64(reqs.Load()) / elapsed.Seconds(), P50ms: pct(0.50), P99ms: pct(0.99)}
}

func report(w io.Writer, rs []result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tmode\tload\treq/s\tp50 ms\tp99 ms\tCPU µs/req\tCPU %\tRSS MB\tpeak MB\terrors\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.2f\t%.2f\t%.1f\t%.0f\t%.1f\t%.1f\t%d\t\n", r.Target, r.Mode, r.Load, r.RPS, r.P50ms, r.P99ms, r.CPUus, r.CPUPct, r.RSSMB, r.PeakMB, r.Errors)
	}
	tw.Flush()
	find := func(target, mode, load string) result {
		for _, r := range rs {
			if r.Target == target && r.Mode == mode && r.Load == load {
				return r
			}
		}
		return result{}
	}
	fmt.Fprintln(w, "\ngateway / bare reverse proxy (goals: throughput >= 0.80, CPU <= 1.30, open-loop p99 <= 1.50, RSS < 40 MB)")
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	var peak float64
	for _, mode := range []string{"json", "sse"} {
		gc, pc := find("gateway", mode, "closed"), find("proxy", mode, "closed")
		go_, po := find("gateway", mode, "open"), find("proxy", mode, "open")
		tput := gc.RPS / pc.RPS
		cpuR := gc.CPUus / pc.CPUus
		p99 := go_.P99ms / po.P99ms
		fmt.Fprintf(w, "  %-4s throughput %.2fx %s, CPU/req %.2fx %s, p99 at %s %.2fx %s\n", mode, tput, verdict(tput >= 0.8), cpuR, verdict(cpuR <= 1.3),
			"open rate", p99, verdict(p99 <= 1.5))
		for _, r := range []result{gc, go_} {
			peak = max(peak, r.PeakMB)
		}
	}
	fmt.Fprintf(w, "  gateway peak RSS %.1f MB %s\n", peak, verdict(peak < 40))
}
