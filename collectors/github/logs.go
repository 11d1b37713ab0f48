package github

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// LogLimits bound what is read from run logs, which are untrusted input
// (anything a workflow prints).
type LogLimits struct {
	ZipBytes  int64 // the downloaded archive
	Files     int   // entries read from one archive
	FileBytes int64 // uncompressed bytes read from one entry
	Total     int64 // uncompressed bytes read from one archive
	LineBytes int   // longer lines are skipped
	Actions   int   // resolved actions kept per log
}

// DefaultLogLimits are generous for real runs and small enough for a laptop.
var DefaultLogLimits = LogLimits{
	ZipBytes: 64 << 20, Files: 2000, FileBytes: 32 << 20, Total: 256 << 20, LineBytes: 64 << 10, Actions: 10000,
}

// ResolvedAction is one "Download action repository 'OWNER/REPO@REF'
// (SHA:...)" line of a job log: the runner's record of exactly which commit
// a `uses:` ref resolved to.
type ResolvedAction struct {
	Action string // owner/repo, lower-cased
	Ref    string // as written in the workflow
	SHA    string // 40 hex, lower-cased
	// At is the line's timestamp when it has one.
	At *time.Time
	// Job names the log file it came from (the job, in a run archive).
	Job string
}

// e.g. 2026-03-19T18:01:02.1234567Z Download action repository 'aquasecurity/trivy-action@0.28.0' (SHA:c5967f85626795f647d4bf6eb67227f9b79e02f5)
var resolvedRE = regexp.MustCompile(`Download action repository '([A-Za-z0-9_.-]{1,100})/([A-Za-z0-9_.-]{1,100})(/[^'@]{0,1000})?@([^'\s]{0,255})' \(SHA:([0-9a-fA-F]{40})\)`)

// ResolvedActions extracts the resolved actions of one log text, in order,
// deduplicated, at most max. Lines longer than maxLine are skipped.
func ResolvedActions(r io.Reader, job string, maxLine, max int) ([]ResolvedAction, error) {
	var out []ResolvedAction
	seen := map[string]bool{}
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := readBoundedLine(br, maxLine)
		if len(line) > 0 {
			if m := resolvedRE.FindSubmatch(line); m != nil {
				ra := ResolvedAction{
					Action: strings.ToLower(string(m[1]) + "/" + string(m[2])),
					Ref:    string(m[4]),
					SHA:    strings.ToLower(string(m[5])),
					Job:    job,
				}
				if ts, ok := lineTime(line); ok {
					ra.At = &ts
				}
				key := ra.Action + "@" + ra.Ref + "@" + ra.SHA
				if !seen[key] && len(out) < max {
					seen[key] = true
					out = append(out, ra)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// readBoundedLine returns the next line without its newline; a line longer
// than max is consumed and returned empty.
func readBoundedLine(br *bufio.Reader, max int) ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, err
		}
		return bytes.TrimRight(buf, "\r\n"), err
	}
}

// lineTime reads the runner's timestamp prefix ("2026-03-19T18:01:02.1234567Z ").
func lineTime(line []byte) (time.Time, bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 20 || sp > 40 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(bytes.TrimPrefix(line[:sp], []byte("\ufeff"))))
	return t, err == nil
}

// RunLogActions reads a run's log archive (a zip of one text file per job
// and per step) within the limits and returns every resolved action.
// Truncation (too many entries, too many bytes) is reported in note.
func RunLogActions(archive []byte, lim LogLimits) (acts []ResolvedAction, note string, err error) {
	if int64(len(archive)) > lim.ZipBytes {
		return nil, "", fmt.Errorf("log archive of %d bytes is over the %d-byte bound", len(archive), lim.ZipBytes)
	}
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		return nil, "", fmt.Errorf("log archive: %w", err)
	}
	var notes []string
	var total int64
	seen := map[string]bool{}
	files := 0
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".txt") {
			continue
		}
		if files == lim.Files {
			notes = append(notes, fmt.Sprintf("only the first %d log files were read", lim.Files))
			break
		}
		files++
		remaining := lim.Total - total
		if remaining <= 0 {
			notes = append(notes, fmt.Sprintf("stopped after %d uncompressed bytes", lim.Total))
			break
		}
		per := min(lim.FileBytes, remaining)
		rc, err := f.Open()
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", f.Name, err))
			continue
		}
		cr := &countingReader{r: io.LimitReader(rc, per)}
		job := strings.SplitN(f.Name, "/", 2)[0]
		job = strings.TrimSuffix(job, ".txt")
		got, err := ResolvedActions(cr, job, lim.LineBytes, lim.Actions)
		rc.Close()
		total += cr.n
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", f.Name, err))
		}
		if cr.n == per && f.UncompressedSize64 > uint64(per) {
			notes = append(notes, fmt.Sprintf("%s: read the first %d bytes only", f.Name, per))
		}
		for _, a := range got {
			key := a.Action + "@" + a.Ref + "@" + a.SHA
			if !seen[key] && len(acts) < lim.Actions {
				seen[key] = true
				acts = append(acts, a)
			}
		}
	}
	return acts, strings.Join(notes, "; "), nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
