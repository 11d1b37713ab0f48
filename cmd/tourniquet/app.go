package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/tourniquet-ir/tourniquet/store"
)

// IOStreams are the command's standard streams; tests replace them.
type IOStreams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// app holds the global options and the dependencies commands share.
type app struct {
	io       IOStreams
	getenv   func(string) string
	dbPath   string
	incident string
	json     bool
	started  bool // a command's RunE began: errors after this are not usage errors
}

// resolveDB applies --db, then TOURNIQUET_DB, then the XDG default.
func (a *app) resolveDB() (string, error) {
	if a.dbPath != "" {
		return a.dbPath, nil
	}
	if v := a.getenv("TOURNIQUET_DB"); v != "" {
		return v, nil
	}
	return store.DefaultPath()
}

// openStore opens the database. With mustExist, a missing file is an error
// rather than a new empty database (for commands that only read).
func (a *app) openStore(ctx context.Context, mustExist bool) (*store.Store, error) {
	path, err := a.resolveDB()
	if err != nil {
		return nil, err
	}
	if mustExist {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, withCode(exitUsage, fmt.Errorf("no database at %s (run `tourniquet scan` first, or pass --db)", path))
		}
	}
	return store.Open(ctx, path)
}

// printJSON writes v as one indented JSON document.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.io.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (a *app) outf(format string, args ...any) { fmt.Fprintf(a.io.Out, format, args...) }
func (a *app) errf(format string, args ...any) { fmt.Fprintf(a.io.Err, format, args...) }
