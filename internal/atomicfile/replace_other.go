//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package atomicfile

import (
	"errors"
	"fmt"
	"os"
)

// Replace is not implemented on this platform: it returns errors.ErrUnsupported.
func Replace(path string, _ []byte, _ os.FileMode, _ Options) error {
	return fmt.Errorf("atomicfile: replace %s: %w", path, errors.ErrUnsupported)
}

// Edit is not implemented on this platform: it returns errors.ErrUnsupported.
func Edit(path string, _ func(old []byte) ([]byte, error), _ Options) error {
	return fmt.Errorf("atomicfile: edit %s: %w", path, errors.ErrUnsupported)
}
