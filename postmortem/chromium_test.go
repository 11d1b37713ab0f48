package postmortem_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
)

// The HTML export is opened in a real browser, Debian's chromium, driven
// headless over the DevTools protocol on a pipe (--remote-debugging-pipe:
// no port, no extra Go module). The test fails on any console message,
// script error, CSP violation or network request other than the page
// itself, checks in the DOM that the timeline and the tables are laid out
// with the generated incident's rows, checks the screenshot's pixels where
// the timeline is, and prints the page to PDF.

// chromium finds the browser, or skips (fails when peers are required).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed (Debian: apt-get install chromium); the HTML export's browser test needs it"
	if os.Getenv("TOURNIQUET_REQUIRE_PEERS") == "1" {
		t.Fatal(msg + " and TOURNIQUET_REQUIRE_PEERS=1")
	}
	t.Skip(msg)
	return ""
}

// cdp is a minimal DevTools protocol client over chromium's pipe: messages
// are JSON, each followed by a NUL byte; fd 3 is chromium's input, fd 4
// its output.
type cdp struct {
	w       io.Writer
	mu      sync.Mutex
	next    int
	pending map[int]chan cdpMsg
	events  chan cdpMsg
}

type cdpMsg struct {
	ID        int                       `json:"id,omitempty"`
	Method    string                    `json:"method,omitempty"`
	Params    json.RawMessage           `json:"params,omitempty"`
	Result    json.RawMessage           `json:"result,omitempty"`
	Error     *struct{ Message string } `json:"error,omitempty"`
	SessionID string                    `json:"sessionId,omitempty"`
}

func (c *cdp) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			close(c.events)
			return
		}
		var m cdpMsg
		if json.Unmarshal(b[:len(b)-1], &m) != nil {
			continue
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
			continue
		}
		select {
		case c.events <- m:
		default: // a flood of events we do not read: drop
		}
	}
}

func (c *cdp) call(ctx context.Context, session, method string, params any, out any) error {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpMsg, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	}
}

// pageReport is what the DOM says about the rendered page.
type pageReport struct {
	SVGWidth, SVGHeight  float64
	LifeBars, WindowBars int
	RotatedMarks         int
	Bands                int
	Tables               int
	LedgerRows           int
	RunRows              int
	TargetRows           int
	Prompts              int
	Scripts, Images      int
	Sections             []string
	SVGTop, SVGLeft      float64
	TablesLaidOut        bool
}

const domProbe = `(() => {
  const svg = document.querySelector('svg.timeline');
  const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0, top: 0, left: 0};
  const rows = sel => document.querySelectorAll(sel + ' tbody tr').length;
  const tables = [...document.querySelectorAll('table')];
  return JSON.stringify({
    SVGWidth: r.width, SVGHeight: r.height, SVGTop: r.top + window.scrollY, SVGLeft: r.left,
    LifeBars: document.querySelectorAll('svg.timeline rect.life').length,
    WindowBars: document.querySelectorAll('svg.timeline rect.win').length,
    RotatedMarks: document.querySelectorAll('svg.timeline rect.rotated').length,
    Bands: document.querySelectorAll('svg.timeline rect.band').length,
    Tables: tables.length,
    LedgerRows: rows('table.ledger'), RunRows: rows('table.runs'), TargetRows: rows('table.targets'),
    Prompts: document.querySelectorAll('aside.prompt').length,
    Scripts: document.querySelectorAll('script').length, Images: document.querySelectorAll('img, iframe, object, embed').length,
    Sections: [...document.querySelectorAll('section > h2')].map(h => h.textContent),
    TablesLaidOut: tables.every(t => t.getBoundingClientRect().width > 200 && t.getBoundingClientRect().height > 10),
  });
})()`

func TestHTMLRendersInChromium(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	for _, tc := range []struct {
		name string
		o    postmortemtest.Options
	}{{"generated", postmortemtest.Options{}}, {"hostile", postmortemtest.Options{Hostile: true}}} {
		t.Run(tc.name, func(t *testing.T) {
			rep := build(t, generated(t, tc.o))
			dir := t.TempDir()
			page := filepath.Join(dir, "postmortem.html")
			if err := os.WriteFile(page, []byte(render(t, rep, postmortem.HTML)), 0o600); err != nil {
				t.Fatal(err)
			}
			got, shot, pdf, problems := openInChromium(t, bin, page)
			for _, p := range problems {
				t.Errorf("browser: %s", p)
			}

			exposed, rotated := 0, 0
			for _, c := range rep.Credentials {
				if c.Exposure != "not_exposed" {
					exposed++
				}
				if c.RotatedAt != nil {
					rotated++
				}
			}
			windows := 0
			for _, tg := range rep.Targets {
				if tg.WindowStart != nil {
					windows++
				}
			}
			if got.SVGWidth < 800 || got.SVGHeight < 300 {
				t.Errorf("the timeline is %.0fx%.0f px; want it laid out across the page", got.SVGWidth, got.SVGHeight)
			}
			if got.LifeBars != len(rep.Credentials) || got.WindowBars != windows || got.Bands != windows || got.RotatedMarks != rotated {
				t.Errorf("timeline: %d credential bars (want %d), %d window bars and %d bands (want %d), %d rotation marks (want %d)",
					got.LifeBars, len(rep.Credentials), got.WindowBars, got.Bands, windows, got.RotatedMarks, rotated)
			}
			if got.LedgerRows != exposed || got.RunRows != len(rep.Runs) || got.TargetRows != len(rep.Targets) || !got.TablesLaidOut || got.Tables < 10 {
				t.Errorf("tables: %d (laid out: %t), ledger %d rows (want %d), runs %d (want %d), targets %d (want %d)",
					got.Tables, got.TablesLaidOut, got.LedgerRows, exposed, got.RunRows, len(rep.Runs), got.TargetRows, len(rep.Targets))
			}
			want := []string{"Summary", "Impact", "Timeline", "Root cause and trigger", "Detection", "Response", "What went well", "What went badly", "Action items", "Evidence integrity"}
			if strings.Join(got.Sections, "|") != strings.Join(want, "|") || got.Prompts != len(rep.Prompts) {
				t.Errorf("sections %q, %d prompts", got.Sections, got.Prompts)
			}
			if got.Scripts != 0 || got.Images != 0 {
				t.Errorf("%d scripts and %d images/frames in the page; a name became markup", got.Scripts, got.Images)
			}

			// The screenshot: the timeline's area holds the exposed red and
			// the rotated green, not a blank.
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			red, green := 0, 0
			area := image.Rect(int(got.SVGLeft), int(got.SVGTop), int(got.SVGLeft+got.SVGWidth), int(got.SVGTop+got.SVGHeight)).Intersect(img.Bounds())
			for y := area.Min.Y; y < area.Max.Y; y++ {
				for x := area.Min.X; x < area.Max.X; x++ {
					r, g, b, _ := img.At(x, y).RGBA()
					r, g, b = r>>8, g>>8, b>>8
					switch {
					case r > 150 && g < 90 && b < 80:
						red++
					case g > 110 && r < 60 && b < 100:
						green++
					}
				}
			}
			if red < 2000 || green < 20 {
				t.Errorf("the screenshot's timeline area %v has %d red and %d green pixels: is it drawn?", area, red, green)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || bytes.Count(pdf, []byte("/Type /Page\n")) < 1 && bytes.Count(pdf, []byte("/Type /Page")) < 2 {
				t.Errorf("printing to PDF gave %d bytes, not a paged PDF", len(pdf))
			}
			if dst := os.Getenv("TOURNIQUET_ARTIFACTS"); dst != "" {
				_ = os.MkdirAll(dst, 0o755)
				_ = os.WriteFile(filepath.Join(dst, "postmortem-"+tc.name+".png"), shot, 0o644)
				_ = os.WriteFile(filepath.Join(dst, "postmortem-"+tc.name+".pdf"), pdf, 0o644)
			}
			t.Logf("timeline %.0fx%.0f px, %d tables, screenshot %d bytes (%dx%d), PDF %d bytes", got.SVGWidth, got.SVGHeight, got.Tables,
				len(shot), img.Bounds().Dx(), img.Bounds().Dy(), len(pdf))
		})
	}
}

// openInChromium loads page and returns the DOM probe, a full-page PNG, the
// printed PDF, and every problem the browser reported.
func openInChromium(t *testing.T, bin, page string) (pageReport, []byte, []byte, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	inR, inW, err := os.Pipe() // we write, chromium reads (its fd 3)
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe() // chromium writes (its fd 4), we read
	if err != nil {
		t.Fatal(err)
	}
	// --no-sandbox: CI runs as root in a container, where chromium's
	// sandbox cannot start; the page is our own export, with no script.
	cmd := exec.CommandContext(ctx, bin, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--disable-sync", "--disable-component-update", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "about:blank")
	cmd.ExtraFiles = []*os.File{inR, outW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	c := &cdp{w: inW, pending: map[int]chan cdpMsg{}, events: make(chan cdpMsg, 4096)}
	go c.read(outR)
	defer func() {
		_ = c.call(ctx, "", "Browser.close", nil, nil)
		inW.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\nchromium stderr:\n%s", err, stderr.String())
		}
	}

	var target struct{ TargetID string }
	must(c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	var att struct{ SessionID string }
	must(c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att))
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		must(c.call(ctx, s, m, nil, nil))
	}
	must(c.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false}, nil))
	url := "file://" + page
	must(c.call(ctx, s, "Page.navigate", map[string]any{"url": url}, nil))

	var problems []string
	loaded := false
	for !loaded {
		select {
		case <-ctx.Done():
			t.Fatalf("the page did not load: %v\n%s", ctx.Err(), stderr.String())
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("chromium exited\n%s", stderr.String())
			}
			if p := problem(ev, url); p != "" {
				problems = append(problems, p)
			}
			loaded = ev.Method == "Page.loadEventFired" && ev.SessionID == s
		}
	}

	var ev struct{ Result struct{ Value string } }
	must(c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": domProbe, "returnByValue": true}, &ev))
	var rep pageReport
	if err := json.Unmarshal([]byte(ev.Result.Value), &rep); err != nil {
		t.Fatalf("DOM probe: %v: %q", err, ev.Result.Value)
	}
	var shot struct{ Data string }
	must(c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}, &shot))
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	must(err)
	var pdfRes struct{ Data string }
	must(c.call(ctx, s, "Page.printToPDF", map[string]any{"landscape": true, "printBackground": true, "preferCSSPageSize": true}, &pdfRes))
	pdf, err := base64.StdEncoding.DecodeString(pdfRes.Data)
	must(err)

	// Whatever else the page said while we looked.
	for drained := false; !drained; {
		select {
		case ev, ok := <-c.events:
			if !ok {
				drained = true
				break
			}
			if p := problem(ev, url); p != "" {
				problems = append(problems, p)
			}
		case <-time.After(300 * time.Millisecond):
			drained = true
		}
	}
	return rep, png, pdf, problems
}

// problem describes an event that means the page is not clean: any console
// output, an uncaught exception, a log entry (CSP violations, failed
// loads) at warning level or above, or a request for anything but the page.
func problem(ev cdpMsg, page string) string {
	switch ev.Method {
	case "Runtime.consoleAPICalled":
		return "console output: " + string(ev.Params)
	case "Runtime.exceptionThrown":
		return "exception: " + string(ev.Params)
	case "Log.entryAdded":
		var p struct {
			Entry struct{ Level, Source, Text, URL string }
		}
		_ = json.Unmarshal(ev.Params, &p)
		if p.Entry.Level == "error" || p.Entry.Level == "warning" {
			return fmt.Sprintf("%s %s: %s %s", p.Entry.Level, p.Entry.Source, p.Entry.Text, p.Entry.URL)
		}
	case "Network.requestWillBeSent":
		var p struct{ Request struct{ URL string } }
		_ = json.Unmarshal(ev.Params, &p)
		if u := p.Request.URL; u != page && u != "about:blank" && !strings.HasPrefix(u, "data:") {
			return "the page requested " + u + " (an external asset)"
		}
	}
	return ""
}
