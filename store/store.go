// Package store keeps Tourniquet's state in one local SQLite file: incidents,
// hosts, findings, credentials (fingerprints and hints only), playbook runs
// and the hash-chained audit log.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationsFS embed.FS

// Store is an open database. It is safe for concurrent use; all writes go
// through a single connection so that the audit chain stays linear.
type Store struct {
	path  string
	w     *sql.DB
	r     *sql.DB
	now   func() time.Time
	actor string
}

// Option configures Open.
type Option func(*Store)

// WithClock replaces time.Now, for tests and golden output.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithActor names who acts in audit events (default: the OS user).
func WithActor(actor string) Option { return func(s *Store) { s.actor = actor } }

// PermissionError is returned when the database file is accessible to other
// users, is not a regular file, or belongs to someone else.
type PermissionError struct {
	Path string
	Msg  string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("refusing to open database %s: %s", e.Path, e.Msg)
}

// DefaultPath is $XDG_STATE_HOME/tourniquet/tourniquet.db, falling back to
// ~/.local/state as the XDG base directory specification says.
func DefaultPath() (string, error) {
	state := os.Getenv("XDG_STATE_HOME")
	if state == "" || !filepath.IsAbs(state) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("default database path: %w", err)
		}
		state = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(state, "tourniquet", "tourniquet.db"), nil
}

// Open opens (creating if needed) the database at path, checks its
// permissions and applies pending migrations.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := prepareFile(abs); err != nil {
		return nil, err
	}
	s := &Store{path: abs, now: time.Now, actor: defaultActor()}
	for _, o := range opts {
		o(s)
	}
	uri := (&url.URL{Scheme: "file", Path: abs}).String()
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=secure_delete(1)"
	s.w, err = sql.Open("sqlite", uri+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	if err := s.w.PingContext(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	if err := s.migrate(ctx, 0); err != nil {
		s.w.Close()
		return nil, err
	}
	s.r, err = sql.Open("sqlite", uri+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(4)
	return s, nil
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// prepareFile creates the directory (0700) and file (0600) when missing and
// refuses a file that other users can reach.
func prepareFile(abs string) error {
	dir := filepath.Dir(abs)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create database: %w", err)
	}
	for _, p := range []string{abs, abs + "-wal", abs + "-shm"} {
		if err := checkPrivate(p); err != nil {
			return err
		}
	}
	return nil
}

func checkPrivate(p string) error {
	st, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) && p != "" && (strings.HasSuffix(p, "-wal") || strings.HasSuffix(p, "-shm")) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check database file: %w", err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return &PermissionError{Path: p, Msg: "it is a symbolic link; pass the real path"}
	}
	if !st.Mode().IsRegular() {
		return &PermissionError{Path: p, Msg: "not a regular file"}
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return &PermissionError{Path: p, Msg: fmt.Sprintf("mode %04o lets other users read or change it; run: chmod 600 %s", perm, p)}
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return &PermissionError{Path: p, Msg: fmt.Sprintf("owned by uid %d, not by you (uid %d)", sys.Uid, os.Geteuid())}
	}
	return nil
}

func defaultActor() string {
	for _, k := range []string{"USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "uid:" + strconv.Itoa(os.Getuid())
}

// migrate applies embedded migrations newer than PRAGMA user_version (up to
// upto, 0 for all), each in its own transaction, so that an interrupted
// upgrade leaves a usable file. Foreign keys are off while a migration runs
// (SQLite's procedure for rebuilding a table: with them on, dropping a parent
// table would cascade-delete its children) and checked before commit.
func (s *Store) migrate(ctx context.Context, upto int) error {
	entries, err := fs.ReadDir(migrationsFS, "migrations")
	if err != nil {
		return fmt.Errorf("read migrations: %w", err)
	}
	type mig struct {
		n    int
		name string
	}
	var migs []mig
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		migs = append(migs, mig{n, e.Name()})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].n < migs[j].n })

	var current int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if len(migs) > 0 && current > migs[len(migs)-1].n {
		return fmt.Errorf("database schema version %d is newer than this build knows (%d); use a newer tourniquet", current, migs[len(migs)-1].n)
	}
	for _, m := range migs {
		if m.n <= current || (upto > 0 && m.n > upto) {
			continue
		}
		body, err := migrationsFS.ReadFile("migrations/" + m.name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", m.name, err)
		}
		if _, err := s.w.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		var bad int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&bad); err != nil || bad > 0 {
			tx.Rollback()
			return fmt.Errorf("migration %s: %d foreign key violations (%v)", m.name, bad, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.n)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := s.w.ExecContext(ctx, "PRAGMA foreign_keys = ON"); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// Tx is a write transaction. Audit events appended through it commit or roll
// back together with the state change they describe.
type Tx struct {
	tx       *sql.Tx
	s        *Store
	headSeq  int64
	headHash string
	headRead bool
	// auditIns is the audit insert, prepared once per transaction: batches
	// of thousands of events (the gateway's) would otherwise parse it each
	// time.
	auditIns *sql.Stmt
}

// Update runs fn in one immediate (write-locked) transaction.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, s: s}
	if err := fn(tx); err != nil {
		sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func nullTS(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return ts(*t)
}

func parseTS(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return nil
	}
	return &t
}
