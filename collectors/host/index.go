package host

import (
	"path"
	"strings"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
	"github.com/tourniquet-ir/tourniquet/collectors/pyenv"
)

// index turns the packs into lookups the hot path can afford: every file of a
// 500k-file walk passes through file(), so matching there is map lookups.
type index struct {
	packs []*packs.Pack

	pkgs       map[string][]pkgRef  // normalised package name
	byName     map[string][]fileRef // file rule names
	bySHA      map[string][]fileRef // file rule hashes
	sitePaths  []sitePath           // <site-packages>/rel paths
	fixedPaths []fixedPath          // / and ~/ paths (files and persistence)
	units      []unitRef            // persistence rules with markers
	network    []netRef
	strs       []strRef
	ci         map[string][]ciRef // lower-case owner/repo
}

type pkgRef struct {
	pack *packs.Pack
	rule *packs.PackageRule
	bad  map[string]bool
}

type fileRef struct {
	pack *packs.Pack
	rule *packs.FileRule
}

type sitePath struct {
	rel string
	ref fileRef
}

type fixedPath struct {
	pattern string // as in the pack
	pack    *packs.Pack
	meta    *packs.Meta
	file    *packs.FileRule        // nil for persistence
	persist *packs.PersistenceRule // nil for files
}

type unitRef struct {
	pack *packs.Pack
	rule *packs.PersistenceRule
}

type netRef struct {
	pack  *packs.Pack
	rule  *packs.NetworkRule
	lower []string
}

type strRef struct {
	pack *packs.Pack
	rule *packs.StringRule
}

type ciRef struct {
	pack *packs.Pack
	rule *packs.CIRule
}

func newIndex(ps []*packs.Pack) *index {
	ix := &index{
		packs:  ps,
		pkgs:   map[string][]pkgRef{},
		byName: map[string][]fileRef{},
		bySHA:  map[string][]fileRef{},
		ci:     map[string][]ciRef{},
	}
	for _, p := range ps {
		for i := range p.Packages {
			r := &p.Packages[i]
			if r.Ecosystem != "pypi" && r.Ecosystem != "conda" {
				continue
			}
			bad := map[string]bool{}
			for _, v := range r.Versions {
				bad[v] = true
			}
			n := pyenv.NormalizeName(r.Name)
			ix.pkgs[n] = append(ix.pkgs[n], pkgRef{p, r, bad})
		}
		for i := range p.Files {
			r := &p.Files[i]
			ref := fileRef{p, r}
			for _, n := range r.Names {
				ix.byName[n] = append(ix.byName[n], ref)
			}
			for _, h := range r.SHA256 {
				ix.bySHA[h] = append(ix.bySHA[h], ref)
			}
			for _, pat := range r.Paths {
				if rel, ok := strings.CutPrefix(pat, "<site-packages>/"); ok {
					ix.sitePaths = append(ix.sitePaths, sitePath{rel, ref})
				} else {
					ix.fixedPaths = append(ix.fixedPaths, fixedPath{pattern: pat, pack: p, meta: &r.Meta, file: r})
				}
			}
		}
		for i := range p.Persistence {
			r := &p.Persistence[i]
			for _, pat := range r.Paths {
				ix.fixedPaths = append(ix.fixedPaths, fixedPath{pattern: pat, pack: p, meta: &r.Meta, persist: r})
			}
			if len(r.Markers) > 0 {
				ix.units = append(ix.units, unitRef{p, r})
			}
		}
		for i := range p.Network {
			r := &p.Network[i]
			nr := netRef{pack: p, rule: r}
			for _, v := range r.Values {
				nr.lower = append(nr.lower, strings.ToLower(v))
			}
			ix.network = append(ix.network, nr)
		}
		for i := range p.Strings {
			ix.strs = append(ix.strs, strRef{p, &p.Strings[i]})
		}
		for i := range p.CI {
			r := &p.CI[i]
			a := strings.ToLower(r.Action)
			ix.ci[a] = append(ix.ci[a], ciRef{p, r})
		}
	}
	return ix
}

// artefactPackage reports whether a file name looks like a distribution of
// a pack package ("litellm-1.82.7-py3-none-any.whl", "litellm-1.82.8.tar.gz",
// conda "litellm-1.82.7-pyhd8ed1ab_0.conda"), and returns its name and version.
func (ix *index) artefactPackage(name string) (pkg, version string, ok bool) {
	base := name
	for _, ext := range []string{".whl", ".tar.gz", ".zip", ".tar.bz2", ".conda", ".egg"} {
		if strings.HasSuffix(base, ext) {
			base = strings.TrimSuffix(base, ext)
			ok = true
			break
		}
	}
	if !ok {
		return "", "", false
	}
	// name-version[-tags]: the name part may itself contain "-" in sdists.
	parts := strings.Split(base, "-")
	for i := 1; i < len(parts); i++ {
		n := pyenv.NormalizeName(strings.Join(parts[:i], "-"))
		if _, known := ix.pkgs[n]; known {
			return n, parts[i], true
		}
	}
	return "", "", false
}

// isSiteDir reports a directory Python's site module reads .pth files from.
func isSiteDir(name string) bool {
	return name == "site-packages" || name == "dist-packages"
}

// matchesMarkers counts how many markers occur in text.
func countMarkers(text string, markers []string) int {
	n := 0
	for _, m := range markers {
		if m != "" && strings.Contains(text, m) {
			n++
		}
	}
	return n
}

// containsIndicator finds v in lower-case text at token boundaries, so that
// the IP 83.142.209.11 does not match 83.142.209.110.
func containsIndicator(lowerText, v string) bool {
	for from := 0; from <= len(lowerText)-len(v); {
		i := strings.Index(lowerText[from:], v)
		if i < 0 {
			return false
		}
		i += from
		before := i == 0 || !isTokenByte(lowerText[i-1])
		end := i + len(v)
		after := end == len(lowerText) || !isTokenByte(lowerText[end])
		if before && after {
			return true
		}
		from = i + 1
	}
	return false
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'
}

// expandHome turns a pack path into inside-root paths: "~/x" once per home.
func expandHome(pattern string, homes []string) []string {
	rel, ok := strings.CutPrefix(pattern, "~/")
	if !ok {
		return []string{pattern}
	}
	out := make([]string, 0, len(homes))
	for _, h := range homes {
		out = append(out, path.Join(h, rel))
	}
	return out
}
