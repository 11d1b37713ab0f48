package pyenv

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	// zipReadBudget bounds the bytes archive/zip may read to list an
	// archive: the end records plus a central directory of up to 16 MiB
	// (100,000 entries with 120-byte names). Memory follows: at most about
	// 16 MiB / 46 bytes of directory headers are ever decoded.
	zipReadBudget = 16<<20 + 256<<10
	// zipMaxDeclared rejects archives whose end record declares more
	// entries than this, before archive/zip preallocates for them.
	zipMaxDeclared = 1_000_000
)

var errZipBudget = errors.New("pyenv: zip central directory larger than 16 MiB")

// budgetReaderAt fails reads once budget bytes have been read.
type budgetReaderAt struct {
	r    io.ReaderAt
	left int64
}

func (b *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > b.left {
		return 0, errZipBudget
	}
	b.left -= int64(len(p))
	return b.r.ReadAt(p, off)
}

// ZipNames lists the member names of a zip archive that may be preceded by
// other data (pip's HTTP cache stores a serialised response header before
// the wheel body). Bounded: at most 100,000 names (ErrTruncated past that,
// with the first 100,000); archives that declare more than 1,000,000
// entries or whose central directory exceeds 16 MiB are refused. Returns
// an error for non-zip data. Names are cut to 4 KiB.
func ZipNames(r io.ReaderAt, size int64) ([]string, error) {
	if size < 22 {
		return nil, zip.ErrFormat
	}
	if n, err := zipDeclaredEntries(r, size); err != nil {
		return nil, err
	} else if n > zipMaxDeclared {
		return nil, fmt.Errorf("pyenv: zip declares %d entries", n)
	}
	zr, err := zip.NewReader(&budgetReaderAt{r: r, left: zipReadBudget}, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, fmt.Errorf("pyenv: zip: %w", err)
	}
	n := len(zr.File)
	if n > maxZipNames {
		n = maxZipNames
	}
	names := make([]string, 0, n)
	for _, f := range zr.File[:n] {
		names = append(names, clipString(f.Name))
	}
	if len(zr.File) > maxZipNames {
		return names, ErrTruncated
	}
	return names, nil
}

// zipDeclaredEntries reads the entry count of the end of central directory
// record that archive/zip will use (same search: the last 1 KiB, then the
// last 65 KiB), following the zip64 locator when the count is 0xffff.
func zipDeclaredEntries(r io.ReaderAt, size int64) (uint64, error) {
	for _, n := range []int64{1024, 65 * 1024} {
		if n > size {
			n = size
		}
		buf := make([]byte, n)
		if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
			return 0, err
		}
		p := findEndSignature(buf)
		if p < 0 {
			if n == size {
				break
			}
			continue
		}
		count := uint64(binary.LittleEndian.Uint16(buf[p+10:]))
		dirSize := binary.LittleEndian.Uint32(buf[p+12:])
		dirOff := binary.LittleEndian.Uint32(buf[p+16:])
		if count != 0xffff && dirSize != 0xffff && dirOff != 0xffffffff {
			return count, nil
		}
		// zip64: the locator sits just before the end record.
		loc := size - n + int64(p) - 20
		if loc < 0 {
			return count, nil
		}
		lb := make([]byte, 20)
		if _, err := r.ReadAt(lb, loc); err != nil || binary.LittleEndian.Uint32(lb) != 0x07064b50 {
			return count, nil // archive/zip will reject or use the 16-bit count
		}
		end64 := int64(binary.LittleEndian.Uint64(lb[8:]))
		if end64 < 0 || end64 > size-56 {
			return count, nil
		}
		rb := make([]byte, 56)
		if _, err := r.ReadAt(rb, end64); err != nil || binary.LittleEndian.Uint32(rb) != 0x06064b50 {
			return count, nil
		}
		return binary.LittleEndian.Uint64(rb[32:]), nil
	}
	return 0, zip.ErrFormat
}

// findEndSignature mirrors archive/zip: the last "PK\x05\x06" whose comment
// length fits in the block.
func findEndSignature(b []byte) int {
	for i := len(b) - 22; i >= 0; i-- {
		if b[i] == 'P' && b[i+1] == 'K' && b[i+2] == 0x05 && b[i+3] == 0x06 {
			n := int(b[i+20]) | int(b[i+21])<<8
			if n+22+i <= len(b) {
				return i
			}
		}
	}
	return -1
}
