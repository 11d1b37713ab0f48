package host

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/tourniquet-ir/tourniquet/collectors"
	"github.com/tourniquet-ir/tourniquet/collectors/credentials"
	"github.com/tourniquet-ir/tourniquet/internal/sanitize"
)

// textScanExt are file types searched for bare provider keys when they sit
// where applications and people keep configuration.
var textScanExt = map[string]bool{
	".json": true, ".yml": true, ".yaml": true, ".toml": true, ".ini": true, ".cfg": true,
	".conf": true, ".properties": true, ".txt": true, ".sh": true,
}

// appRoots are where the harvester looked besides homes (section 4 of the
// research: all_roots).
var appRoots = []string{"/opt/", "/srv/", "/var/www/", "/app/", "/data/", "/etc/"}

func (s *scanner) textScanCandidate(p, name string) bool {
	if !textScanExt[path.Ext(name)] {
		return false
	}
	for _, skip := range []string{"/site-packages/", "/dist-packages/", "/.cache/", "/node_modules/", "/.git/", "/share/doc/", "/usr/share/", "/.vscode/extensions/", "/.local/share/"} {
		if strings.Contains(p, skip) {
			return false
		}
	}
	if _, ok := s.underHome(p); ok {
		return true
	}
	for _, r := range appRoots {
		if strings.HasPrefix(p, r) {
			return true
		}
	}
	return false
}

// credentialFile parses a file that may hold secrets. data is passed when the
// caller already read it.
func (s *scanner) credentialFile(p, name string, data []byte, st fs.FileInfo) {
	switch {
	case credentials.Wanted(p):
		if data == nil {
			var ok bool
			if data, st, ok = s.read(p, maxConfigRead); !ok {
				return
			}
		}
		s.addCredentials(p, st, credentials.Parse(p, data))
	case s.textScanCandidate(p, name):
		if data == nil {
			var ok bool
			if data, st, ok = s.read(p, maxTextScan); !ok {
				return
			}
		}
		s.addCredentials(p, st, credentials.ScanText(data))
	}
}

// addCredentials turns parsed secrets into fingerprints and hints, then
// wipes the values.
func (s *scanner) addCredentials(p string, st fs.FileInfo, found []credentials.Found) {
	if len(found) == 0 {
		return
	}
	sp := sanitize.Terminal(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range found {
		f := &found[i]
		if f.Secret.IsZero() {
			continue
		}
		fp := f.Secret.Fingerprint()
		hint := f.Hint
		if hint == "" {
			hint = f.Secret.Hint()
		}
		f.Secret.Wipe()
		id := stableID("c", s.o.HostName, sp, fp)
		if _, dup := s.creds[id]; dup {
			continue
		}
		s.creds[id] = &collectors.Credential{
			ID: id, Kind: f.Kind, Path: sp, Fingerprint: fp, Hint: sanitize.Terminal(hint),
			ModifiedAt: mtime(st), Owner: sanitize.Truncate(f.Owner, 200),
			Detail: sanitize.Truncate(f.Detail, 200), Note: sanitize.Truncate(f.Note, 200),
		}
	}
}

// processEnvironments reads /proc/*/environ of this machine where readable:
// the payload took the full environment of every process that ran Python.
func (s *scanner) processEnvironments() {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	self := strconv.Itoa(os.Getpid())
	for _, e := range ents {
		pid := e.Name()
		if pid == self || pid[0] < '0' || pid[0] > '9' {
			continue
		}
		data, _, _, err := readBounded("/proc/"+pid+"/environ", 1<<20)
		if err != nil || len(data) == 0 {
			continue // other users' processes: not readable, not an error
		}
		comm, _, _, _ := readBounded("/proc/"+pid+"/comm", 256)
		name := strings.TrimSpace(string(comm))
		var found []credentials.Found
		for _, kv := range bytes.Split(data, []byte{0}) {
			k, v, ok := strings.Cut(string(kv), "=")
			if !ok {
				continue
			}
			if kind, ok := credentials.KindForEnv(k, v); ok {
				found = append(found, credentials.Found{Kind: kind, Secret: secretOf(v),
					Detail: fmt.Sprintf("%s in the environment of %s (pid %s)", k, name, pid)})
			}
		}
		// One location for all processes: a re-scan must not multiply
		// credentials by PID.
		s.addCredentials("process-environment:"+name, nil, found)
	}
}
