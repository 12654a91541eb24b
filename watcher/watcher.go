package watcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// Defaults of the Watcher's exported tunables.
const (
	// DefaultRetryInterval is how long a file that could not be read (permissions,
	// a full store) waits before the next attempt.
	DefaultRetryInterval = time.Minute
	// DefaultPollInterval is the scan period of a tree that inotify cannot watch
	// (watch limit reached) and the re-check period of a folder that disappeared.
	DefaultPollInterval = 30 * time.Second
	// eventBuffer is the inotify event channel size: a burst of thousands of
	// files must not stall inotify's reader while the loop catches up.
	eventBuffer = 4096
	// stateSubdir is the directory under the caller's state directory.
	stateSubdir = "watcher"
)

// Index is the part of the journal the watcher uses; *queue.Node implements it.
type Index interface {
	CreateOwnedBucket(ctx context.Context, name, owner string, created time.Time) error
	PutObject(ctx context.Context, o queue.Object) error
	DeleteObject(ctx context.Context, bucket, key, deleteID string) error
	Object(bucket, key string) (queue.Object, error)
}

// Blobs is the part of the archive the watcher uses; *archive.Archive (and the
// *store.Store under it) implement it.
type Blobs interface {
	Put(ctx context.Context, r io.Reader) (store.Blob, error)
	Unpin(d store.Digest)
}

// Ingested describes one file archived as an object, for Watcher.OnIngest.
type Ingested struct {
	Path      string // absolute path of the file
	Bucket    string
	Key       string
	VersionID string
	Size      int64
	// NewVersion is false when the content equalled the current object (a touched
	// file, or a record lost in a crash): no version was added.
	NewVersion bool
	Committed  time.Time
}

// Stats are running totals since Open.
type Stats struct {
	Versions    int64 // objects put
	Unchanged   int64 // files re-read whose content equalled the current object
	Deleted     int64 // objects deleted by on_delete: delete
	BytesRead   int64 // bytes read from drop folders
	Skipped     int64 // files not archived: links, sockets, devices, bad names
	Errors      int64 // failed attempts (each is retried)
	Scans       int64 // reconcile scans finished, full or of one directory
	Pending     int64 // files waiting to be quiet or ingested
	WatchedDirs int64 // directories with an inotify watch
	Degraded    int64 // folders scanned periodically for lack of inotify watches
}

// Watcher archives the files of drop folders. Create it with New, adjust the
// exported tunables, then Open, Run and Close.
type Watcher struct {
	// Workers is how many files are checked and ingested at once.
	Workers int
	// RetryInterval is the wait before re-trying a file that could not be read.
	RetryInterval time.Duration
	// PollInterval is the scan period of trees without inotify watches.
	PollInterval time.Duration
	// OnIngest, if set, is called after each file is archived (from a worker
	// goroutine; it must not block).
	OnIngest func(Ingested)

	cfg      Config
	stateDir string
	index    Index
	blobs    Blobs
	log      zerolog.Logger
	folders  []*folder

	state   *state
	inotify *notifier // nil when inotify is unavailable: everything is polled
	dirs    watchedDirs

	// addWatch and openFile are replaced by tests to inject failures.
	addWatch func(dir string) error
	openFile func(path string) (*os.File, error)
	// probeWriters asks the kernel, before a file is read, whether a writer holds
	// it open; tests turn it off to see close-write events work alone.
	probeWriters bool

	stats struct {
		versions, unchanged, deleted, bytesRead, skipped, errors, scans, pending atomic.Int64
	}
	requests chan request
	runOnce  sync.Once
}

// New returns a Watcher for cfg (after Config.WithDefaults) that keeps its records
// in stateDir/watcher. Nothing is touched until Open.
func New(cfg Config, stateDir string, index Index, blobs Blobs, log zerolog.Logger) *Watcher {
	w := &Watcher{
		Workers:       cfg.Workers,
		RetryInterval: DefaultRetryInterval,
		PollInterval:  DefaultPollInterval,
		cfg:           cfg,
		stateDir:      stateDir,
		index:         index,
		blobs:         blobs,
		log:           log.With().Str("component", "watcher").Logger(),
		requests:      make(chan request),
		probeWriters:  true,
	}
	w.openFile = w.openIfClosed
	w.dirs.m = make(map[string]*folder)
	return w
}

// Open validates the configuration, checks the folders, creates fixed buckets,
// opens the state file and the inotify instance.
func (w *Watcher) Open(ctx context.Context) (err error) {
	if err := w.cfg.Validate(); err != nil {
		return err
	}
	if w.Workers < 1 || w.RetryInterval <= 0 || w.PollInterval <= 0 {
		return fmt.Errorf("watcher: open: Workers (%d), RetryInterval (%s) and PollInterval (%s) must be positive",
			w.Workers, w.RetryInterval, w.PollInterval)
	}
	for i, fc := range w.cfg.Folders {
		f, err := newFolder(fc, w.log)
		if err != nil {
			return fmt.Errorf("watcher: folder %s: %w", fc.Path, err)
		}
		if err := f.check(ctx, i, w.index); err != nil {
			return err
		}
		w.folders = append(w.folders, f)
	}
	if w.state, err = openState(w.stateDir + "/" + stateSubdir); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.state.Close()
		}
	}()
	fsw, ferr := newNotifier(eventBuffer)
	if ferr != nil {
		// Most likely fs.inotify.max_user_instances: scanning still archives everything.
		w.log.Error().Err(ferr).Dur("poll_interval", w.PollInterval).
			Msg("inotify is unavailable, so drop folders are scanned periodically instead of watched; " +
				"fix: raise fs.inotify.max_user_instances (sysctl -w fs.inotify.max_user_instances=512)")
		for _, f := range w.folders {
			f.degraded.Store(true)
		}
	} else {
		w.inotify = fsw
		if w.addWatch == nil {
			w.addWatch = fsw.add
		}
	}
	return nil
}

// check verifies a folder before the watcher starts: it exists (the default drop
// folder is created), done_dir is usable and a fixed bucket exists.
func (f *folder) check(ctx context.Context, i int, index Index) error {
	field := fmt.Sprintf("drop.folders[%d]", i)
	st, err := os.Stat(f.root)
	if errors.Is(err, os.ErrNotExist) && f.autoBuckets() {
		err = os.MkdirAll(f.root, 0o755)
		if err == nil {
			st, err = os.Stat(f.root)
		}
	}
	if err != nil {
		return fmt.Errorf("watcher: %s.path %s: %w; fix: create the directory, or correct the path", field, f.root, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("watcher: %s.path %s: not a directory; fix: point it at a directory", field, f.root)
	}
	if f.cfg.AfterIngest == AfterIngestMove {
		if err := os.MkdirAll(f.cfg.DoneDir, 0o755); err != nil {
			return fmt.Errorf("watcher: %s.done_dir %s: %w; fix: make it creatable and writable", field, f.cfg.DoneDir, err)
		}
		if !sameDevice(f.root, f.cfg.DoneDir) {
			return fmt.Errorf("watcher: %s.done_dir %s: on another filesystem than %s; fix: choose a done_dir on the same filesystem, so that moving a file is a rename", field, f.cfg.DoneDir, f.root)
		}
	}
	if !f.autoBuckets() {
		if err := f.createBucket(ctx, index, f.cfg.Bucket); err != nil {
			return fmt.Errorf("watcher: %s.bucket %s: %w", field, f.cfg.Bucket, err)
		}
		f.buckets.Store(f.cfg.Bucket, struct{}{})
	}
	return nil
}

// Stats returns the running totals.
func (w *Watcher) Stats() Stats {
	s := Stats{
		Versions:    w.stats.versions.Load(),
		Unchanged:   w.stats.unchanged.Load(),
		Deleted:     w.stats.deleted.Load(),
		BytesRead:   w.stats.bytesRead.Load(),
		Skipped:     w.stats.skipped.Load(),
		Errors:      w.stats.errors.Load(),
		Scans:       w.stats.scans.Load(),
		Pending:     w.stats.pending.Load(),
		WatchedDirs: int64(w.dirs.len()),
	}
	for _, f := range w.folders {
		if f.degraded.Load() {
			s.Degraded++
		}
	}
	return s
}

// Close releases the inotify instance and writes the last records. Call it after
// Run has returned.
func (w *Watcher) Close(ctx context.Context) error {
	var errs []error
	if w.inotify != nil {
		errs = append(errs, w.inotify.close())
	}
	if w.state != nil {
		errs = append(errs, w.state.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("watcher: close: %w", err)
	}
	return nil
}

// request asks the running loop for something: a full reconcile, or to be told
// when it is idle.
type request struct {
	reconcile bool
	done      chan struct{}
}

// Reconcile scans every folder now and returns once the scans are finished (the
// changed files they found may still be waiting to be quiet).
func (w *Watcher) Reconcile(ctx context.Context) error {
	return w.ask(ctx, request{reconcile: true, done: make(chan struct{})})
}

// WaitIdle returns once no scan is queued or running and no file is waiting to be
// ingested: everything in the folders that was quiet is archived.
func (w *Watcher) WaitIdle(ctx context.Context) error {
	return w.ask(ctx, request{done: make(chan struct{})})
}

func (w *Watcher) ask(ctx context.Context, r request) error {
	select {
	case w.requests <- r:
	case <-ctx.Done():
		return fmt.Errorf("watcher: %w", ctx.Err())
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("watcher: %w", ctx.Err())
	}
}

// watchedDirs is the set of directories with an inotify watch, shared by the loop
// (which removes them) and the scanner (which adds them).
type watchedDirs struct {
	mu sync.Mutex
	m  map[string]*folder
}

func (d *watchedDirs) add(p string, f *folder) {
	d.mu.Lock()
	d.m[p] = f
	d.mu.Unlock()
}

func (d *watchedDirs) has(p string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[p] != nil
}

func (d *watchedDirs) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m)
}

// removeTree forgets p and every directory below it, returning them.
func (d *watchedDirs) removeTree(p string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for q := range d.m {
		if within(q, p) {
			out = append(out, q)
			delete(d.m, q)
		}
	}
	return out
}
