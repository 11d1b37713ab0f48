package host

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileTree scans a root built to hurt a scanner: symlink loops and
// escapes, FIFOs where config files should be, huge files, names carrying
// terminal escapes and invalid UTF-8, a fake /proc. The scan must finish,
// read nothing outside the root, and escape every name it prints.
func TestHostileTree(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mk := func(p string, data []byte) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := "home/x"
	// Loops and escapes.
	if err := os.MkdirAll(filepath.Join(root, home, "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{
		{filepath.Join(root, home, "loop"), filepath.Join(root, home)},
		{filepath.Join(root, home, "deep", "up"), "../.."},
		{filepath.Join(root, home, "self"), "self"},
	} {
		if err := os.Symlink(l[1], l[0]); err != nil {
			t.Fatal(err)
		}
	}
	// A credentials file that is a symlink to a secret outside the root.
	outside := filepath.Join(t.TempDir(), "outside-secret")
	if err := os.WriteFile(outside, []byte("[default]\naws_access_key_id = AKIAOUTSIDEROOT12345\naws_secret_access_key = outsideOUTSIDEoutsideOUTSIDEoutside12345\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, home, ".aws"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, home, ".aws", "credentials")); err != nil {
		t.Fatal(err)
	}
	// FIFOs where files are expected: opening one would block forever.
	for _, p := range []string{home + "/.env", "etc/environment", home + "/.bash_history"} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(full, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A fake /proc with a FIFO: never entered.
	if err := os.MkdirAll(filepath.Join(root, "proc", "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "proc", "1", "environ"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Huge files: bounded reads still see the start of a config and the end
	// of a history.
	big := bytes.Repeat([]byte("# padding line of a very long history file\n"), 80_000) // ~3.4 MB
	mk("home/y/.bash_history", append(append([]byte{}, big...), []byte("#1774349620\npip install litellm==1.82.8\n")...))
	mk("home/y/.env", append([]byte("OPENAI_API_KEY=sk-proj-HUGEfileFAKEkey0123456789abcdefghijklmnop\n"), bytes.Repeat([]byte("X=1\n"), 2_000_000)...))
	// Hostile names.
	mk("home/y/proj/requirements\x1b[31m.txt", []byte("litellm==1.82.7\n"))
	mk("opt/\xffbad\x1b]0;pwned\x07/lib/python3.11/site-packages/litellm_init.pth", []byte("import subprocess\n"))

	done := make(chan struct{})
	var res []byte
	go func() {
		defer close(done)
		r, err := Scan(context.Background(), Options{Root: root, Packs: builtinPacks(t), Now: func() time.Time { return scanTime }})
		if err != nil {
			t.Error(err)
			return
		}
		res, err = json.Marshal(r)
		if err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("scan did not finish: blocked on a FIFO or looping")
	}
	out := string(res)
	if strings.Contains(out, "OUTSIDEROOT") || strings.Contains(out, "AKIA…2345") {
		t.Error("read a credentials file through a symlink leaving the root")
	}
	for _, raw := range []string{"\x1b", "\x07", "\\u001b", "\\u0007", "\ufffd"} {
		if strings.Contains(out, raw) {
			i := strings.Index(out, raw)
			t.Errorf("output carries %q: names were not escaped: …%s…", raw, out[max(0, i-300):min(len(out), i+50)])
		}
	}
	for _, want := range []string{
		`requirements\\x1b[31m.txt`,           // escaped, visible
		`/opt/\\xffbad\\x1b]0;pwned\\x07/lib`, // invalid UTF-8 and OSC escaped
		`"rule":"litellm-init-pth-present"`,
		`history: installed litellm 1.82.8`, // found at the end of a 3.4 MB history
		`"kind":"openai-api-key"`,           // found at the start of a 8 MB .env
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
}

// TestUnreadableDirectoryReportedOnce: a directory the scanner cannot read is
// named once in the errors and the scan goes on. Root reads everything, so
// the case only exists for other users.
func TestUnreadableDirectoryReportedOnce(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop reads")
	}
	root := t.TempDir()
	locked := filepath.Join(root, "home", "other")
	if err := os.MkdirAll(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "home", "ok.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	res, err := Scan(context.Background(), Options{Root: root, Packs: builtinPacks(t)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range res.Errors {
		if strings.Contains(e, "/home/other") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("errors %q: want /home/other named exactly once", res.Errors)
	}
}
