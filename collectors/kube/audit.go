package kube

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Bounds of an API server audit log: the file is hostile input (anyone who
// could write it could also shape it to hurt the reader).
const (
	// MaxAuditLogSize is how much of one file is read; the rest is reported
	// as not read.
	MaxAuditLogSize = 4 << 30
	// MaxAuditLine is the longest line parsed; longer lines (requests with
	// huge bodies logged at RequestResponse level) are skipped and counted.
	MaxAuditLine = 1 << 20
)

// AuditEvent is the part of an audit.k8s.io/v1 Event the rules read.
type AuditEvent struct {
	AuditID   string    `json:"auditID"`
	Stage     string    `json:"stage"`
	Verb      string    `json:"verb"`
	User      AuditUser `json:"user"`
	UserAgent string    `json:"userAgent"`
	SourceIPs []string  `json:"sourceIPs"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time `json:"stageTimestamp"`
}

// AuditUser is the authenticated client of an audit event.
type AuditUser struct {
	Username string `json:"username"`
}

// errNotAudit marks a JSON line that is not an audit event.
var errNotAudit = errors.New("not an audit event")

// ParseAuditLine decodes one line of a JSON-lines audit log. It never
// panics; a line that is not an audit.k8s.io Event is an error.
func ParseAuditLine(line []byte) (AuditEvent, error) {
	var ev AuditEvent
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return ev, errNotAudit
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		return AuditEvent{}, fmt.Errorf("audit line: %w", err)
	}
	if ev.Verb == "" || ev.RequestReceivedTimestamp.IsZero() && ev.StageTimestamp.IsZero() {
		return AuditEvent{}, errNotAudit
	}
	return ev, nil
}

// At is when the request was received (or, lacking that, its stage time).
func (e AuditEvent) At() time.Time {
	if !e.RequestReceivedTimestamp.IsZero() {
		return e.RequestReceivedTimestamp.UTC()
	}
	return e.StageTimestamp.UTC()
}

// AuditStats says how much of a log was read.
type AuditStats struct {
	Lines, Events, Skipped, TooLong int
	Bytes                           int64
	Truncated                       bool // the file was larger than MaxAuditLogSize
}

// ReadAuditLog calls fn for every audit event in r (one JSON object a
// line), reading at most MaxAuditLogSize bytes and skipping lines longer
// than MaxAuditLine. Lines that are not events are counted, never fatal.
func ReadAuditLog(ctx context.Context, r io.Reader, fn func(line int, ev AuditEvent)) (AuditStats, error) {
	var st AuditStats
	lr := &io.LimitedReader{R: r, N: MaxAuditLogSize}
	br := bufio.NewReaderSize(lr, 64<<10)
	var buf []byte
	tooLong := false
	for {
		if st.Lines%4096 == 0 {
			if err := ctx.Err(); err != nil {
				st.Bytes = MaxAuditLogSize - lr.N
				return st, err
			}
		}
		frag, isPrefix, err := br.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			st.Bytes = MaxAuditLogSize - lr.N
			return st, fmt.Errorf("read audit log: %w", err)
		}
		if !tooLong {
			if len(buf)+len(frag) > MaxAuditLine {
				tooLong, buf = true, buf[:0]
			} else {
				buf = append(buf, frag...)
			}
		}
		if isPrefix {
			continue
		}
		st.Lines++
		if tooLong {
			st.TooLong++
			tooLong = false
			continue
		}
		if len(bytes.TrimSpace(buf)) == 0 {
			buf = buf[:0]
			continue
		}
		ev, perr := ParseAuditLine(buf)
		buf = buf[:0]
		if perr != nil {
			st.Skipped++
			continue
		}
		st.Events++
		fn(st.Lines, ev)
	}
	st.Truncated = lr.N == 0
	st.Bytes = MaxAuditLogSize - lr.N
	return st, nil
}

// openAuditLog opens a regular file for reading, refusing devices and FIFOs
// (a FIFO would block the scan forever).
func openAuditLog(name string) (*os.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audit log %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("audit log %s: not a regular file", name)
	}
	return f, nil
}

func hasPrefixFold(s string, prefixes []string) bool {
	if len(prefixes) == 0 {
		return true
	}
	for _, p := range prefixes {
		if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}
