// Package host gathers evidence from a machine, or from a mounted image of
// one, without executing anything it finds: Python environments, .pth files,
// caches, manifests, persistence, histories, CI definitions and credentials
// are read as files, driven by the IOC packs.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

// Read limits: every read is bounded; these are generous for the formats
// involved and small against a hostile 10 GB "config" file.
const (
	maxConfigRead  = 1 << 20   // credential and config files
	maxTextScan    = 256 << 10 // free text searched for bare keys
	maxHistoryRead = 8 << 20   // tail of a history file
	maxHashSize    = 512 << 20 // artefacts we hash
	maxErrors      = 100       // distinct errors kept (the rest are counted)
)

// Options configure one scan.
type Options struct {
	// Root is the host path of the target's "/": "/" for this machine, or a
	// mounted image. Every path in the result is as seen inside it.
	Root string
	// Homes limits the scan to these inside-root home directories.
	Homes []string
	Packs []*packs.Pack
	// HostName names the target; default: the root's /etc/hostname, or the
	// machine's name for a live scan.
	HostName string
	// Live reads the environment of running processes (only when Root is "/").
	Live bool
	// CrossDevices lets the walk enter other file systems.
	CrossDevices bool
	// Exclude are inside-root paths not to walk (an evidence store, the
	// tool's own test corpus).
	Exclude []string
	Now     func() time.Time
	Logger  *slog.Logger
	// Progress, when set, is called from time to time with the running stats.
	Progress func(collectors.Stats, int)
}

// Scan runs one scan.
func Scan(ctx context.Context, o Options) (*collectors.Result, error) {
	if o.Root == "" {
		o.Root = "/"
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("scan root %s: %w", o.Root, err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("scan root: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("scan root %s: not a directory", root)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HostName == "" {
		o.HostName = hostName(root)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &scanner{
		o:     o,
		ix:    newIndex(o.Packs),
		start: o.Now().UTC(),
		w:     walker{root: root, crossDevices: o.CrossDevices},
		seen:  map[string]bool{},
		fnd:   map[string]*collectors.Finding{},
		creds: map[string]*collectors.Credential{},
		envs:  map[string]string{},
	}
	s.w.v = s
	s.live = o.Live && root == "/"
	s.exclude = map[string]bool{}
	for _, e := range o.Exclude {
		s.exclude[cleanInside(e)] = true
	}
	return s.run(ctx)
}

type scanner struct {
	o       Options
	ix      *index
	w       walker
	start   time.Time
	live    bool
	homes   []string
	exclude map[string]bool

	readFiles, readBytes atomic.Int64

	mu       sync.Mutex
	seen     map[string]bool // paths already handled (walk + explicit checks)
	fnd      map[string]*collectors.Finding
	creds    map[string]*collectors.Credential
	evidence []evidence
	envs     map[string]string // env prefix -> type
	errs     []string
	errCount int
}

// evidence is a dated fact about the bad artefact, for the window.
type evidence struct {
	at         time.Time
	pack       *packs.Pack
	executable bool // still able to run: keeps the window open
	cleanup    bool // a clean replacement appeared at this time
	desc       string
}

func (s *scanner) hostPath(p string) string { return s.w.hostPath(p) }

// claim marks a path handled; false if it already was.
func (s *scanner) claim(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[p] {
		return false
	}
	s.seen[p] = true
	return true
}

func (s *scanner) noteError(p string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errCount++
	if len(s.errs) < maxErrors {
		s.errs = append(s.errs, sanitize.Terminal(fmt.Sprintf("%s: %s", p, errText(err))))
	}
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (s *scanner) walkError(p string, err error) { s.noteError(p, err) }

func (s *scanner) run(ctx context.Context) (*collectors.Result, error) {
	s.homes = s.findHomes()
	// Homes and application roots are walked as starts of their own, so a
	// separate /home or /opt partition is scanned even though the walk
	// does not cross file systems.
	starts := []string{"/"}
	if len(s.o.Homes) == 0 {
		for _, d := range append(append([]string{}, s.homes...), "/opt", "/srv", "/var/www", "/app", "/data", "/var/lib") {
			if st, err := os.Lstat(s.hostPath(d)); err == nil && st.IsDir() {
				starts = append(starts, d)
			}
		}
	} else {
		starts = s.homes
	}

	done := make(chan struct{})
	if s.o.Progress != nil {
		go func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					s.mu.Lock()
					n := len(s.fnd)
					s.mu.Unlock()
					s.o.Progress(s.stats(), n)
				}
			}
		}()
	}
	err := s.w.walk(ctx, starts)
	if err == nil {
		err = s.explicit(ctx)
	}
	close(done)
	if err != nil {
		return nil, err
	}
	return s.result(), nil
}

func (s *scanner) stats() collectors.Stats {
	s.mu.Lock()
	envs := len(s.envs)
	s.mu.Unlock()
	return collectors.Stats{
		Files:        s.w.files.Load(),
		Dirs:         s.w.dirs.Load(),
		FilesRead:    s.readFiles.Load(),
		BytesRead:    s.readBytes.Load(),
		Environments: envs,
		Skipped:      s.w.skipped.Load(),
		DurationMS:   time.Since(s.start).Milliseconds(),
	}
}

// cleanInside normalises an inside-root path given by a user.
func cleanInside(p string) string {
	p = path.Clean("/" + filepath.ToSlash(p))
	return p
}

// findHomes lists inside-root home directories: /root, /home/*, and the
// homes /etc/passwd names that exist (service accounts such as postgres keep
// credentials in theirs).
func (s *scanner) findHomes() []string {
	if len(s.o.Homes) > 0 {
		var hs []string
		for _, h := range s.o.Homes {
			hs = append(hs, cleanInside(h))
		}
		return hs
	}
	set := map[string]bool{}
	if st, err := os.Lstat(s.hostPath("/root")); err == nil && st.IsDir() {
		set["/root"] = true
	}
	if ents, err := os.ReadDir(s.hostPath("/home")); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				set[path.Join("/home", e.Name())] = true
			}
		}
	}
	if data, _, _, err := readBounded(s.hostPath("/etc/passwd"), 1<<20); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) < 7 {
				continue
			}
			h := path.Clean(f[5])
			switch {
			case !strings.HasPrefix(h, "/"), h == "/", strings.HasPrefix(h, "/proc"), strings.HasPrefix(h, "/dev"),
				strings.HasPrefix(h, "/sys"), h == "/nonexistent", h == "/bin", h == "/sbin", h == "/usr/sbin", h == "/var/empty":
				continue
			}
			if st, err := os.Lstat(s.hostPath(h)); err == nil && st.IsDir() {
				set[h] = true
			}
		}
	}
	hs := make([]string, 0, len(set))
	for h := range set {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return hs
}

// excluded reports whether p is, or is below, an excluded path.
func (s *scanner) excluded(p string) bool {
	if len(s.exclude) == 0 {
		return false
	}
	for q := p; ; q = path.Dir(q) {
		if s.exclude[q] {
			return true
		}
		if q == "/" {
			return false
		}
	}
}

func (s *scanner) underHome(p string) (string, bool) {
	for _, h := range s.homes {
		if p == h || strings.HasPrefix(p, h+"/") {
			return h, true
		}
	}
	return "", false
}

// addFinding records a finding; the same (pack, rule, path) is kept once,
// with the earliest observation.
func (s *scanner) addFinding(pack string, m *packs.Meta, p, detail string, observed *time.Time, sha, excerpt string) {
	s.addFindingRaw(pack, m.ID, string(m.Severity), string(m.Confidence), p, detail, observed, sha, excerpt)
}

func (s *scanner) addFindingRaw(pack, rule, severity, confidence, p, detail string, observed *time.Time, sha, excerpt string) {
	s.addFindingKeyed("", pack, rule, severity, confidence, p, detail, observed, sha, excerpt)
}

// addFindingKeyed is addFindingRaw for rules that can hit several times in
// one file (a workflow's uses: lines): key tells the hits apart.
func (s *scanner) addFindingKeyed(key, pack, rule, severity, confidence, p, detail string, observed *time.Time, sha, excerpt string) {
	p = sanitize.Terminal(p)
	id := stableID("f", s.o.HostName, pack, rule, p, key)
	f := &collectors.Finding{
		ID: id, Pack: pack, Rule: rule, Severity: severity, Path: p,
		Detail: sanitize.Truncate(detail, 500), ObservedAt: utcPtr(observed), SHA256: sha,
		Excerpt: sanitize.Truncate(excerpt, 200), Confidence: confidence,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.fnd[id]; ok {
		if f.ObservedAt != nil && (old.ObservedAt == nil || f.ObservedAt.Before(*old.ObservedAt)) {
			old.ObservedAt = f.ObservedAt
		}
		return
	}
	s.fnd[id] = f
}

func (s *scanner) addEvidence(e evidence) {
	if e.at.IsZero() {
		return
	}
	e.at = e.at.UTC()
	s.mu.Lock()
	s.evidence = append(s.evidence, e)
	s.mu.Unlock()
}

func stableID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return prefix + "-" + hex.EncodeToString(h.Sum(nil)[:6])
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func mtime(st fs.FileInfo) *time.Time {
	if st == nil {
		return nil
	}
	t := st.ModTime().UTC()
	return &t
}

func (s *scanner) read(p string, max int64) ([]byte, fs.FileInfo, bool) {
	data, st, _, err := readBounded(s.hostPath(p), max)
	if err != nil {
		s.noteError(p, err)
		return nil, nil, false
	}
	s.readFiles.Add(1)
	s.readBytes.Add(int64(len(data)))
	return data, st, true
}

func (s *scanner) hash(p string) (string, fs.FileInfo, bool) {
	h, st, err := hashFile(s.hostPath(p), maxHashSize)
	if err != nil {
		s.noteError(p, err)
		return "", st, false
	}
	s.readFiles.Add(1)
	if st != nil {
		s.readBytes.Add(st.Size())
	}
	return h, st, true
}
