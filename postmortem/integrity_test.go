package postmortem_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tourniquet-ir/tourniquet/postmortem"
	"github.com/tourniquet-ir/tourniquet/postmortem/postmortemtest"
	"github.com/tourniquet-ir/tourniquet/store"
)

// exportJSON exports the incident as JSON (recording the export event) and
// returns the bytes.
func exportJSON(t *testing.T, st *store.Store) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := postmortem.Export(context.Background(), st, options(t), postmortem.JSON, &b, "stdout"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func verify(t *testing.T, st *store.Store, data []byte) *postmortem.Verification {
	t.Helper()
	v, err := postmortem.VerifyExport(context.Background(), st, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyExportIntact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := generated(t, postmortemtest.Options{})
	data := exportJSON(t, st)
	// The chain grows after the export (another export, a scan): still fine.
	if _, err := postmortem.Export(ctx, st, options(t), postmortem.Markdown, &bytes.Buffer{}, "stdout"); err != nil {
		t.Fatal(err)
	}
	v := verify(t, st, data)
	if !v.OK || len(v.Differences) != 0 {
		t.Fatalf("intact export does not verify: %+v", v)
	}
	names := []string{}
	for _, c := range v.Checks {
		names = append(names, c.Name)
		if !c.OK {
			t.Errorf("check %s failed: %s", c.Name, c.Detail)
		}
	}
	if got := strings.Join(names, ","); got != "chain,head,events,timeline,content" {
		t.Errorf("checks = %s", got)
	}
	if !strings.Contains(v.Checks[1].Detail, "2 events were appended since") {
		t.Errorf("head check: %s", v.Checks[1].Detail)
	}
}

// edit changes the exported document with fn.
func edit(t *testing.T, data []byte, fn func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyExportNamesWhatDiffers edits the export, or the chain, one way
// at a time and checks the report names the difference.
func TestVerifyExportNamesWhatDiffers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// file edits the export; chain (SQL) edits the database behind the
		// store's back.
		file  func(doc map[string]any)
		chain string
		want  []string
	}{
		{
			name: "a credential marked rotated",
			file: func(doc map[string]any) {
				doc["credentials"].([]any)[5].(map[string]any)["rotation"] = "rotated"
			},
			want: []string{`section "credentials" does not match the digest the file records`, `section "credentials" differs from what export event`},
		},
		{
			name: "digests recomputed by the editor",
			file: func(doc map[string]any) {
				doc["summary"].(map[string]any)["contained"] = true
				integ := doc["integrity"].(map[string]any)
				integ["content_sha256"] = "sha256:" + strings.Repeat("0", 64)
			},
			want: []string{"no export event records content sha256:0000", `section "summary" differs from what export event`},
		},
		{
			name: "a timeline entry rewritten",
			file: func(doc map[string]any) {
				for _, e := range doc["timeline"].([]any) {
					m := e.(map[string]any)
					if m["kind"] == "run.failed" {
						m["kind"] = "run.done"
					}
				}
			},
			want: []string{`kind: export says "run.done", chain says "run.failed"`},
		},
		{
			name:  "events removed from the end of the chain",
			chain: `DELETE FROM audit_log WHERE seq >= (SELECT max(seq) - 5 FROM audit_log)`,
			want:  []string{"is not in the live chain", "events were removed from its end"},
		},
		{
			name:  "an event changed in the chain",
			chain: `UPDATE audit_log SET subject = 'someone-else' WHERE seq = 20`,
			want:  []string{"the live chain is broken at event 20", "timeline entry", `subject: export says "web-01", chain says "someone-else"`},
		},
		{
			name:  "an unrelated export event only",
			chain: `UPDATE audit_log SET data = replace(data, 'sha256:', 'sha256:ff') WHERE kind = 'export.created'`,
			want:  []string{"no export event records content"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := generated(t, postmortemtest.Options{})
			data := exportJSON(t, st)
			if tc.file != nil {
				data = edit(t, data, tc.file)
			}
			if tc.chain != "" {
				tamper(t, st, tc.chain)
			}
			v := verify(t, st, data)
			if v.OK {
				t.Fatalf("verified OK; want a difference")
			}
			all := strings.Join(v.Differences, "\n")
			for _, c := range v.Checks {
				all += "\n" + c.Detail
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("the report does not say %q:\n%s", w, all)
				}
			}
		})
	}
}

// tamper edits the database with the append-only triggers dropped.
func tamper(t *testing.T, st *store.Store, q string) {
	t.Helper()
	db, err := sql.Open("sqlite", st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range []string{"DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete", q} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyExportRefusesNonExports(t *testing.T) {
	t.Parallel()
	st := generated(t, postmortemtest.Options{})
	data := exportJSON(t, st)
	for name, in := range map[string]string{
		"empty":          "",
		"not json":       "# Post-mortem",
		"array":          "[]",
		"other schema":   `{"schema":"tourniquet.scan/v1"}`,
		"no integrity":   `{"schema":"tourniquet.postmortem/v1","incident":"default"}`,
		"duplicate keys": `{"schema":"tourniquet.postmortem/v1","incident":"default","incident":"other","integrity":{}}`,
		"trailing data":  string(data) + "{}",
		"too deep":       `{"schema":"tourniquet.postmortem/v1","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	} {
		_, err := postmortem.VerifyExport(context.Background(), st, strings.NewReader(in))
		if !errors.Is(err, postmortem.ErrNotExport) {
			t.Errorf("%s: err = %v, want ErrNotExport", name, err)
		}
	}
	big := bytes.Repeat([]byte(" "), postmortem.MaxExportBytes+1)
	if _, err := postmortem.VerifyExport(context.Background(), st, bytes.NewReader(big)); !errors.Is(err, postmortem.ErrNotExport) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized: err = %v", err)
	}
}

// FuzzVerifyExport: any input gives an answer or ErrNotExport, never a
// panic, and an input that verifies OK carries the real content digest.
func FuzzVerifyExport(f *testing.F) {
	st, _, err := postmortemtest.Open(context.Background(), f.TempDir()+"/f.db", postmortemtest.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	var b bytes.Buffer
	ps := options(f)
	if _, err := postmortem.Export(context.Background(), st, ps, postmortem.JSON, &b, "stdout"); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"schema":"tourniquet.postmortem/v1","incident":"default","integrity":{"chain":{"head_seq":3}},"timeline":[{"audit_seq":2}]}`))
	f.Add([]byte(`{"schema":"tourniquet.postmortem/v1","incident":"x","integrity":{"chain":{"head_seq":-1}}}`))
	f.Add([]byte(`{"a":[[[[{"b":1e999}]]]]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := postmortem.VerifyExport(context.Background(), st, bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, postmortem.ErrNotExport) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if v.OK && !bytes.Equal(data, b.Bytes()) {
			// Another byte string can verify only if it is the same
			// document (white space, key order): its content digest must
			// then be the recorded one.
			var doc map[string]any
			if json.Unmarshal(data, &doc) != nil {
				t.Fatalf("verified a non-JSON input")
			}
		}
	})
}
