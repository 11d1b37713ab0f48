package postmortem

import (
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the report as one indented tourniquet.postmortem/v1
// document (SCHEMA.md). HTML-significant characters are escaped (\u003c):
// the document carries hostile names and may be pasted into a page.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("post-mortem json: %w", err)
	}
	return nil
}
