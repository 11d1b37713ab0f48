// Package atomicfile replaces small files (credentials files, mostly) so that a
// reader, or a crash, only ever sees the whole old content or the whole new
// content. The file keeps its name, mode and owner, and no copy of the old
// content is left anywhere unless the caller asks for an encrypted backup.
//
// The new content goes to a temporary file in the same directory, created with
// O_EXCL and mode 0600, which is written, fsynced, given the original's owner
// and mode, and renamed over the original; the directory is then fsynced so
// that the rename itself survives a power loss.
//
// Calls in this or other processes take turns on a directory (an flock of
// it), and Edit refuses to write over a change another program made after
// its read.
//
// The package is implemented for Linux, macOS and the BSDs; elsewhere Replace
// and Edit return errors.ErrUnsupported.
package atomicfile

import (
	"errors"
	"os"
)

// MaxEditSize is the largest file Edit reads.
const MaxEditSize = 4 << 20

// CreatePerm is the mode Edit gives a file it creates.
const CreatePerm os.FileMode = 0o600

// Errors for the refusals. They are wrapped with the path.
var (
	// ErrSymlink: the path is a symbolic link and Options.FollowSymlink is off.
	ErrSymlink = errors.New("is a symbolic link (refusing to replace it; set FollowSymlink to replace its target)")
	// ErrNotRegular: the path is a directory, device, FIFO or socket.
	ErrNotRegular = errors.New("is not a regular file")
	// ErrUnsafeDir: others may write the directory and it has no sticky bit,
	// so anyone could swap the file or the temporary file under us.
	ErrUnsafeDir = errors.New("directory is writable by others and has no sticky bit")
	// ErrHardLinked: the file has other names; replacing it would leave the
	// old content under them.
	ErrHardLinked = errors.New("has more than one hard link (its other names would keep the old content)")
	// ErrOwner: the file belongs to another user and we are not root, so the
	// replacement could not keep its owner.
	ErrOwner = errors.New("is owned by another user and we are not root (the replacement could not keep its owner)")
	// ErrTooLarge: Edit refuses files over MaxEditSize.
	ErrTooLarge = errors.New("is larger than 4 MiB")
	// ErrChanged: the file changed (or appeared, or was replaced) between
	// Edit's read and its rename, so writing would lose that change.
	ErrChanged = errors.New("changed while it was being edited; nothing written")
	// ErrDirSync: the new content was renamed into place but the directory
	// could not be fsynced. Unlike every other error, the file HAS been
	// replaced; only its durability across a power loss is in doubt.
	ErrDirSync = errors.New("replaced, but the directory could not be fsynced")
)

// Options tune Replace and Edit. The zero value is the safe default.
type Options struct {
	// FollowSymlink makes a path that is a symbolic link replace the link's
	// final target (with the temporary file in the target's directory)
	// instead of being refused.
	FollowSymlink bool

	// Encrypt, when set, is given the prior content and its result is kept
	// next to the file as path + ".tourniquet-bak-<unix seconds>" (mode 0600;
	// ".1", ".2"... appended on a collision). When nil (the default) no copy
	// of the old content is kept anywhere: a plaintext backup of a
	// credentials file would be a second leak.
	Encrypt func(plaintext []byte) ([]byte, error)

	// hooks lets this package's tests fail or crash each step.
	hooks *hooks
}

// hooks are test seams. step is called before each named step and its error,
// if any, is returned as that step's failure; euid replaces os.Geteuid.
type hooks struct {
	step func(name string) error
	euid func() int
}

func (o Options) step(name string) error {
	if o.hooks == nil || o.hooks.step == nil {
		return nil
	}
	return o.hooks.step(name)
}

func (o Options) euid() int {
	if o.hooks != nil && o.hooks.euid != nil {
		return o.hooks.euid()
	}
	return os.Geteuid()
}
