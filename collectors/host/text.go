package host

import (
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/collectors/pyenv"
)

// history reads a shell or tool history: installs of bad versions and
// contacts with network indicators, with their times when the history has
// them.
func (s *scanner) history(p, name string) {
	data, st, err := readTail(s.hostPath(p), maxHistoryRead)
	if err != nil {
		s.noteError(p, err)
		return
	}
	s.readFiles.Add(1)
	s.readBytes.Add(int64(len(data)))
	var entries []pyenv.HistoryEntry
	switch name {
	case ".zsh_history":
		entries = pyenv.ParseZshHistory(data)
	case "fish_history":
		entries = pyenv.ParseFishHistory(data)
	case "history":
		entries = pyenv.ParseCondaHistory(data)
	default:
		entries = pyenv.ParseBashHistory(data)
	}
	for _, e := range entries {
		s.historyEntry(p, e)
	}
	_ = st
}

func (s *scanner) historyEntry(p string, e pyenv.HistoryEntry) {
	cmd := strings.TrimSpace(e.Command)
	when := "undated"
	if e.Time != nil {
		when = e.Time.UTC().Format(time.RFC3339)
	}
	loc := fmt.Sprintf("%s (line %d, %s)", p, e.Line, when)
	pins := pyenv.InstallPins(cmd)
	if strings.HasPrefix(cmd, "+") { // a conda history package line
		if name, ver, _, ok := pyenv.ParseCondaDist(cmd); ok {
			pins = append(pins, pyenv.Pin{Name: name, Version: ver, Spec: cmd})
		}
	}
	for _, pin := range pins {
		for _, r := range s.ix.pkgs[pin.Name] {
			switch {
			case pin.Version != "" && r.bad[pin.Version]:
				s.addFinding(r.pack.ID, &r.rule.Meta, p, fmt.Sprintf("history: installed %s %s (%q, %s)", pin.Name, pin.Version, trunc(cmd, 120), when), e.Time, "", cmd)
				if e.Time != nil {
					s.addEvidence(evidence{at: *e.Time, pack: r.pack, desc: "install of " + pin.Name + " " + pin.Version + " in " + loc})
				}
			case pin.Version == "" && e.Time != nil && s.inRuleWindow(r.pack, &r.rule.Meta, *e.Time):
				// An unpinned install while the bad version was the latest
				// on PyPI resolved to it.
				s.addFindingRaw(r.pack.ID, r.rule.ID+".unpinned-install", string(packs.High), string(packs.Inferred), p,
					fmt.Sprintf("history: unpinned install of %s at %s, while a bad version was the newest on PyPI (%q)", pin.Name, when, trunc(cmd, 120)), e.Time, "", cmd)
				s.addEvidence(evidence{at: *e.Time, pack: r.pack, desc: "unpinned install of " + pin.Name + " in " + loc})
			}
		}
	}
	lower := strings.ToLower(cmd)
	for _, nr := range s.ix.network {
		for _, v := range nr.lower {
			if containsIndicator(lower, v) {
				s.addFinding(nr.pack.ID, &nr.rule.Meta, p, fmt.Sprintf("history: command contacts %s (%s)", v, when), e.Time, "", cmd)
			}
		}
	}
}

// inRuleWindow reports whether t is inside the rule's named window, or the
// pack's global window when the rule has none (an open end counts as now).
func (s *scanner) inRuleWindow(p *packs.Pack, m *packs.Meta, t time.Time) bool {
	start, end := p.Window.Start, p.Window.End
	if w, ok := p.NamedWindow(m.Window); ok {
		start, end = w.Start, w.End
	}
	if t.Before(start) {
		return false
	}
	return end == nil || !t.After(*end)
}

// manifest flags manifests and lock files that pin a bad version: the next
// install from a mirror, cache or image layer brings it back.
func (s *scanner) manifest(p, name string) {
	data, st, ok := s.read(p, maxConfigRead)
	if !ok {
		return
	}
	pins, ok := pyenv.ParseManifest(name, data)
	if !ok {
		return
	}
	for _, pin := range pins {
		for _, r := range s.ix.pkgs[pin.Name] {
			if pin.Version != "" && r.bad[pin.Version] {
				s.addFindingRaw(r.pack.ID, r.rule.ID+".pinned", string(packs.Medium), string(r.rule.Confidence), p,
					fmt.Sprintf("line %d pins %s %s (%s): an install from this file fetches the bad version wherever a mirror or cache still has it",
						pin.Line, pin.Name, pin.Version, trunc(pin.Spec, 80)), mtime(st), "", pin.Spec)
			}
		}
	}
}

// workflow matches `uses:` references against the packs' CI rules.
func (s *scanner) workflow(p string) {
	data, st, ok := s.read(p, maxConfigRead)
	if !ok {
		return
	}
	for _, u := range pyenv.ParseWorkflowUses(data) {
		for _, cr := range s.ix.ci[strings.ToLower(u.Action)] {
			verdict := cr.rule.Verdict(u.Ref)
			if verdict == "" {
				continue
			}
			sev := cr.rule.Severity
			if packs.KnownMalicious(verdict) {
				sev = packs.Critical
			}
			s.addFindingKeyed(fmt.Sprint(u.Line), cr.pack.ID, cr.rule.ID, string(sev), string(cr.rule.Confidence), p,
				fmt.Sprintf("line %d uses %s@%s: %s", u.Line, u.Action, u.Ref, verdict), mtime(st), "", trunc(u.Raw, 200))
		}
	}
}

// textIndicators searches unit files, cron files and shell rc files for the
// packs' persistence markers, network indicators and strings.
func (s *scanner) textIndicators(p, name string, data []byte, st fs.FileInfo) {
	text := string(data)
	if isUnitFile(p, name) {
		for _, u := range s.ix.units {
			min := u.rule.MinMarkers
			if min == 0 {
				min = 1
			}
			if !unitKindMatches(u.rule.Kind, p) {
				continue
			}
			if n := countMarkers(text, u.rule.Markers); n >= min {
				s.addFinding(u.pack.ID, &u.rule.Meta, p, fmt.Sprintf("%s: unit text has %d of the pack's markers", u.rule.Title, n), mtime(st), "", firstMarkerLine(text, u.rule.Markers))
				s.addEvidence(evidence{at: st.ModTime(), pack: u.pack, executable: true,
					desc: fmt.Sprintf("persistence unit %s (%s)", st.ModTime().UTC().Format(time.RFC3339), p)})
			}
		}
	}
	lower := strings.ToLower(text)
	for _, nr := range s.ix.network {
		for _, v := range nr.lower {
			if containsIndicator(lower, v) {
				s.addFinding(nr.pack.ID, &nr.rule.Meta, p, fmt.Sprintf("mentions %s", v), mtime(st), "", firstLineWith(text, v))
			}
		}
	}
	s.stringRules(p, "any", text, mtime(st))
}

func unitKindMatches(kind, p string) bool {
	switch kind {
	case "systemd-user":
		return strings.Contains(p, "/systemd/user/")
	case "systemd-system":
		return !strings.Contains(p, "/.config/systemd/user/")
	}
	return kind == "file"
}

// stringRules applies the packs' content markers to a file of a scope.
func (s *scanner) stringRules(p, scope, text string, observed *time.Time) {
	for _, sr := range s.ix.strs {
		if sr.rule.Scope != scope && sr.rule.Scope != "any" && !(sr.rule.Scope == "python" && scope == "pth") {
			continue
		}
		min := sr.rule.MinValues
		if min == 0 {
			min = 1
		}
		if n := countMarkers(text, sr.rule.Values); n >= min {
			s.addFinding(sr.pack.ID, &sr.rule.Meta, p, fmt.Sprintf("%s: %d of the pack's strings present", sr.rule.Title, n), observed, "", firstMarkerLine(text, sr.rule.Values))
		}
	}
}

func firstMarkerLine(text string, markers []string) string {
	for _, m := range markers {
		if l := firstLineWith(text, m); l != "" {
			return l
		}
	}
	return ""
}

func firstLineWith(text, needle string) string {
	i := strings.Index(strings.ToLower(text), strings.ToLower(needle))
	if i < 0 {
		return ""
	}
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		end = len(text) - i
	}
	return trunc(text[start:i+end], 200)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
