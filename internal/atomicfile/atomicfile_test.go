//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// names lists dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// snapshot is what "the original is untouched" means.
type snapshot struct {
	data []byte
	id   fileID
}

func snap(t *testing.T, path string) snapshot {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{data: b, id: idOf(fi)}
}

func (s snapshot) same(t *testing.T, path string) {
	t.Helper()
	now := snap(t, path)
	if !bytes.Equal(now.data, s.data) || now.id != s.id {
		t.Fatalf("%s changed:\n before %q %+v\n after  %q %+v", path, s.data, s.id, now.data, now.id)
	}
}

func write(t *testing.T, path, data string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // despite the umask
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReplaceKeepsModeAndOwner(t *testing.T) {
	t.Parallel()
	for _, perm := range []os.FileMode{0o600, 0o640, 0o444, 0o755} {
		t.Run(perm.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "credentials")
			write(t, p, "old", perm)
			if os.Geteuid() == 0 {
				if err := os.Chown(p, 1234, 5678); err != nil {
					t.Fatal(err)
				}
			}
			before := snap(t, p)
			if err := Replace(p, []byte("new content"), 0o600, Options{}); err != nil {
				t.Fatal(err)
			}
			after := snap(t, p)
			if string(after.data) != "new content" {
				t.Errorf("content %q", after.data)
			}
			if after.id.mode != perm {
				t.Errorf("mode %v, want %v", after.id.mode, perm)
			}
			if after.id.uid != before.id.uid || after.id.gid != before.id.gid {
				t.Errorf("owner %d:%d, want %d:%d", after.id.uid, after.id.gid, before.id.uid, before.id.gid)
			}
			if after.id.ino == before.id.ino {
				t.Errorf("same inode: not replaced by rename")
			}
			if got := names(t, dir); !slices.Equal(got, []string{"credentials"}) {
				t.Errorf("dir holds %q", got)
			}
		})
	}
}

func TestReplaceCreatesWithPerm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "new")
	if err := Replace(p, []byte("x"), 0o640, Options{}); err != nil {
		t.Fatal(err)
	}
	if s := snap(t, p); s.id.mode != 0o640 || string(s.data) != "x" {
		t.Errorf("got %v %q", s.id.mode, s.data)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"new"}) {
		t.Errorf("dir holds %q", got)
	}
}

func TestEditCreatesMissing0600(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "credentials")
	var got []byte
	called := false
	err := Edit(p, func(old []byte) ([]byte, error) {
		called, got = true, old
		return []byte("hello\n"), nil
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !called || got != nil {
		t.Errorf("fn called=%v with %q, want nil", called, got)
	}
	if s := snap(t, p); s.id.mode != CreatePerm || string(s.data) != "hello\n" {
		t.Errorf("got %v %q", s.id.mode, s.data)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	type setup func(t *testing.T, dir string) string
	cases := []struct {
		name   string
		setup  setup
		opts   Options
		want   error
		target string // a file that must stay as it was, relative to dir
	}{
		{
			name: "symlink",
			setup: func(t *testing.T, dir string) string {
				write(t, filepath.Join(dir, "real"), "old", 0o600)
				p := filepath.Join(dir, "link")
				if err := os.Symlink("real", p); err != nil {
					t.Fatal(err)
				}
				return p
			},
			want: ErrSymlink, target: "real",
		},
		{
			name: "dangling symlink followed",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "link")
				if err := os.Symlink("nowhere", p); err != nil {
					t.Fatal(err)
				}
				return p
			},
			opts: Options{FollowSymlink: true}, want: fs.ErrNotExist,
		},
		{
			name: "directory",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "d")
				if err := os.Mkdir(p, 0o700); err != nil {
					t.Fatal(err)
				}
				return p
			},
			want: ErrNotRegular,
		},
		{
			name: "fifo",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "fifo")
				if err := syscall.Mkfifo(p, 0o600); err != nil {
					t.Skip("mkfifo:", err)
				}
				return p
			},
			want: ErrNotRegular,
		},
		{
			name: "symlink to a directory, followed",
			setup: func(t *testing.T, dir string) string {
				if err := os.Mkdir(filepath.Join(dir, "d"), 0o700); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(dir, "link")
				if err := os.Symlink("d", p); err != nil {
					t.Fatal(err)
				}
				return p
			},
			opts: Options{FollowSymlink: true}, want: ErrNotRegular,
		},
		{
			name: "world-writable directory",
			setup: func(t *testing.T, dir string) string {
				d := filepath.Join(dir, "open")
				if err := os.Mkdir(d, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(d, 0o777); err != nil {
					t.Fatal(err)
				}
				write(t, filepath.Join(d, "f"), "old", 0o600)
				return filepath.Join(d, "f")
			},
			want: ErrUnsafeDir, target: "open/f",
		},
		{
			name: "hard link",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "f")
				write(t, p, "old", 0o600)
				if err := os.Link(p, filepath.Join(dir, "other-name")); err != nil {
					t.Fatal(err)
				}
				return p
			},
			want: ErrHardLinked, target: "f",
		},
		{
			name: "another user's file, not root",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "f")
				write(t, p, "old", 0o600)
				return p
			},
			opts: Options{hooks: &hooks{euid: func() int { return os.Geteuid() + 4242 }}},
			want: ErrOwner, target: "f",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, op := range []string{"Replace", "Edit"} {
				dir := t.TempDir()
				p := c.setup(t, dir)
				var before snapshot
				if c.target != "" {
					before = snap(t, filepath.Join(dir, c.target))
				}
				listed := names(t, dir)
				var err error
				if op == "Replace" {
					err = Replace(p, []byte("new"), 0o600, c.opts)
				} else {
					err = Edit(p, func([]byte) ([]byte, error) { return []byte("new"), nil }, c.opts)
				}
				if !errors.Is(err, c.want) {
					t.Fatalf("%s: err = %v, want %v", op, err, c.want)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("%s: error does not name the path: %v", op, err)
				}
				if c.target != "" {
					before.same(t, filepath.Join(dir, c.target))
				}
				if got := names(t, dir); !slices.Equal(got, listed) {
					t.Errorf("%s: dir went from %q to %q", op, listed, got)
				}
			}
		})
	}
}

func TestStickyWorldWritableDirIsAllowed(t *testing.T) {
	t.Parallel()
	d := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d, "f")
	if err := Replace(p, []byte("x"), 0o600, Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestFollowSymlinkReplacesTarget(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	real := filepath.Join(root, "dotfiles", "aws", "credentials")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, real, "old", 0o640)
	home := filepath.Join(root, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(home, "credentials")
	if err := os.Symlink("../dotfiles/aws/credentials", link); err != nil {
		t.Fatal(err)
	}
	var hooked []string
	o := Options{FollowSymlink: true, hooks: &hooks{step: func(name string) error {
		if name == "rename" { // the temporary file sits next to the target
			hooked = names(t, filepath.Dir(real))
		}
		return nil
	}}}
	err := Edit(link, func(old []byte) ([]byte, error) { return append(old, " new"...), nil }, o)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link is no longer a symlink: %v %v", fi, err)
	}
	if got := read(t, real); got != "old new" {
		t.Errorf("target holds %q", got)
	}
	if s := snap(t, real); s.id.mode != 0o640 {
		t.Errorf("target mode %v", s.id.mode)
	}
	if len(hooked) != 2 || !strings.HasPrefix(hooked[0], ".credentials.tourniquet-tmp-") {
		t.Errorf("before rename, target dir held %q", hooked)
	}
	if got := names(t, home); !slices.Equal(got, []string{"credentials"}) {
		t.Errorf("link dir holds %q", got)
	}
}

// steps are the hook points, in order.
var steps = []string{"create", "write", "sync", "chown", "chmod", "close", "backup", "precheck", "rename", "syncdir"}

// TestFailureAtEveryStep makes each step fail in turn and checks that the
// original is untouched (or, for syncdir, replaced and reported as such) and
// that no temporary or backup file is left.
func TestFailureAtEveryStep(t *testing.T) {
	t.Parallel()
	encrypt := func(p []byte) ([]byte, error) { return append([]byte("enc:"), p...), nil }
	for _, op := range []string{"Replace", "Replace+backup", "Edit", "Edit+backup", "Edit-create"} {
		for _, step := range steps {
			t.Run(op+"/"+step, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				p := filepath.Join(dir, "credentials")
				create := op == "Edit-create"
				if !create {
					write(t, p, "old content\n", 0o640)
				}
				injected := errors.New("injected failure")
				reached := false
				o := Options{hooks: &hooks{step: func(name string) error {
					if name == step {
						reached = true
						return injected
					}
					return nil
				}}}
				if strings.HasSuffix(op, "+backup") {
					o.Encrypt = encrypt
				}
				var before snapshot
				if !create {
					before = snap(t, p)
				}
				var err error
				if strings.HasPrefix(op, "Replace") {
					err = Replace(p, []byte("new content\n"), 0o600, o)
				} else {
					err = Edit(p, func([]byte) ([]byte, error) { return []byte("new content\n"), nil }, o)
				}
				if !reached {
					if err != nil {
						t.Fatalf("step not reached, yet: %v", err)
					}
					return // e.g. no chown when creating, no precheck in Replace
				}
				if !errors.Is(err, injected) {
					t.Fatalf("err = %v, want the injected failure", err)
				}
				if step == "syncdir" {
					if !errors.Is(err, ErrDirSync) {
						t.Errorf("err = %v, want ErrDirSync", err)
					}
					if got := read(t, p); got != "new content\n" {
						t.Errorf("after a directory sync failure the file holds %q", got)
					}
					return
				}
				if create {
					if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("file created despite the failure: %v", err)
					}
					if got := names(t, dir); len(got) != 0 {
						t.Errorf("dir holds %q", got)
					}
					return
				}
				before.same(t, p)
				if got := names(t, dir); !slices.Equal(got, []string{"credentials"}) {
					t.Errorf("dir holds %q", got)
				}
			})
		}
	}
}

func TestEditFnErrorLeavesOriginal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, "old", 0o600)
	before := snap(t, p)
	boom := errors.New("boom")
	err := Edit(p, func([]byte) ([]byte, error) { return nil, boom }, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	before.same(t, p)
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Errorf("dir holds %q", got)
	}
}

func TestEditUnchangedWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, "same", 0o600)
	before := snap(t, p)
	if err := Edit(p, func(old []byte) ([]byte, error) { return old, nil }, Options{}); err != nil {
		t.Fatal(err)
	}
	before.same(t, p)
}

func TestEditSizeLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, strings.Repeat("x", MaxEditSize), 0o600)
	if err := Edit(p, func(old []byte) ([]byte, error) { return old[:10], nil }, Options{}); err != nil {
		t.Fatalf("exactly MaxEditSize: %v", err)
	}
	write(t, p, strings.Repeat("x", MaxEditSize+1), 0o600)
	before := snap(t, p)
	called := false
	err := Edit(p, func(old []byte) ([]byte, error) { called = true; return old, nil }, Options{})
	if !errors.Is(err, ErrTooLarge) || called {
		t.Fatalf("err = %v, fn called = %v", err, called)
	}
	before.same(t, p)
}

// TestEditDetectsConcurrentChange changes the file the way other editors do,
// between Edit's read and its rename, and checks that Edit writes nothing and
// the other editor's change survives.
func TestEditDetectsConcurrentChange(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(t *testing.T, p string)
		want   string // file content after, "" when removed
	}{
		{"append in place", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("theirs\n"); err != nil {
				t.Fatal(err)
			}
		}, "line one\ntheirs\n"},
		{"same size rewrite", func(t *testing.T, p string) {
			time.Sleep(10 * time.Millisecond) // let the mtime move on coarse clocks
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString("LINE ONE\n"); err != nil {
				t.Fatal(err)
			}
		}, "LINE ONE\n"},
		{"replaced by rename", func(t *testing.T, p string) {
			tmp := p + ".theirs"
			write(t, tmp, "line one\n", 0o600) // same content, new inode
			if err := os.Rename(tmp, p); err != nil {
				t.Fatal(err)
			}
		}, "line one\n"},
		{"chmod", func(t *testing.T, p string) {
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "line one\n"},
		{"removed", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, ""},
		{"became a symlink", func(t *testing.T, p string) {
			write(t, p+".real", "line one\n", 0o600)
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Base(p)+".real", p); err != nil {
				t.Fatal(err)
			}
		}, "line one\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			write(t, p, "line one\n", 0o600)
			err := Edit(p, func(old []byte) ([]byte, error) {
				c.change(t, p)
				return append(old, "ours\n"...), nil
			}, Options{})
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("err = %v, want ErrChanged", err)
			}
			got, rerr := os.ReadFile(p)
			if c.want == "" {
				if !errors.Is(rerr, fs.ErrNotExist) {
					t.Errorf("file came back: %q %v", got, rerr)
				}
			} else if string(got) != c.want {
				t.Errorf("file holds %q, want %q", got, c.want)
			}
			for _, n := range names(t, dir) {
				if strings.Contains(n, "tourniquet-tmp") {
					t.Errorf("temporary file left: %s", n)
				}
			}
		})
	}
}

func TestEditDetectsFileCreatedMeanwhile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	err := Edit(p, func(old []byte) ([]byte, error) {
		write(t, p, "theirs", 0o600)
		return []byte("ours"), nil
	}, Options{})
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v", err)
	}
	if got := read(t, p); got != "theirs" {
		t.Errorf("file holds %q", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Errorf("dir holds %q", got)
	}
}

// TestEditCreateRaceAtRename creates the file after the precheck, just
// before the rename: the no-clobber link must still refuse.
func TestEditCreateRaceAtRename(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	o := Options{hooks: &hooks{step: func(name string) error {
		if name == "rename" {
			write(t, p, "theirs", 0o600)
		}
		return nil
	}}}
	err := Edit(p, func([]byte) ([]byte, error) { return []byte("ours"), nil }, o)
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v", err)
	}
	if got := read(t, p); got != "theirs" {
		t.Errorf("file holds %q", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f"}) {
		t.Errorf("dir holds %q", got)
	}
}

func TestNoBackupByDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "credentials")
	write(t, p, "old secret", 0o600)
	if err := Replace(p, []byte("new"), 0o600, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"credentials"}) {
		t.Errorf("dir holds %q", got)
	}
}

func TestEncryptedBackup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "credentials")
	write(t, p, "old secret", 0o644)
	enc := func(p []byte) ([]byte, error) {
		out := make([]byte, len(p))
		for i, b := range p {
			out[i] = b ^ 0x5a
		}
		return out, nil
	}
	for i, content := range []string{"v2", "v3"} { // twice in the same second
		if err := Edit(p, func([]byte) ([]byte, error) { return []byte(content), nil }, Options{Encrypt: enc}); err != nil {
			t.Fatal(i, err)
		}
	}
	got := names(t, dir)
	if len(got) != 3 || got[0] != "credentials" {
		t.Fatalf("dir holds %q", got)
	}
	olds := map[string]bool{}
	for _, n := range got[1:] {
		if !strings.HasPrefix(n, "credentials.tourniquet-bak-") {
			t.Errorf("unexpected file %s", n)
			continue
		}
		s := snap(t, filepath.Join(dir, n))
		if s.id.mode != 0o600 {
			t.Errorf("%s mode %v", n, s.id.mode)
		}
		if bytes.Contains(s.data, []byte("secret")) {
			t.Errorf("%s holds plaintext", n)
		}
		plain, _ := enc(s.data)
		olds[string(plain)] = true
	}
	if !olds["old secret"] || !olds["v2"] {
		t.Errorf("backups decrypt to %v", olds)
	}
	if s := snap(t, p); string(s.data) != "v3" || s.id.mode != 0o644 {
		t.Errorf("file %q %v", s.data, s.id.mode)
	}
}

func TestEncryptFailures(t *testing.T) {
	t.Parallel()
	for name, enc := range map[string]func([]byte) ([]byte, error){
		"error":    func([]byte) ([]byte, error) { return nil, errors.New("kms down") },
		"identity": func(p []byte) ([]byte, error) { return p, nil },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "credentials")
			write(t, p, "old secret", 0o600)
			before := snap(t, p)
			err := Replace(p, []byte("new"), 0o600, Options{Encrypt: enc})
			if err == nil {
				t.Fatal("no error")
			}
			before.same(t, p)
			if got := names(t, dir); !slices.Equal(got, []string{"credentials"}) {
				t.Errorf("dir holds %q", got)
			}
		})
	}
}

func TestDirectorySyncIsRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	var seen []string
	o := Options{hooks: &hooks{step: func(name string) error { seen = append(seen, name); return nil }}}
	if err := Replace(p, []byte("x"), 0o600, o); err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[len(seen)-1] != "syncdir" {
		t.Errorf("steps %q: syncdir was not the last", seen)
	}
	if err := syncDir(dir); err != nil {
		t.Errorf("syncDir: %v", err)
	}
	if err := syncDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("syncDir of a missing directory succeeded")
	}
}

// The helper process: run by the tests below through the test binary.
const helperEnv = "ATOMICFILE_TEST_HELPER"

func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process only")
	}
	path := os.Getenv("ATOMICFILE_TEST_PATH")
	data := []byte(os.Getenv("ATOMICFILE_TEST_DATA"))
	var o Options
	switch {
	case strings.HasPrefix(mode, "kill-at-"):
		at := strings.TrimPrefix(mode, "kill-at-")
		o.hooks = &hooks{step: func(name string) error {
			if name == at {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Minute)
			}
			return nil
		}}
		o.Encrypt = func(p []byte) ([]byte, error) { return bytes.ToUpper(p), nil }
	case mode == "fsize":
		signal.Ignore(syscall.SIGXFSZ)
		lim := &syscall.Rlimit{Cur: 1024, Max: 1024}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, lim); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(3)
		}
	}
	err := Edit(path, func([]byte) ([]byte, error) { return data, nil }, o)
	fmt.Print("result: ", err)
	os.Exit(0)
}

func helper(t *testing.T, mode, path, data string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "ATOMICFILE_TEST_PATH="+path, "ATOMICFILE_TEST_DATA="+data)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCrashAtEveryStep kills a process that is replacing the file at each
// step in turn: the file must then hold exactly the old or exactly the new
// content, and a leftover temporary file must be mode 0600.
func TestCrashAtEveryStep(t *testing.T) {
	t.Parallel()
	oldData := strings.Repeat("old line\n", 1000)
	newData := strings.Repeat("new line\n", 2000)
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "credentials")
			write(t, p, oldData, 0o600)
			out, err := helper(t, "kill-at-"+step, p, newData)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed: %v\n%s", err, out)
			}
			got := read(t, p)
			want := oldData
			if step == "syncdir" {
				want = newData
			}
			if got != want {
				t.Errorf("after a crash at %s the file holds %d bytes, neither old nor new as expected", step, len(got))
			}
			for _, n := range names(t, dir) {
				fi, err := os.Lstat(filepath.Join(dir, n))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s left with mode %v", n, fi.Mode())
				}
			}
		})
	}
}

// TestWriteErrorFromKernel makes the write fail for real (EFBIG, through
// RLIMIT_FSIZE in a child process: the nearest thing to a full disk that
// needs no mount).
func TestWriteErrorFromKernel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "credentials")
	write(t, p, "old\n", 0o600)
	before := snap(t, p)
	out, err := helper(t, "fsize", p, strings.Repeat("x", 4096))
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if !strings.Contains(out, "result: ") || strings.Contains(out, "result: <nil>") || !strings.Contains(out, "file too large") {
		t.Fatalf("helper output: %s", out)
	}
	before.same(t, p)
	if got := names(t, dir); !slices.Equal(got, []string{"credentials"}) {
		t.Errorf("dir holds %q", got)
	}
}

// TestConcurrentEditors runs editors that each append their own line: the
// directory lock makes them take turns, so no update is lost.
func TestConcurrentEditors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write(t, p, "", 0o600)
	var conflicts atomic.Int64
	done := make(chan error)
	const n = 8
	for i := range n {
		go func() {
			for {
				err := Edit(p, func(old []byte) ([]byte, error) {
					return fmt.Appendf(old, "editor %d\n", i), nil
				}, Options{})
				if errors.Is(err, ErrChanged) {
					conflicts.Add(1)
					continue
				}
				done <- err
				return
			}
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got := read(t, p)
	lost := 0
	for i := range n {
		if !strings.Contains(got, fmt.Sprintf("editor %d\n", i)) {
			lost++
		}
	}
	if lost > 0 || conflicts.Load() > 0 {
		t.Errorf("%d of %d updates lost, %d conflicts", lost, n, conflicts.Load())
	}
}
