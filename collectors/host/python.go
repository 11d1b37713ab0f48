package host

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/collectors/pyenv"
)

// GenericPack names findings that come from built-in heuristics rather than a
// pack rule (a .pth with executable content that no pack describes).
const GenericPack = "tourniquet-generic"

var pyLibRE = regexp.MustCompile(`/lib(?:64)?/(?:python[0-9.]+t?/)?(?:site|dist)-packages$`)

// siteDir registers a Python environment and checks the pack paths that
// live inside site-packages (the walk does not descend into packages).
func (s *scanner) siteDir(p string) {
	prefix := pyLibRE.ReplaceAllString(p, "")
	if prefix == p {
		prefix = path.Dir(p)
	}
	kind := s.envKind(prefix)
	s.mu.Lock()
	s.envs[prefix] = kind
	s.mu.Unlock()
	for _, sp := range s.ix.sitePaths {
		s.packFileAt(path.Join(p, sp.rel), sp.ref, true)
	}
}

func (s *scanner) envKind(prefix string) string {
	exists := func(rel string) bool {
		_, err := os.Lstat(s.hostPath(path.Join(prefix, rel)))
		return err == nil
	}
	switch {
	case exists("conda-meta"):
		return "conda"
	case strings.Contains(prefix, "/pipx/venvs/"):
		return "pipx"
	case strings.Contains(prefix, "/uv/tools/"):
		return "uv-tool"
	case strings.Contains(prefix, "/.pyenv/versions/"):
		return "pyenv"
	case exists("pyvenv.cfg"):
		return "venv"
	case strings.Contains(prefix, "homebrew") || strings.Contains(prefix, "linuxbrew") || strings.Contains(prefix, "/Cellar/"):
		return "homebrew"
	case strings.HasPrefix(prefix, "/usr/local"):
		return "local"
	case prefix == "/usr" || strings.HasPrefix(prefix, "/usr/lib"):
		return "system"
	case strings.Contains(prefix, "/.local"):
		return "user-site"
	}
	return "other"
}

// dist looks at a *.dist-info / *.egg-info of a pack package. inSite says
// whether it is installed (inside site-packages) or lies in a cache or tree.
func (s *scanner) dist(p, name string, inSite bool) {
	pkg, dirVersion, ok := pyenv.DistDirName(name)
	if !ok {
		return
	}
	refs := s.ix.pkgs[pkg]
	if refs == nil {
		return
	}
	version := dirVersion
	var observed *time.Time
	st, err := os.Lstat(s.hostPath(p))
	if err != nil {
		s.noteError(p, err)
		return
	}
	observed = mtime(st)
	metaPath := path.Join(p, "METADATA")
	if strings.HasSuffix(name, ".egg-info") {
		metaPath = path.Join(p, "PKG-INFO")
		if st.Mode().IsRegular() {
			metaPath = p
		}
	}
	if data, mst, ok := s.read(metaPath, 256<<10); ok {
		if md, err := pyenv.ParseMetadata(data); err == nil && md.Version != "" {
			version = md.Version
		}
		observed = earliest(observed, mtime(mst))
	}
	installer := ""
	if data, ist, ok := s.read(path.Join(p, "INSTALLER"), 1024); ok {
		installer = strings.TrimSpace(string(data))
		observed = earliest(observed, mtime(ist))
	}
	where := "in " + s.envLabel(p)
	for _, r := range refs {
		if !r.bad[version] {
			if inSite {
				// A clean version installed: if it appeared after the
				// bad one, it dates the clean-up.
				s.addEvidence(evidence{at: deref(observed), pack: r.pack, cleanup: true,
					desc: fmt.Sprintf("clean %s %s installed %s (%s)", pkg, version, deref(observed).Format(time.RFC3339), p)})
			}
			continue
		}
		via := ""
		if installer != "" {
			via = " by " + installer
		}
		if inSite {
			s.addFinding(r.pack.ID, &r.rule.Meta, p, fmt.Sprintf("%s %s installed%s %s", pkg, version, via, where), observed, "", "")
			s.addEvidence(evidence{at: deref(observed), pack: r.pack, executable: true,
				desc: fmt.Sprintf("%s %s installed %s (%s)", pkg, version, deref(observed).Format(time.RFC3339), p)})
		} else {
			s.addFindingRaw(r.pack.ID, r.rule.ID+".cached", string(packs.High), string(r.rule.Confidence), p,
				fmt.Sprintf("unpacked %s %s outside any environment (a cache such as uv's can reinstall it)", pkg, version), observed, "", "")
			s.addEvidence(evidence{at: deref(observed), pack: r.pack,
				desc: fmt.Sprintf("cached %s %s %s (%s)", pkg, version, deref(observed).Format(time.RFC3339), p)})
		}
	}
	// The wheel's RECORD names every file it installed, with hashes: a
	// known-bad hash there is evidence even if the file is gone now.
	if data, _, ok := s.read(path.Join(p, "RECORD"), 8<<20); ok {
		entries, _ := pyenv.ParseRecord(data)
		for _, e := range entries {
			hexd := pyenv.DigestHex(e.Digest)
			for _, fr := range s.ix.bySHA[hexd] {
				s.addFinding(fr.pack.ID, &fr.rule.Meta, path.Join(p, "RECORD"),
					fmt.Sprintf("RECORD lists %s with the known-bad hash of %q", e.Path, fr.rule.Title), observed, hexd, "")
			}
		}
	}
}

func (s *scanner) envLabel(p string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, kind := "", ""
	for prefix, k := range s.envs {
		if strings.HasPrefix(p, prefix+"/") && len(prefix) > len(best) {
			best, kind = prefix, k
		}
	}
	if best == "" {
		return path.Dir(p)
	}
	return kind + " environment " + best
}

// pth reads a .pth file in a site directory: Python runs its import lines at
// every interpreter start.
func (s *scanner) pth(p, name string) {
	data, st, ok := s.read(p, maxConfigRead)
	if !ok {
		return
	}
	sum := sha256.Sum256(data)
	hexd := hex.EncodeToString(sum[:])
	matched := false
	for _, fr := range s.ix.bySHA[hexd] {
		s.packFileHit(p, fr, mtime(st), hexd, true)
		matched = true
	}
	for _, fr := range s.ix.byName[name] {
		if fileRuleMatches(fr.rule, hexd, st.Size(), string(data)) {
			s.packFileHit(p, fr, mtime(st), hexd, true)
			matched = true
		}
	}
	s.stringRules(p, "pth", string(data), mtime(st))
	if matched {
		return
	}
	v := pyenv.ClassifyPth(name, data)
	if v.Executable && v.Benign == "" && len(v.Suspicious) > 0 {
		s.addFindingRaw(GenericPack, "pth-executable-content", pthSeverity(v.Suspicious), "inferred", p,
			fmt.Sprintf(".pth file runs code at every Python start and uses %s; no pack describes it: review it",
				strings.Join(v.Suspicious, ", ")), mtime(st), hexd, v.Excerpt)
	}
}

// pthSeverity weighs a .pth's markers: code that spawns processes, decodes
// hidden payloads or talks to the network at every interpreter start is how
// the litellm trigger worked (high); exec or eval of visible code is worth a
// review (medium).
func pthSeverity(markers []string) string {
	for _, m := range markers {
		switch m {
		case "exec", "eval", "compile":
		default:
			return string(packs.High)
		}
	}
	return string(packs.Medium)
}

// fileRuleMatches applies a file rule to a candidate: with hashes or
// markers, one must match; otherwise the candidate's existence is the match.
func fileRuleMatches(r *packs.FileRule, sha string, size int64, content string) bool {
	if len(r.SHA256) == 0 && len(r.Markers) == 0 {
		return true
	}
	for _, h := range r.SHA256 {
		if h == sha {
			return true
		}
	}
	return len(r.Markers) > 0 && content != "" && countMarkers(content, r.Markers) > 0
}

// packFileHit records a file rule hit and its window evidence.
func (s *scanner) packFileHit(p string, fr fileRef, observed *time.Time, sha string, inSite bool) {
	role := fr.rule.Role
	detail := fmt.Sprintf("%s (%s)", fr.rule.Title, role)
	s.addFinding(fr.pack.ID, &fr.rule.Meta, p, detail, observed, sha, "")
	exec := role.Executable() && (role != packs.RoleTrigger || inSite)
	if role == packs.RoleArtefact || role.Executable() || role == packs.RoleState || role == packs.RoleStaging {
		s.addEvidence(evidence{at: deref(observed), pack: fr.pack, executable: exec,
			desc: fmt.Sprintf("%s %s (%s)", fr.rule.ID, deref(observed).Format(time.RFC3339), p)})
	}
}

// packFileAt checks one concrete path for a file rule (pack paths).
func (s *scanner) packFileAt(p string, fr fileRef, inSite bool) {
	st, err := os.Lstat(s.hostPath(p))
	if err != nil || !st.Mode().IsRegular() {
		if err == nil && st.Mode()&os.ModeSymlink != 0 {
			s.addFindingRaw(fr.pack.ID, fr.rule.ID, string(fr.rule.Severity), string(fr.rule.Confidence), p,
				fr.rule.Title+": present as a symbolic link (not followed)", mtime(st), "", "")
		}
		return
	}
	sha := ""
	content := ""
	if len(fr.rule.SHA256) > 0 {
		sha, _, _ = s.hash(p)
	}
	if len(fr.rule.Markers) > 0 {
		if data, _, ok := s.read(p, maxConfigRead); ok {
			content = string(data)
		}
	}
	if fileRuleMatches(fr.rule, sha, st.Size(), content) {
		s.packFileHit(p, fr, mtime(st), sha, inSite)
	}
}

// namedFile handles a file whose name a pack names (anywhere on the host).
func (s *scanner) namedFile(p, name string, refs []fileRef) {
	st, err := os.Lstat(s.hostPath(p))
	if err != nil {
		return
	}
	var sha, content string
	for _, fr := range refs {
		if sha == "" && len(fr.rule.SHA256) > 0 {
			sha, _, _ = s.hash(p)
		}
		if content == "" && len(fr.rule.Markers) > 0 && st.Size() <= maxConfigRead {
			if data, _, ok := s.read(p, maxConfigRead); ok {
				content = string(data)
			}
		}
		if fileRuleMatches(fr.rule, sha, st.Size(), content) {
			s.packFileHit(p, fr, mtime(st), sha, isSiteDir(path.Base(path.Dir(p))))
		}
	}
}

// artefact handles a wheel, sdist or conda package of a pack package.
func (s *scanner) artefact(p, pkg, version string) {
	st, err := os.Lstat(s.hostPath(p))
	if err != nil {
		return
	}
	for _, r := range s.ix.pkgs[pkg] {
		if !r.bad[version] {
			continue
		}
		sha, _, _ := s.hash(p)
		s.addFindingRaw(r.pack.ID, r.rule.ID+".artefact", string(packs.High), string(r.rule.Confidence), p,
			fmt.Sprintf("%s %s distribution file: pip, uv or a mirror can install it again", pkg, version), mtime(st), sha, "")
		s.addEvidence(evidence{at: st.ModTime(), pack: r.pack,
			desc: fmt.Sprintf("%s %s artefact %s (%s)", pkg, version, st.ModTime().UTC().Format(time.RFC3339), p)})
		if sha != "" {
			for _, fr := range s.ix.bySHA[sha] {
				s.addFinding(fr.pack.ID, &fr.rule.Meta, p, fr.rule.Title+" (hash match)", mtime(st), sha, "")
			}
		}
	}
}

// pipHTTPCache looks inside pip's HTTP cache entries: each is a serialised
// response whose body may be a wheel; the wheel's member names say which
// distribution it is.
func (s *scanner) pipHTTPCache(p string) {
	f, st, err := openRegular(s.hostPath(p))
	if err != nil {
		return
	}
	defer f.Close()
	if st.Size() < 22 || st.Size() > maxHashSize {
		return
	}
	names, err := pyenv.ZipNames(f, st.Size())
	if err != nil {
		return
	}
	s.readFiles.Add(1)
	for _, n := range names {
		top, _, _ := strings.Cut(n, "/")
		if !strings.HasSuffix(top, ".dist-info") {
			continue
		}
		pkg, ver, ok := pyenv.DistDirName(top)
		if !ok {
			continue
		}
		for _, r := range s.ix.pkgs[pkg] {
			if r.bad[ver] {
				s.addFindingRaw(r.pack.ID, r.rule.ID+".pip-cache", string(packs.High), string(r.rule.Confidence), p,
					fmt.Sprintf("pip's HTTP cache holds the %s %s wheel: `pip install` can reinstall it offline", pkg, ver), mtime(st), "", "")
				s.addEvidence(evidence{at: st.ModTime(), pack: r.pack,
					desc: fmt.Sprintf("%s %s in pip cache %s (%s)", pkg, ver, st.ModTime().UTC().Format(time.RFC3339), p)})
			}
		}
		return
	}
}

// condaMeta reads a conda environment's package records (installed
// packages) and its history.
func (s *scanner) condaMeta(p string) {
	ents, err := os.ReadDir(s.hostPath(p))
	if err != nil {
		s.noteError(p, err)
		return
	}
	for _, e := range ents {
		name := e.Name()
		fp := path.Join(p, name)
		if name == "history" {
			if s.claim(fp) {
				s.history(fp, name)
			}
			continue
		}
		if !strings.HasSuffix(name, ".json") || !e.Type().IsRegular() {
			continue
		}
		pkg, ver, _, ok := pyenv.ParseCondaDist(strings.TrimSuffix(name, ".json"))
		if !ok {
			continue
		}
		refs := s.ix.pkgs[pkg]
		if refs == nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		var rec struct {
			Version string `json:"version"`
		}
		if data, _, ok := s.read(fp, maxConfigRead); ok && json.Unmarshal(data, &rec) == nil && rec.Version != "" {
			ver = rec.Version
		}
		for _, r := range refs {
			at := info.ModTime()
			if !r.bad[ver] {
				s.addEvidence(evidence{at: at, pack: r.pack, cleanup: true,
					desc: fmt.Sprintf("clean %s %s installed by conda %s (%s)", pkg, ver, at.UTC().Format(time.RFC3339), fp)})
				continue
			}
			s.addFinding(r.pack.ID, &r.rule.Meta, fp, fmt.Sprintf("%s %s installed by conda in %s", pkg, ver, path.Dir(p)), mtime(info), "", "")
			s.addEvidence(evidence{at: at, pack: r.pack, executable: true,
				desc: fmt.Sprintf("%s %s installed by conda %s (%s)", pkg, ver, at.UTC().Format(time.RFC3339), fp)})
		}
	}
	s.mu.Lock()
	s.envs[path.Dir(p)] = "conda"
	s.mu.Unlock()
}

func earliest(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case b.Before(*a):
		return b
	}
	return a
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// condaPkgDir checks an extracted package in a conda package cache.
func (s *scanner) condaPkgDir(p, name string) {
	if pkg, ver, _, ok := pyenv.ParseCondaDist(name); ok {
		s.cachedDist(p, pkg, ver, "conda's package cache")
	}
}

// uvWheelDir checks an entry of uv's wheel cache.
func (s *scanner) uvWheelDir(p, pkg, name string) {
	ver, _, _ := strings.Cut(name, "-")
	s.cachedDist(p, pyenv.NormalizeName(pkg), ver, "uv's wheel cache")
}

// cachedDist records a bad version sitting in a package cache: it does not
// run, but an offline install brings it back.
func (s *scanner) cachedDist(p, pkg, ver, cache string) {
	refs := s.ix.pkgs[pkg]
	if refs == nil {
		return
	}
	st, err := os.Lstat(s.hostPath(p))
	if err != nil {
		return
	}
	for _, r := range refs {
		if !r.bad[ver] {
			continue
		}
		s.addFindingRaw(r.pack.ID, r.rule.ID+".cached", string(packs.High), string(r.rule.Confidence), p,
			fmt.Sprintf("%s %s in %s: an offline or cached install brings it back", pkg, ver, cache), mtime(st), "", "")
		s.addEvidence(evidence{at: st.ModTime(), pack: r.pack,
			desc: fmt.Sprintf("%s %s in %s %s (%s)", pkg, ver, cache, st.ModTime().UTC().Format(time.RFC3339), p)})
	}
}
