package host

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// errNotRegular is returned for FIFOs, devices, sockets and directories:
// they are never read (a FIFO would block the scan forever).
var errNotRegular = errors.New("not a regular file")

// openRegular opens a file for reading without following a final symlink and
// without blocking on a FIFO, then checks on the open descriptor (no race with
// a swap) that it is a regular file.
func openRegular(name string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	return f, st, nil
}

// readBounded reads at most max bytes of a regular file. truncated reports
// whether the file is longer.
func readBounded(name string, max int64) (data []byte, st fs.FileInfo, truncated bool, err error) {
	f, st, err := openRegular(name)
	if err != nil {
		return nil, nil, false, err
	}
	defer f.Close()
	n := st.Size()
	if n > max {
		n = max
		truncated = true
	}
	if n < 0 {
		n = 0
	}
	data = make([]byte, 0, n)
	data, err = io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return nil, st, false, err
	}
	if int64(len(data)) >= max && !truncated {
		// Grew while we read it: still bounded.
		truncated = true
	}
	return data, st, truncated, nil
}

// readTail reads the last max bytes of a regular file (history files grow at
// the end; the newest commands matter most).
func readTail(name string, max int64) ([]byte, fs.FileInfo, error) {
	f, st, err := openRegular(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	off := int64(0)
	if st.Size() > max {
		off = st.Size() - max
	}
	data, err := io.ReadAll(io.NewSectionReader(f, off, max))
	return data, st, err
}

// hashFile returns the hex SHA-256 of a regular file of at most max bytes.
func hashFile(name string, max int64) (string, fs.FileInfo, error) {
	f, st, err := openRegular(name)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	if st.Size() > max {
		return "", st, fmt.Errorf("%s: %d bytes is over the %d-byte hashing limit", name, st.Size(), max)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, max)); err != nil {
		return "", st, err
	}
	return hex.EncodeToString(h.Sum(nil)), st, nil
}
