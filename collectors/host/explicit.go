package host

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

func secretOf(v string) redact.Secret { return redact.NewSecretString(v) }

// explicitCredentialPaths are read even when the walk did not reach them
// (another file system such as a tmpfs /run, or outside --home).
var explicitCredentialPaths = []string{
	"/var/run/secrets/kubernetes.io/serviceaccount/token",
	"/run/secrets/kubernetes.io/serviceaccount/token",
	"/etc/kubernetes/admin.conf", "/etc/kubernetes/kubelet.conf",
	"/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/scheduler.conf",
	"/etc/environment", "/kaniko/.docker/config.json",
	"/var/secrets/*", "/run/secrets/*", "/etc/wireguard/*.conf", "/etc/ssh/ssh_host_*_key",
}

// explicit checks what the walk cannot be trusted to reach: pack paths (on
// /tmp, often a separate file system), credential locations on other file
// systems, and process environments.
func (s *scanner) explicit(ctx context.Context) error {
	limited := len(s.o.Homes) > 0
	for _, fp := range s.ix.fixedPaths {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if limited && !strings.HasPrefix(fp.pattern, "~/") {
			continue
		}
		for _, pat := range expandHome(fp.pattern, s.homes) {
			for _, p := range s.glob(pat) {
				s.fixedPathHit(p, fp)
			}
		}
	}
	if !limited {
		for _, pat := range explicitCredentialPaths {
			for _, p := range s.glob(pat) {
				if !s.excluded(p) && s.claim(p) {
					s.credentialFile(p, path.Base(p), nil, nil)
				}
			}
		}
	}
	if s.live {
		s.processEnvironments()
	}
	return ctx.Err()
}

func (s *scanner) fixedPathHit(p string, fp fixedPath) {
	if s.excluded(p) {
		return
	}
	st, err := os.Lstat(s.hostPath(p))
	if err != nil {
		return
	}
	if fp.file != nil {
		s.packFileAt(p, fileRef{fp.pack, fp.file}, false)
		return
	}
	// Persistence: the path existing is the finding; it keeps running.
	kind := "file"
	if st.Mode()&os.ModeSymlink != 0 {
		kind = "symbolic link"
	}
	s.addFinding(fp.pack.ID, fp.meta, p, fmt.Sprintf("%s: %s present", fp.meta.Title, kind), mtime(st), "", "")
	s.addEvidence(evidence{at: st.ModTime(), pack: fp.pack, executable: true,
		desc: fmt.Sprintf("%s %s (%s)", fp.meta.ID, st.ModTime().UTC().Format(time.RFC3339), p)})
}

// glob expands "*" in single path elements without following symbolic
// links to directories; at most 1000 matches.
func (s *scanner) glob(pattern string) []string {
	if !strings.Contains(pattern, "*") {
		return []string{pattern}
	}
	parts := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	cur := []string{"/"}
	for i, part := range parts {
		var next []string
		for _, dir := range cur {
			if !strings.Contains(part, "*") {
				next = append(next, path.Join(dir, part))
				continue
			}
			ents, err := os.ReadDir(s.hostPath(dir))
			if err != nil {
				continue
			}
			for _, e := range ents {
				if ok, _ := path.Match(part, e.Name()); !ok {
					continue
				}
				if i < len(parts)-1 && !e.IsDir() {
					continue // never descend through a symlink
				}
				next = append(next, path.Join(dir, e.Name()))
				if len(next) >= 1000 {
					break
				}
			}
		}
		cur = next
	}
	return cur
}
