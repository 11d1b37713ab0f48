//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package atomicfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Replace atomically replaces the regular file at path with data: a temporary
// file in the same directory (O_EXCL, mode 0600 while written), write, fsync,
// chown/chmod to the original's owner and mode (the owner only when running as
// root or already equal; a file of another user is refused when not root),
// rename over the original, fsync the directory. If path does not exist, perm
// is used and the file is created the same way (without clobbering a file
// that appears meanwhile).
//
// It refuses a path that is a symbolic link (unless opts.FollowSymlink: then
// the link's final target is replaced, from a temporary file in the target's
// directory), a non-regular file, a file with more than one hard link, and a
// directory writable by others without the sticky bit.
//
// On any error the original is untouched and the temporary file removed, with
// one exception: an error matching ErrDirSync means the rename happened.
func Replace(path string, data []byte, perm os.FileMode, opts Options) error {
	if err := replace(path, data, perm, opts); err != nil {
		return fmt.Errorf("atomicfile: replace %s: %w", path, err)
	}
	return nil
}

// Edit reads the file at path (refusing one over MaxEditSize), calls fn with
// its content, and replaces it with fn's result as Replace does. A missing
// file is passed to fn as nil and created with mode CreatePerm (0600).
//
// Edit fails with ErrChanged, writing nothing, if the file changed between
// the read and the rename (device, inode, size, mtime, mode, owner or link
// count differ, it appeared or vanished, or the symlink now points elsewhere),
// so that a concurrent editor's change is not lost. The check runs just
// before the rename; a change by another program in the microseconds between
// the two is not caught (other Replace and Edit calls wait on a flock of the
// directory, so they cannot race this way). If fn returns the content
// unchanged, nothing is written.
func Edit(path string, fn func(old []byte) ([]byte, error), opts Options) error {
	if err := edit(path, fn, opts); err != nil {
		return fmt.Errorf("atomicfile: edit %s: %w", path, err)
	}
	return nil
}

func replace(path string, data []byte, perm os.FileMode, o Options) error {
	t, unlock, err := resolveLocked(path, o)
	if err != nil {
		return err
	}
	defer unlock()
	var old []byte
	if t.exists && o.Encrypt != nil {
		if old, t.id, err = readCurrent(t, -1); err != nil {
			return err
		}
	}
	return commit(t, data, perm, old, o, nil)
}

func edit(path string, fn func(old []byte) ([]byte, error), o Options) error {
	t, unlock, err := resolveLocked(path, o)
	if err != nil {
		return err
	}
	defer unlock()
	var old []byte
	if t.exists {
		if old, t.id, err = readCurrent(t, MaxEditSize); err != nil {
			return err
		}
	}
	data, err := fn(old)
	if err != nil {
		return err
	}
	if t.exists && bytes.Equal(data, old) {
		return nil
	}
	unchanged := func() error {
		now, err := resolve(path, o.FollowSymlink)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrChanged, err)
		}
		if now.path != t.path || now.exists != t.exists || (t.exists && now.id != t.id) {
			return ErrChanged
		}
		return nil
	}
	return commit(t, data, CreatePerm, old, o, unchanged)
}

// target is the file a call will replace.
type target struct {
	path   string // path as given, or the final target of the symlink at path
	dir    string
	exists bool
	id     fileID // when exists
}

// fileID is what Edit compares to notice a concurrent change.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64 // nanoseconds
	mode     os.FileMode
	uid, gid uint32
	nlink    uint64
}

func idOf(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano(), mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
		id.uid, id.gid = st.Uid, st.Gid
		id.nlink = uint64(st.Nlink)
	}
	return id
}

func resolve(path string, follow bool) (target, error) {
	t := target{path: path, dir: filepath.Dir(path)}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return t, plain(err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if !follow {
			return t, ErrSymlink
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return t, fmt.Errorf("resolve symbolic link: %w", plain(err))
		}
		if fi, err = os.Lstat(real); err != nil {
			return t, plain(err)
		}
		t.path, t.dir = real, filepath.Dir(real)
	}
	if !fi.Mode().IsRegular() {
		return t, ErrNotRegular
	}
	t.exists, t.id = true, idOf(fi)
	return t, nil
}

// resolveLocked resolves path, takes the lock of its directory and resolves
// it again under the lock (so that what it then reads is not already stale),
// and applies the refusals.
func resolveLocked(path string, o Options) (target, func(), error) {
	t, err := resolve(path, o.FollowSymlink)
	if err != nil {
		return t, nil, err
	}
	unlock, err := lockDir(t.dir)
	if err != nil {
		return t, nil, err
	}
	locked := t.dir
	t, err = resolve(path, o.FollowSymlink)
	if err == nil && t.dir != locked {
		err = ErrChanged // the symlink was retargeted to another directory
	}
	if err == nil {
		err = t.check(o)
	}
	if err != nil {
		unlock()
		return t, nil, err
	}
	return t, unlock, nil
}

// check applies the refusals that do not depend on the content.
func (t target) check(o Options) error {
	fi, err := os.Stat(t.dir)
	if err != nil {
		return plain(err)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return ErrUnsafeDir
	}
	if !t.exists {
		return nil
	}
	if t.id.nlink > 1 {
		return ErrHardLinked
	}
	if euid := o.euid(); euid != 0 && t.id.uid != uint32(euid) {
		return ErrOwner
	}
	return nil
}

// readCurrent reads t, refusing a file over limit bytes (limit < 0: no limit)
// and one that is no longer the file resolve saw. It returns the identity the
// open file had before the read.
func readCurrent(t target, limit int64) ([]byte, fileID, error) {
	f, err := os.OpenFile(t.path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fileID{}, ErrChanged
	}
	if err != nil {
		return nil, fileID{}, plain(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fileID{}, plain(err)
	}
	id := idOf(fi)
	if !fi.Mode().IsRegular() || id.dev != t.id.dev || id.ino != t.id.ino {
		return nil, fileID{}, ErrChanged
	}
	if limit >= 0 && fi.Size() > limit {
		return nil, fileID{}, ErrTooLarge
	}
	r := io.Reader(f)
	if limit >= 0 {
		r = io.LimitReader(f, limit+1)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fileID{}, plain(err)
	}
	if limit >= 0 && int64(len(b)) > limit {
		return nil, fileID{}, ErrTooLarge
	}
	return b, id, nil
}

// commit writes data to a temporary file and renames it over t. old, when
// Encrypt is set and t exists, is backed up first; unchanged, when set, is
// called just before the rename and aborts it with its error.
func commit(t target, data []byte, perm os.FileMode, old []byte, o Options, unchanged func() error) (err error) {
	mode := perm
	if t.exists {
		mode = t.id.mode
	}
	mode &= fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

	tmp, err := writeTemp(t, data, mode, o)
	if err != nil {
		return err
	}
	defer func() {
		if tmp != "" {
			_ = os.Remove(tmp)
		}
	}()

	if t.exists && o.Encrypt != nil {
		backup, err := writeBackup(t, old, o)
		if err != nil {
			return err
		}
		defer func() {
			if tmp != "" { // the rename did not happen: the backup is not needed
				_ = os.Remove(backup)
			}
		}()
	}

	if unchanged != nil {
		if err := o.step("precheck"); err != nil {
			return err
		}
		if err := unchanged(); err != nil {
			return err
		}
	}
	if err := o.step("rename"); err != nil {
		return err
	}
	if t.exists {
		if err := os.Rename(tmp, t.path); err != nil {
			return plain(err)
		}
	} else {
		switch err := linkNew(tmp, t.path); {
		case errors.Is(err, fs.ErrExist):
			return ErrChanged
		case err != nil:
			return plain(err)
		}
	}
	tmp = ""

	err = o.step("syncdir")
	if err == nil {
		err = syncDir(t.dir)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDirSync, plain(err))
	}
	return nil
}

// writeTemp creates a temporary file next to t holding data, fsynced, with
// t's owner (when t exists) and the given mode.
func writeTemp(t target, data []byte, mode os.FileMode, o Options) (name string, err error) {
	name, f, err := createTemp(t.dir, filepath.Base(t.path), o)
	if err != nil {
		return "", err
	}
	defer func() {
		if f != nil {
			_ = f.Close()
		}
		if err != nil {
			_ = os.Remove(name)
			name = ""
		}
	}()
	if err := o.step("write"); err != nil {
		return name, err
	}
	if _, err := f.Write(data); err != nil {
		return name, plain(err)
	}
	if err := o.step("sync"); err != nil {
		return name, err
	}
	if err := f.Sync(); err != nil {
		return name, plain(err)
	}
	if t.exists {
		if err := o.step("chown"); err != nil {
			return name, err
		}
		if err := keepOwner(f, t.id, o); err != nil {
			return name, err
		}
	}
	if err := o.step("chmod"); err != nil {
		return name, err
	}
	if err := f.Chmod(mode); err != nil { // after chown, which may clear setuid bits
		return name, plain(err)
	}
	if err := o.step("close"); err != nil {
		return name, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return name, plain(err)
	}
	return name, nil
}

// createTemp creates a new file in dir named after base, mode 0600, O_EXCL.
func createTemp(dir, base string, o Options) (string, *os.File, error) {
	if len(base) > 64 {
		base = base[:64]
	}
	for range 10 {
		if err := o.step("create"); err != nil {
			return "", nil, err
		}
		var r [8]byte
		_, _ = rand.Read(r[:]) // never fails (crypto/rand)
		name := filepath.Join(dir, "."+base+".tourniquet-tmp-"+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", nil, plain(err)
		}
		return name, f, nil
	}
	return "", nil, errors.New("could not create a temporary file: names kept colliding")
}

// keepOwner gives f the owner and group of want.
func keepOwner(f *os.File, want fileID, o Options) error {
	fi, err := f.Stat()
	if err != nil {
		return plain(err)
	}
	have := idOf(fi)
	if have.uid == want.uid && have.gid == want.gid {
		return nil
	}
	if o.euid() == 0 {
		return plain(f.Chown(int(want.uid), int(want.gid)))
	}
	if have.uid != want.uid {
		return ErrOwner
	}
	if err := f.Chown(-1, int(want.gid)); err != nil {
		return fmt.Errorf("keep group %d: %w", want.gid, plain(err))
	}
	return nil
}

// writeBackup keeps Encrypt(old) next to t and returns its name.
func writeBackup(t target, old []byte, o Options) (string, error) {
	if err := o.step("backup"); err != nil {
		return "", err
	}
	if old == nil {
		old = []byte{}
	}
	ct, err := o.Encrypt(old)
	if err != nil {
		return "", fmt.Errorf("encrypt backup: %w", err)
	}
	if len(old) > 0 && bytes.Equal(ct, old) {
		return "", errors.New("encrypt backup: Encrypt returned the plaintext unchanged")
	}
	bt := target{path: t.path, dir: t.dir, exists: true, id: t.id}
	tmp, err := writeTemp(bt, ct, 0o600, o)
	if err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	defer func() { _ = os.Remove(tmp) }() // after a link, the backup keeps the data
	base := t.path + ".tourniquet-bak-" + strconv.FormatInt(time.Now().Unix(), 10)
	for i := range 100 {
		name := base
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		err := linkNew(tmp, name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backup: %w", plain(err))
		}
		if err := syncDir(t.dir); err != nil {
			_ = os.Remove(name)
			return "", fmt.Errorf("backup: %w", plain(err))
		}
		return name, nil
	}
	return "", errors.New("backup: too many backups in the same second")
}

// linkNew gives the file tmp the name dst, failing with fs.ErrExist if dst
// exists (a rename would clobber it), and removes the name tmp.
func linkNew(tmp, dst string) error {
	err := os.Link(tmp, dst)
	if err == nil {
		return os.Remove(tmp)
	}
	if errors.Is(err, fs.ErrExist) {
		return fs.ErrExist
	}
	// A file system without hard links: check, then rename.
	if _, lerr := os.Lstat(dst); lerr == nil {
		return fs.ErrExist
	} else if !errors.Is(lerr, fs.ErrNotExist) {
		return lerr
	}
	return os.Rename(tmp, dst)
}

// lockDir takes an exclusive flock on dir, held until unlock: Replace and
// Edit calls, in this process or another, take turns on a directory, so that
// two of them cannot both pass Edit's change check before either renames.
// Other programs do not take the lock; Edit's check covers them. A file
// system without flock is used unlocked.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, plain(err)
	}
	for {
		err = syscall.Flock(int(d.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	switch {
	case err == nil:
		return func() { _ = d.Close() }, nil // closing releases the lock
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.ENOLCK):
		_ = d.Close()
		return func() {}, nil
	default:
		_ = d.Close()
		return nil, fmt.Errorf("lock directory: %w", err)
	}
}

// syncDir fsyncs a directory so that renames in it are durable. File systems
// that cannot fsync a directory (EINVAL, ENOTSUP) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}

// plain drops the path from an *fs.PathError or *os.LinkError: the caller
// wraps the error with the path once.
func plain(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
}
