package postmortem

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/tourniquet-ir/tourniquet/internal/atomicfile"
	"github.com/tourniquet-ir/tourniquet/store"
)

// Format is an export format.
type Format string

// The formats, as --format names them.
const (
	Markdown   Format = "md"
	JSON       Format = "json"
	HTML       Format = "html"
	Timesketch Format = "timesketch"
)

// Formats lists every format.
var Formats = []Format{Markdown, JSON, HTML, Timesketch}

// ParseFormat accepts a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	switch s {
	case "markdown":
		return Markdown, nil
	case "jsonl":
		return Timesketch, nil
	}
	return "", fmt.Errorf("unknown export format %q: use md, json, html or timesketch", s)
}

// Ext is the file name extension of the format.
func (f Format) Ext() string {
	switch f {
	case JSON:
		return ".json"
	case HTML:
		return ".html"
	case Timesketch:
		return ".jsonl"
	}
	return ".md"
}

// Render writes rep in format f.
func Render(w io.Writer, rep *Report, f Format) error {
	switch f {
	case Markdown:
		return WriteMarkdown(w, rep)
	case JSON:
		return WriteJSON(w, rep)
	case HTML:
		return WriteHTML(w, rep)
	case Timesketch:
		return WriteTimesketch(w, rep)
	}
	return fmt.Errorf("unknown export format %q", f)
}

// Store is what an export reads and where it records itself.
type Store interface {
	Source
	Update(ctx context.Context, fn func(*store.Tx) error) error
}

var _ Store = (*store.Store)(nil)

// Export builds the report, renders it to w in format f and records an
// export.created audit event naming dest (where the output went) and the
// report's digests. Nothing is written to w unless the whole rendering
// succeeded; the event is recorded only after the write.
func Export(ctx context.Context, st Store, o Options, f Format, w io.Writer, dest string) (*Report, error) {
	rep, err := Build(ctx, st, o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := Render(&buf, rep, f); err != nil {
		return nil, err
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("write export: %w", err)
	}
	return rep, Record(ctx, st, rep, f, dest)
}

// ExportFile is Export to a file, replaced atomically: a new file is
// created with mode 0600 (an existing one keeps its mode), a reader never
// sees half an export, and a symbolic link is refused.
func ExportFile(ctx context.Context, st Store, o Options, f Format, path string) (*Report, error) {
	rep, err := Build(ctx, st, o)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := Render(&buf, rep, f); err != nil {
		return nil, err
	}
	if err := atomicfile.Replace(path, buf.Bytes(), 0o600, atomicfile.Options{}); err != nil {
		return nil, fmt.Errorf("write export: %w", err)
	}
	return rep, Record(ctx, st, rep, f, path)
}

// Record appends the export.created event: the format, where it went, the
// chain head it was built at and the content and section digests, which
// VerifyExport looks for.
func Record(ctx context.Context, st Store, rep *Report, f Format, dest string) error {
	return st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.Audit(ctx, rep.Incident, ExportEventKind, dest, exportEvent{
			Format: string(f), ContentSHA256: rep.Integrity.ContentSHA256, Sections: rep.Integrity.Sections,
			HeadSeq: rep.Integrity.Chain.HeadSeq, HeadHash: rep.Integrity.Chain.HeadHash,
		})
		if err != nil {
			return fmt.Errorf("record export: %w", err)
		}
		return nil
	})
}
