// Package hostimage builds test host images (a directory tree that a scan
// treats as "/") from txtar archives, so that fixtures are readable text
// with exact modification times, modes, symlinks and FIFOs.
//
// Every archive member is a file at that path inside the image. The optional
// member ".image" holds one directive per line:
//
//	mtime PATH RFC3339     modification time of a file or directory
//	mode PATH 0700         permission bits
//	symlink PATH TARGET    a symbolic link
//	fifo PATH              a named pipe
//	dir PATH               an empty directory
//	default-mtime RFC3339  for everything not named (default 2026-01-01T00:00:00Z)
//
// "$HUGE:N" as a file's whole content writes N bytes of 'A' (for bounded-read
// tests without committing large files). "$ZIP:PREFIX name1 name2 ..." writes
// a zip archive with those (empty) members, preceded by the literal PREFIX
// (use "-" for none): a wheel, or a wheel in pip's HTTP cache, which stores a
// serialised response header before the body.
package hostimage

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

// BuildFile builds the image described by the txtar file at archive into dir.
func BuildFile(dir, archive string) error {
	a, err := txtar.ParseFile(archive)
	if err != nil {
		return fmt.Errorf("read image %s: %w", archive, err)
	}
	return Build(dir, a)
}

// Build writes the archive's image under dir.
func Build(dir string, a *txtar.Archive) error {
	defMtime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mtimes := map[string]time.Time{}
	modes := map[string]os.FileMode{}
	var directives [][]string
	for _, f := range a.Files {
		if f.Name != ".image" {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(f.Data))
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			directives = append(directives, fields)
		}
	}
	for _, d := range directives {
		switch {
		case d[0] == "default-mtime" && len(d) == 2:
			t, err := time.Parse(time.RFC3339, d[1])
			if err != nil {
				return fmt.Errorf("default-mtime: %w", err)
			}
			defMtime = t
		case d[0] == "mtime" && len(d) == 3:
			t, err := time.Parse(time.RFC3339, d[2])
			if err != nil {
				return fmt.Errorf("mtime %s: %w", d[1], err)
			}
			mtimes[clean(d[1])] = t
		case d[0] == "mode" && len(d) == 3:
			m, err := strconv.ParseUint(d[2], 8, 32)
			if err != nil {
				return fmt.Errorf("mode %s: %w", d[1], err)
			}
			modes[clean(d[1])] = os.FileMode(m)
		}
	}
	for _, f := range a.Files {
		if f.Name == ".image" {
			continue
		}
		p := filepath.Join(dir, clean(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		data := f.Data
		if n, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "$HUGE:"); ok {
			size, err := strconv.Atoi(n)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			data = bytes.Repeat([]byte("A"), size)
		}
		if spec, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "$ZIP:"); ok {
			z, err := zipOf(strings.Fields(spec))
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			data = z
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	for _, d := range directives {
		switch d[0] {
		case "symlink":
			if len(d) != 3 {
				return fmt.Errorf("symlink needs PATH TARGET: %v", d)
			}
			p := filepath.Join(dir, clean(d[1]))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(d[2], p); err != nil {
				return err
			}
		case "fifo":
			p := filepath.Join(dir, clean(d[1]))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := syscall.Mkfifo(p, 0o644); err != nil {
				return err
			}
		case "dir":
			if err := os.MkdirAll(filepath.Join(dir, clean(d[1])), 0o755); err != nil {
				return err
			}
		}
	}
	// Times last, deepest first, so that setting a file's time is not undone
	// by writing its siblings.
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	for _, p := range paths {
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, dir))
		rel = clean(rel)
		if m, ok := modes[rel]; ok {
			if err := os.Chmod(p, m); err != nil {
				return err
			}
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			continue
		}
		t, ok := mtimes[rel]
		if !ok {
			t = defMtime
		}
		if err := os.Chtimes(p, t, t); err != nil {
			return err
		}
	}
	return nil
}

func zipOf(fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return nil, fmt.Errorf("$ZIP needs a prefix and member names")
	}
	var b bytes.Buffer
	if fields[0] != "-" {
		b.WriteString(fields[0])
	}
	zw := zip.NewWriter(&b)
	for _, name := range fields[1:] {
		w, err := zw.Create(name)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write([]byte("# " + name + "\n")); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func clean(p string) string {
	return filepath.ToSlash(filepath.Clean("/" + p))
}
