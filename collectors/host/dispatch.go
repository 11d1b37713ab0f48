package host

import (
	"io/fs"
	"path"
	"strings"
)

// pruneNames are directories with nothing the packs or the credential
// inventory look for, and many files.
var pruneNames = map[string]bool{
	"node_modules": true, "__pycache__": true, ".tox": true, ".mypy_cache": true,
	".pytest_cache": true, ".ruff_cache": true, ".npm": true, ".cargo": true, ".rustup": true,
	"go-build": true,
}

func (s *scanner) dir(p, name string) bool {
	if pruneNames[name] || s.exclude[p] {
		return false
	}
	parent := path.Base(path.Dir(p))
	switch {
	case isSiteDir(name):
		s.siteDir(p)
		return true // its files (.pth) are visited; its subdirectories are pruned below
	case isSiteDir(parent):
		// A package or distribution directory inside site-packages: only
		// the distribution metadata of pack packages matters, and the
		// pack's <site-packages>/ paths were checked by siteDir.
		if strings.HasSuffix(name, ".dist-info") || strings.HasSuffix(name, ".egg-info") {
			s.dist(p, name, true)
		}
		return false
	case strings.HasSuffix(name, ".dist-info") || strings.HasSuffix(name, ".egg-info"):
		// An unpacked distribution outside any site-packages: a cache
		// (uv's archive-v0), a wheelhouse or a build tree.
		s.dist(p, name, false)
		return true
	case name == "objects" && parent == ".git":
		return false
	case parent == "pkgs":
		// conda's package cache: extracted packages are directories named
		// name-version-build.
		s.condaPkgDir(p, name)
	case strings.Contains(p, "/wheels-v") && path.Base(path.Dir(path.Dir(p))) == "pypi":
		// uv's wheel cache: .../wheels-vN/pypi/<name>/<version>-<tags>
		s.uvWheelDir(p, parent, name)
	case name == "conda-meta":
		s.condaMeta(p)
		return false
	}
	return true
}

func (s *scanner) file(p, name string) {
	if !s.claim(p) {
		return
	}
	dir := path.Dir(p)
	parent := path.Base(dir)

	if isSiteDir(parent) {
		switch {
		case strings.HasSuffix(name, ".pth"):
			s.pth(p, name)
			return
		case strings.HasSuffix(name, ".egg-info"): // a PKG-INFO file named like a dir
			s.dist(p, name, true)
			return
		}
	}
	if refs := s.ix.byName[name]; refs != nil {
		s.namedFile(p, name, refs)
	}
	if pkg, ver, ok := s.ix.artefactPackage(name); ok {
		s.artefact(p, pkg, ver)
	}
	if strings.Contains(p, "/.cache/pip/http") {
		s.pipHTTPCache(p)
		return
	}
	switch {
	case isHistory(name, parent):
		s.history(p, name)
	case isManifest(name):
		s.manifest(p, name)
	case isWorkflow(p, name):
		s.workflow(p)
	}
	var data []byte
	var st fs.FileInfo
	if isUnitFile(p, name) || isCronFile(p) || isShellRC(name) {
		var ok bool
		if data, st, ok = s.read(p, maxConfigRead); ok {
			s.textIndicators(p, name, data, st)
		}
	}
	s.credentialFile(p, name, data, st)
}

func isHistory(name, parent string) bool {
	switch name {
	case ".bash_history", ".zsh_history", ".sh_history", ".history", "fish_history":
		return true
	case "history":
		return parent == "conda-meta"
	}
	return false
}

func isManifest(name string) bool {
	switch name {
	case "pyproject.toml", "poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock", "Pipfile":
		return true
	}
	return strings.HasPrefix(name, "requirements") && (strings.HasSuffix(name, ".txt") || strings.HasSuffix(name, ".in"))
}

func isWorkflow(p, name string) bool {
	return (strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) &&
		strings.HasSuffix(path.Dir(p), "/.github/workflows")
}

func isUnitFile(p, name string) bool {
	if !strings.Contains(p, "/systemd/") {
		return false
	}
	for _, ext := range []string{".service", ".timer", ".socket", ".path"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func isCronFile(p string) bool {
	return p == "/etc/crontab" || strings.HasPrefix(p, "/etc/cron.d/") || strings.HasPrefix(p, "/var/spool/cron/") ||
		strings.HasPrefix(p, "/etc/cron.hourly/") || strings.HasPrefix(p, "/etc/cron.daily/")
}

func isShellRC(name string) bool {
	switch name {
	case ".bashrc", ".bash_profile", ".profile", ".zshrc", ".zprofile", ".zshenv", ".bash_login", ".bash_logout":
		return true
	}
	return false
}
