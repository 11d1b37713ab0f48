package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tourniquet-ir/tourniquet/internal/redact"
)

func fixedClock() func() time.Time {
	t := time.Date(2026, 3, 24, 12, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "t.db")
	s, err := Open(context.Background(), path, WithClock(fixedClock()), WithActor("tester"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	t.Parallel()
	_, path := openTest(t)
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s mode = %04o, want %04o", p, got, want)
		}
	}
}

func TestOpenRefusesUnsafeFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	readable := filepath.Join(dir, "readable.db")
	if err := os.WriteFile(readable, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(readable, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, readable)
	var pe *PermissionError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open(0644 file) error = %v, want PermissionError naming chmod 600", err)
	}

	good := filepath.Join(dir, "good.db")
	s, err := Open(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, link); !errors.As(err, &pe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Open(symlink) error = %v, want PermissionError about a symbolic link", err)
	}

	if _, err := Open(ctx, dir); err == nil {
		t.Error("Open(directory) succeeded")
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTest(t)
	if err := s.Update(ctx, func(tx *Tx) error { _, err := tx.EnsureIncident(ctx, "default"); return err }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	res, err := s2.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Events != 1 {
		t.Errorf("after reopen: %+v, want one intact event", res)
	}
	var mode string
	if err := s2.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	var fk int
	if err := s2.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d (%v), want 1", fk, err)
	}
}

func TestCheckConstraints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	err := s.Update(ctx, func(tx *Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		h, err := tx.UpsertHost(ctx, inc, Host{Name: "h", Root: "/"})
		if err != nil {
			return err
		}
		_, err = tx.UpsertCredential(ctx, h, Credential{ID: "c1", Kind: "aws-access-key", Path: "/x", Fingerprint: "not-a-fingerprint", Hint: "…"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Errorf("storing a non-fingerprint: err = %v, want a CHECK constraint failure", err)
	}
}

func appendEvents(t testing.TB, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	const batch = 5000
	for done := 0; done < n; {
		err := s.Update(ctx, func(tx *Tx) error {
			for i := 0; i < batch && done < n; i++ {
				if _, err := tx.Audit(ctx, "default", "finding.recorded", "host-a:/opt/venv", map[string]any{"i": done, "rule": "litellm-pth"}); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// rawDB opens the file behind the store's back, as an attacker with file
// access would, and drops the append-only triggers.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestAuditIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTest(t)
	appendEvents(t, s, 3)
	for _, q := range []string{"UPDATE audit_log SET data = '{}' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 3"} {
		if _, err := s.w.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		tamper  []string
		wantSeq int64
		reason  string
	}{
		{"payload", []string{`UPDATE audit_log SET data = '{"i":4,"rule":"benign"}' WHERE seq = 5`}, 5, "hash does not match"},
		{"subject", []string{`UPDATE audit_log SET subject = 'elsewhere' WHERE seq = 7`}, 7, "hash does not match"},
		{"time", []string{`UPDATE audit_log SET at = '2020-01-01T00:00:00Z' WHERE seq = 3`}, 3, "hash does not match"},
		{"deletion", []string{`DELETE FROM audit_log WHERE seq = 5`}, 6, "sequence gap"},
		{"order", []string{
			`UPDATE audit_log SET seq = -4 WHERE seq = 4`,
			`UPDATE audit_log SET seq = 4 WHERE seq = 5`,
			`UPDATE audit_log SET seq = 5 WHERE seq = -4`,
		}, 4, "prev_hash"},
		{"forged-append", []string{
			`INSERT INTO audit_log (seq, at, incident, actor, kind, subject, data, prev_hash, hash)
			 SELECT 11, at, incident, actor, 'credential.rotated', subject, data, hash, 'ffff' FROM audit_log WHERE seq = 10`,
		}, 11, "hash does not match"},
		{"rehashed-payload", nil, 6, "prev_hash"}, // filled below: change row 5 and recompute its own hash
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, path := openTest(t)
			appendEvents(t, s, 10)
			before, err := s.VerifyAudit(ctx)
			if err != nil || !before.OK {
				t.Fatalf("untouched chain: %+v, %v", before, err)
			}
			db := rawDB(t, path)
			for _, q := range tc.tamper {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if tc.name == "rehashed-payload" {
				evs, err := s.AuditEvents(ctx, 4, 1)
				if err != nil {
					t.Fatal(err)
				}
				ev := evs[0]
				ev.Data = []byte(`{"i":4,"rule":"benign"}`)
				if _, err := db.Exec(`UPDATE audit_log SET data = ?, hash = ? WHERE seq = 5`, string(ev.Data), ev.ComputeHash()); err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK || res.FirstBad == nil {
				t.Fatalf("tampered chain verified: %+v", res)
			}
			if res.FirstBad.Seq != tc.wantSeq || !strings.Contains(res.FirstBad.Reason, tc.reason) {
				t.Errorf("first bad = %+v, want seq %d with reason containing %q", res.FirstBad, tc.wantSeq, tc.reason)
			}
		})
	}
}

func TestCanonicalJSONIsStable(t *testing.T) {
	t.Parallel()
	a, err := CanonicalJSON(map[string]any{"b": 1, "a": []any{"<x>", 2.5}, "c": map[string]int{"z": 1, "y": 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":["<x>",2.5],"b":1,"c":{"y":2,"z":1}}`
	if string(a) != want {
		t.Errorf("CanonicalJSON = %s, want %s", a, want)
	}
	type S struct {
		Z string `json:"z"`
		A int64  `json:"a"`
	}
	b, _ := CanonicalJSON(S{Z: "q", A: 9007199254740993}) // beyond float64 precision
	if string(b) != `{"a":9007199254740993,"z":"q"}` {
		t.Errorf("CanonicalJSON(struct) = %s", b)
	}
}

// TestPlantedSecretNeverReachesDisk stores everything a scan would about a
// secret (fingerprint, hint, an audit event carrying the Secret itself) and
// then searches the database, WAL and shared-memory files for the value.
func TestPlantedSecretNeverReachesDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTest(t)
	const value = "sk-proj-PLANTED7f3c9e1d2b4a6f8e0c1d3b5a7f9e2c4d"
	sec := redact.NewSecretString(value)
	err := s.Update(ctx, func(tx *Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		h, err := tx.UpsertHost(ctx, inc, Host{Name: "laptop", Root: "/"})
		if err != nil {
			return err
		}
		c := Credential{ID: "cred-1", Kind: "openai-api-key", Path: "/home/dev/.env", Fingerprint: sec.Fingerprint(), Hint: sec.Hint(), Exposure: Exposed, Reason: "in window"}
		if _, err := tx.UpsertCredential(ctx, h, c); err != nil {
			return err
		}
		_, err = tx.Audit(ctx, "default", "credential.recorded", c.ID, map[string]any{"secret": sec, "hint": sec.Hint(), "fp": sec.Fingerprint()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := s.Credentials(ctx, "default")
	if err != nil || len(creds) != 1 || creds[0].Hint != "sk-proj-…2c4d" {
		t.Fatalf("stored credential = %+v, %v", creds, err)
	}
	check := func(stage string) {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			b, err := os.ReadFile(p)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			// The whole value, and any 12-byte window of its secret part.
			needles := []string{value}
			for i := len("sk-proj-"); i+12 <= len(value); i++ {
				needles = append(needles, value[i:i+12])
			}
			for _, n := range needles {
				if bytes.Contains(b, []byte(n)) {
					t.Errorf("%s: %s contains secret fragment %q", stage, filepath.Base(p), n)
				}
			}
		}
	}
	check("open (WAL)")
	s.Close()
	check("closed")
}

func BenchmarkAuditVerify100k(b *testing.B) {
	s, _ := openTest(b)
	appendEvents(b, s, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.VerifyAudit(ctx)
		if err != nil || !res.OK || res.Events != 100_000 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}

// BenchmarkAuditAppend is the baseline for Verify: the cost of writing the
// same chain, in the same run.
func BenchmarkAuditAppend(b *testing.B) {
	s, _ := openTest(b)
	b.ResetTimer()
	appendEvents(b, s, b.N)
}

// FuzzAppendJSONString holds the fast path to encoding/json's exact bytes,
// since the canonical form (and so every stored hash) depends on them.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote`, "back\\slash", "\x1b[31m", "\u2028", "\xff", "<html>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := string(appendJSONString(nil, s)); got != want {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestMigrationKeepsData opens a database at schema 1 with rows in every
// table that references hosts, upgrades it, and checks nothing was lost: the
// hosts rebuild in migration 2 must not cascade-delete findings or
// credentials.
func TestMigrationKeepsData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := prepareFile(path); err != nil {
		t.Fatal(err)
	}
	old := &Store{path: path, now: fixedClock(), actor: "t"}
	var err error
	old.w, err = sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	old.w.SetMaxOpenConns(1)
	if err := old.migrate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	err = old.Update(ctx, func(tx *Tx) error {
		inc, err := tx.EnsureIncident(ctx, "default")
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO hosts (incident_id, name) VALUES (?, 'h1')`, inc); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO findings (id, host_id, pack, rule, severity, path, first_seen, last_seen) VALUES ('f1', 1, 'p', 'r', 'high', '/x', 'now', 'now')`); err != nil {
			return err
		}
		_, err = tx.tx.ExecContext(ctx, `INSERT INTO credentials (id, host_id, kind, path, fingerprint, hint, first_seen, last_seen) VALUES ('c1', 1, 'k', '/y', 'sha256:0123456789abcdef', 'h', 'now', 'now')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	old.w.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for table, want := range map[string]int{"hosts": 1, "findings": 1, "credentials": 1, "audit_log": 1} {
		var n int
		if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != want {
			t.Errorf("%s: %d rows after migration (%v), want %d", table, n, err, want)
		}
	}
	var v int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v < 2 {
		t.Errorf("user_version = %d (%v)", v, err)
	}
	var fk int
	if err := s.w.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d after migration, want 1", fk)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO hosts (incident_id, kind, name) VALUES (1, 'cloud', 'aws:123456789012')`); err != nil {
		t.Errorf("cloud hosts not accepted: %v", err)
	}
}
