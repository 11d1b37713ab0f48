package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tourniquet-ir/tourniquet/collectors/packs"
)

// TestUserPackHashes shows that a new incident is a new pack: a pack written
// here, naming files by hash only, finds them wherever they are (a renamed
// .pth, a payload module, a wheel in a cache) and leaves same-named files
// with other content alone.
func TestUserPackHashes(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(p, content string) string {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		return hex.EncodeToString(sum[:])
	}
	site := "opt/svc/venv/lib/python3.12/site-packages"
	pthHash := write(site+"/renamed_hook.pth", "import evilpkg; evilpkg.go()\n")
	modHash := write(site+"/evilpkg/core.py", "# the payload module\n")
	write("opt/svc/venv/pyvenv.cfg", "home = /usr/bin\n")
	write("opt/other/venv/lib/python3.12/site-packages/evilpkg/core.py", "# a clean copy of the module\n")
	write("opt/other/venv/pyvenv.cfg", "home = /usr/bin\n")
	wheelHash := write("home/u/.cache/pip/wheels/x/evilpkg-2.0.0-py3-none-any.whl", "wheel bytes")

	pack := fmt.Sprintf(`schema: tourniquet.pack/v1
id: evilpkg-2026-11
version: 1
title: evilpkg 2.0.0 test incident
window:
  start: 2026-11-01T00:00:00Z
packages:
  - id: evilpkg-bad
    title: evilpkg 2.0.0
    severity: critical
    ecosystem: pypi
    name: evilpkg
    versions: ["2.0.0"]
    source: test
    confidence: confirmed
files:
  - id: evil-pth
    title: the trigger .pth, by hash
    severity: critical
    role: trigger
    sha256: [%s]
    names: [renamed_hook.pth]
    source: test
    confidence: confirmed
  - id: evil-module
    title: the payload module
    severity: critical
    role: payload
    paths: ["<site-packages>/evilpkg/core.py"]
    sha256: [%s]
    source: test
    confidence: confirmed
  - id: evil-wheel
    title: the wheel
    severity: high
    role: artefact
    sha256: [%s]
    source: test
    confidence: confirmed
`, pthHash, modHash, wheelHash)
	p, err := packs.Parse("evilpkg.yaml", []byte(pack))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(context.Background(), Options{Root: root, Packs: []*packs.Pack{p}, Now: func() time.Time { return scanTime }})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Rule+" "+f.Path+" "+f.SHA256)
	}
	sort.Strings(got)
	want := []string{
		"evil-module /opt/svc/venv/lib/python3.12/site-packages/evilpkg/core.py " + modHash,
		"evil-pth /opt/svc/venv/lib/python3.12/site-packages/renamed_hook.pth " + pthHash,
		"evil-wheel /home/u/.cache/pip/wheels/x/evilpkg-2.0.0-py3-none-any.whl " + wheelHash,
		"evilpkg-bad.artefact /home/u/.cache/pip/wheels/x/evilpkg-2.0.0-py3-none-any.whl " + wheelHash,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if res.Verdict != "compromised" || !res.Window.Open {
		t.Errorf("verdict %s, window %+v: a payload module and a trigger .pth keep the window open", res.Verdict, res.Window)
	}
}
