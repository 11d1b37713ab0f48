package pyenv

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// RecordEntry is one row of a wheel RECORD file (CSV: path,hash,size; hash
// "sha256=<urlsafe b64 no padding>"; quoted paths with commas possible).
// Algorithm and Digest are empty when the row has no hash (RECORD itself,
// .pyc files); Size is -1 when the size field is empty or not a number.
type RecordEntry struct {
	Path, Algorithm, Digest string
	Size                    int64
}

// ParseRecord parses a RECORD file. Rows without a path are skipped. At most
// 100,000 rows are returned; past that the error is ErrTruncated. A CSV error
// stops parsing and is returned with the rows read so far. Input that yields
// no row at all is an error.
func ParseRecord(data []byte) ([]RecordEntry, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	var out []RecordEntry
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, fmt.Errorf("pyenv: RECORD: %w", err)
		}
		if len(row) == 0 || strings.TrimSpace(row[0]) == "" {
			continue
		}
		if len(out) == maxRecordEntries {
			return out, ErrTruncated
		}
		e := RecordEntry{Path: clipString(row[0]), Size: -1}
		if len(row) > 1 {
			if alg, digest, ok := strings.Cut(strings.TrimSpace(row[1]), "="); ok {
				e.Algorithm, e.Digest = clip(strings.ToLower(alg), 64), clip(digest, 256)
			}
		}
		if len(row) > 2 {
			if n, err := strconv.ParseInt(strings.TrimSpace(row[2]), 10, 64); err == nil && n >= 0 {
				e.Size = n
			}
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("pyenv: RECORD has no rows")
	}
	return out, nil
}

// DigestHex converts a RECORD urlsafe-base64 sha256 digest to lower-case hex
// ("" if invalid). Padding and the standard alphabet are tolerated; anything
// that does not decode to exactly 32 bytes is invalid.
func DigestHex(b64 string) string {
	s := strings.TrimRight(strings.TrimSpace(b64), "=")
	if len(s) != 43 {
		return ""
	}
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}
