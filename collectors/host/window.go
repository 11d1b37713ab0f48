package host

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
	"github.com/tourniquet-ir/tourniquet/store"
)

// window computes the host's window from the dated evidence, as
// ARCHITECTURE.md defines it: start at the earliest evidence of the bad
// artefact (never before its pack's global start); open while an executable
// artefact remains; otherwise end at the earliest clean-up after the start,
// or at the scan time.
func (s *scanner) window() collectors.Window {
	w := collectors.Window{Basis: []string{}}
	// The walk is parallel: order the evidence so that the basis is the
	// same on every run.
	sort.Slice(s.evidence, func(i, j int) bool {
		a, b := s.evidence[i], s.evidence[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.desc < b.desc
	})
	var first *evidence
	for i := range s.evidence {
		e := &s.evidence[i]
		if e.cleanup {
			continue
		}
		if ps := e.pack.Window.Start; e.at.Before(ps) {
			e.desc += fmt.Sprintf("; dated %s, before %s's start, so counted from %s", e.at.Format(time.RFC3339), e.pack.ID, ps.Format(time.RFC3339))
			e.at = ps
		}
		if first == nil || e.at.Before(first.at) {
			first = e
		}
		if e.executable {
			w.Open = true
		}
	}
	if first == nil {
		return w
	}
	start := first.at
	w.Start = &start
	w.Basis = append(w.Basis, "start: "+first.desc)
	if w.Open {
		for _, e := range s.evidence {
			if e.executable {
				w.Basis = append(w.Basis, "open: "+e.desc)
				break
			}
		}
		return w
	}
	var cleanup *evidence
	for i := range s.evidence {
		e := &s.evidence[i]
		if e.cleanup && !e.at.Before(start) && (cleanup == nil || e.at.Before(cleanup.at)) {
			cleanup = e
		}
	}
	end := s.start
	if cleanup != nil {
		end = cleanup.at
		w.Basis = append(w.Basis, "end: "+cleanup.desc)
	} else {
		w.Basis = append(w.Basis, "end: no executable artefact remains and no clean-up is dated, so the scan time")
	}
	w.End = &end
	return w
}

func (s *scanner) result() *collectors.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &collectors.Result{
		Schema:      collectors.ScanSchema,
		Host:        collectors.HostInfo{Name: sanitize.Terminal(s.o.HostName), Root: sanitize.Terminal(s.w.root), ScannedAt: s.start},
		Packs:       []string{},
		Findings:    []collectors.Finding{},
		Credentials: []collectors.Credential{},
	}
	for _, p := range s.ix.packs {
		res.Packs = append(res.Packs, p.ID)
	}
	res.Window = s.window()
	for i, b := range res.Window.Basis {
		res.Window.Basis[i] = sanitize.Truncate(b, 500)
	}
	for _, f := range s.fnd {
		res.Findings = append(res.Findings, *f)
	}
	sort.Slice(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if ra, rb := packs.Severity(a.Severity).Rank(), packs.Severity(b.Severity).Rank(); ra != rb {
			return ra > rb
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Detail != b.Detail {
			return a.Detail < b.Detail
		}
		return a.ID < b.ID
	})
	switch {
	case res.Window.Open:
		res.Verdict = store.VerdictCompromised
	case res.Window.Start != nil:
		res.Verdict = store.VerdictWasCompromised
	case len(res.Findings) > 0:
		res.Verdict = store.VerdictUnknown
	default:
		res.Verdict = store.VerdictClean
	}
	for _, c := range s.creds {
		c.Exposure, c.Reason = classify(res.Verdict, res.Window, c.ModifiedAt)
		res.Credentials = append(res.Credentials, *c)
	}
	sort.Slice(res.Credentials, func(i, j int) bool {
		a, b := res.Credentials[i], res.Credentials[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.ID < b.ID
	})
	res.Stats = s.statsLocked()
	res.Errors = append([]string(nil), s.errs...)
	if extra := s.errCount - len(s.errs); extra > 0 {
		res.Errors = append(res.Errors, fmt.Sprintf("… and %d more unreadable paths", extra))
	}
	return res
}

func (s *scanner) statsLocked() collectors.Stats {
	return collectors.Stats{
		Files: s.w.files.Load(), Dirs: s.w.dirs.Load(), FilesRead: s.readFiles.Load(), BytesRead: s.readBytes.Load(),
		Environments: len(s.envs), Skipped: s.w.skipped.Load(), DurationMS: time.Since(s.start).Milliseconds(),
	}
}

// classify sets a credential's exposure from the host's window and the time
// its current value was written, with the reason a human reads.
func classify(verdict string, w collectors.Window, mod *time.Time) (string, string) {
	const layout = "2006-01-02 15:04 UTC"
	switch {
	case verdict == store.VerdictClean:
		return store.NotExposed, "no evidence of compromise on this host with the packs scanned"
	case w.Start == nil:
		return store.Unknown, "findings on this host need review, but none dates a compromise"
	case w.Open:
		return store.Exposed, fmt.Sprintf("on a host whose window is still open (since %s): the payload can read it now", w.Start.Format(layout))
	case mod == nil:
		return store.Unknown, fmt.Sprintf("when it was written is unknown; the window was %s to %s", w.Start.Format(layout), w.End.Format(layout))
	case !mod.After(*w.End):
		return store.Exposed, fmt.Sprintf("last written %s, before the window closed at %s", mod.Format(layout), w.End.Format(layout))
	}
	return store.NotExposed, fmt.Sprintf("written %s, after the window closed at %s; the provider may still accept an older, exposed value",
		mod.Format(layout), w.End.Format(layout))
}

// hostName is the target's own name: /etc/hostname inside the root, else the
// machine's name for a live scan, else the root directory's name.
func hostName(root string) string {
	if data, _, _, err := readBounded(path.Join(root, "etc/hostname"), 256); err == nil {
		if n := strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]); n != "" {
			return n
		}
	}
	if root == "/" {
		if n, err := os.Hostname(); err == nil {
			return n
		}
	}
	return path.Base(root)
}
