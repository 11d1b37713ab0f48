package host

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// visitor is what the walk calls; calls come from several goroutines at once.
type visitor interface {
	// dir is called for each directory below a start point; false prunes it.
	dir(p, name string) bool
	// file is called for each regular file (by directory-entry type; the
	// reader re-checks on open).
	file(p, name string)
	// walkError reports a directory that could not be read.
	walkError(p string, err error)
}

// walker walks inside-root paths in parallel. It never follows symbolic
// links, never opens anything but directories, stays on the starting
// device unless crossDevices, and skips pseudo file systems.
type walker struct {
	root         string // host path of the scanned root ("/" or a mount)
	crossDevices bool
	workers      int
	v            visitor

	files, dirs, skipped atomic.Int64

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []dirItem
	pending int             // directories queued or being read
	starts  map[string]bool // walked on their own: skipped when met below another start
}

// dirItem is a directory to read and the device its walk started on.
type dirItem struct {
	p   string
	dev uint64
}

// alwaysSkip are kernel pseudo file systems: walking them reads nothing of
// value and can hang (a /proc/*/fd entry, a /sys file that blocks).
var alwaysSkip = map[string]bool{"/proc": true, "/sys": true, "/dev": true}

func (w *walker) hostPath(p string) string {
	if w.root == "/" {
		return p
	}
	return w.root + p
}

// walk visits every start directory (inside-root paths) and returns when all
// are done or ctx is cancelled.
func (w *walker) walk(ctx context.Context, starts []string) error {
	if w.workers <= 0 {
		w.workers = 2 * runtime.GOMAXPROCS(0)
		if w.workers < 4 {
			w.workers = 4
		}
	}
	w.cond = sync.NewCond(&w.mu)
	w.starts = map[string]bool{}
	for _, s := range starts {
		var st syscall.Stat_t
		if err := syscall.Lstat(w.hostPath(s), &st); err != nil {
			w.v.walkError(s, err)
			continue
		}
		if w.starts[s] {
			continue
		}
		w.starts[s] = true
		w.queue = append(w.queue, dirItem{s, uint64(st.Dev)})
		w.pending++
	}
	stop := context.AfterFunc(ctx, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer stop()

	var wg sync.WaitGroup
	for i := 0; i < w.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.work(ctx)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (w *walker) work(ctx context.Context) {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 && w.pending > 0 && ctx.Err() == nil {
			w.cond.Wait()
		}
		if w.pending == 0 || ctx.Err() != nil {
			w.mu.Unlock()
			w.cond.Broadcast()
			return
		}
		// LIFO keeps the queue short (depth-first) on deep trees.
		d := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		w.mu.Unlock()

		subdirs := w.readDir(ctx, d.p, d.dev)

		w.mu.Lock()
		w.queue = append(w.queue, subdirs...)
		w.pending += len(subdirs) - 1
		if len(subdirs) > 0 || w.pending == 0 {
			w.cond.Broadcast()
		}
		w.mu.Unlock()
	}
}

// readDir lists one directory in batches and returns the subdirectories to
// walk.
func (w *walker) readDir(ctx context.Context, d string, dev uint64) []dirItem {
	f, err := os.OpenFile(w.hostPath(d), os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		w.v.walkError(d, err)
		return nil
	}
	defer f.Close()
	if !w.crossDevices {
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err == nil && uint64(st.Dev) != dev {
			w.skipped.Add(1)
			return nil
		}
	}
	w.dirs.Add(1)
	var subdirs []dirItem
	for ctx.Err() == nil {
		ents, err := f.ReadDir(512)
		for _, e := range ents {
			name := e.Name()
			p := path.Join(d, name)
			switch t := e.Type(); {
			case t.IsDir():
				if alwaysSkip[p] || w.starts[p] {
					continue
				}
				if w.v.dir(p, name) {
					subdirs = append(subdirs, dirItem{p, dev})
				} else {
					w.skipped.Add(1)
				}
			case t.IsRegular():
				w.files.Add(1)
				w.v.file(p, name)
			case t&fs.ModeSymlink != 0:
				w.files.Add(1) // listed, never followed
			default:
				w.skipped.Add(1) // FIFO, socket, device: never opened
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				w.v.walkError(d, err)
			}
			break
		}
	}
	return subdirs
}
