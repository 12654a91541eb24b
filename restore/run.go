package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/store"
)

// State files in Options.StateDir.
const (
	// markerFile says a restore started in this data directory, so that a
	// re-run after a kill resumes without --merge.
	markerFile = "in-progress.json"
	planName   = "plan.jsonl"
	partialDir = "partial"
)

// Restorer runs one restore.
type Restorer struct {
	opts     Options
	remote   Remote
	index    Index
	blobs    Blobs
	limit    Limiter
	progress Progress
	log      zerolog.Logger

	mu  sync.Mutex
	res Result
	// versioned are the buckets found with versions without a snapshot
	// (keptVersions): restored with versioning Enabled.
	versioned map[string]bool
	// buffered is set once the filesystem refused a direct write (write.go).
	buffered atomic.Bool
}

// New returns a Restorer; progress may be nil.
func New(opts Options, remote Remote, index Index, blobs Blobs, limit Limiter, progress Progress, log zerolog.Logger) *Restorer {
	if progress == nil {
		progress = nopProgress{}
	}
	return &Restorer{opts: opts, remote: remote, index: index, blobs: blobs, limit: limit, progress: progress,
		log: log.With().Str("component", "restore").Logger()}
}

// Run restores. It returns the result and nil, ErrFailed (some objects
// failed: see Result.Failures), or the error that stopped it; what was
// restored before stays, and running it again continues.
func (r *Restorer) Run(ctx context.Context) (Result, error) {
	if err := r.opts.Validate(); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(filepath.Join(r.opts.StateDir, partialDir), 0o750); err != nil {
		return Result{}, fmt.Errorf("restore: create %s: %w", r.opts.StateDir, noSpace(err))
	}
	if err := r.claim(); err != nil {
		return Result{}, err
	}
	snap, why, err := r.openSnapshot(ctx)
	if err != nil {
		return r.result(), r.stopped(err)
	}
	defer snap.close()
	if snap != nil {
		r.res.Source, r.res.UsedSnapshot = "remote index "+snap.name, true
		r.res.Buckets, r.res.ArchiveID = snap.buckets, snap.header.Identity.ArchiveID
	} else {
		r.res.Source = why + "; listing the remote and reading each object's metadata (HEAD) instead"
	}
	r.log.Info().Str("source", r.res.Source).Msg("restore: planning")
	r.progress.Source(r.res.Source, r.res.UsedSnapshot)

	pf, err := createPlan(filepath.Join(r.opts.StateDir, planName))
	if err != nil {
		return r.result(), err
	}
	defer pf.close()
	heads, err := r.plan(ctx, snap, pf)
	r.mu.Lock()
	r.res.Heads = heads
	r.mu.Unlock()
	if err != nil {
		return r.result(), r.stopped(err)
	}
	if err := pf.finish(); err != nil {
		return r.result(), err
	}
	if err := r.createBuckets(ctx, snap, pf); err != nil {
		return r.result(), r.stopped(err)
	}
	r.progress.Planned(pf.objects, pf.bytes)
	if err := r.download(ctx, pf); err != nil {
		return r.result(), r.stopped(err)
	}
	res := r.result()
	if res.Failed > 0 {
		return res, ErrFailed
	}
	pf.close()
	snap.close()
	if err := os.RemoveAll(r.opts.StateDir); err != nil {
		r.log.Warn().Err(err).Msg("restore: done, but its state directory was not removed")
	}
	return res, nil
}

// claim refuses a data directory that holds an archive no restore started,
// unless Merge, and marks it as being restored.
func (r *Restorer) claim() error {
	marker := filepath.Join(r.opts.StateDir, markerFile)
	if _, err := os.Stat(marker); err == nil {
		return nil // a restore started here: this run continues it
	}
	st, err := r.index.Stats()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if (st.Objects > 0 || st.Buckets > 0) && !r.opts.Merge {
		return fmt.Errorf("%w: it holds %d buckets and %d objects; restore into an empty --data-dir, or add --merge to add what the remote has (a newer local version is never overwritten)",
			ErrNotEmpty, st.Buckets, st.Objects)
	}
	b, _ := json.Marshal(struct {
		Started time.Time            `json:"started"`
		Remote  remoteindex.Identity `json:"remote"`
	}{time.Now().UTC(), r.opts.Identity})
	if err := os.WriteFile(marker, b, 0o600); err != nil {
		return fmt.Errorf("restore: write %s: %w", marker, noSpace(err))
	}
	return nil
}

// createBuckets creates the buckets of the snapshot (with --bucket, only
// that one), or without a snapshot those the plan names.
func (r *Restorer) createBuckets(ctx context.Context, snap *snapshot, pf *planFile) error {
	want := map[string]time.Time{}
	if snap != nil {
		if err := r.restoreUsers(ctx, snap); err != nil {
			return err
		}
		for _, b := range snap.buckets {
			if r.opts.Bucket != "" && b.Name != r.opts.Bucket {
				continue
			}
			if err := r.restoreBucket(ctx, b); err != nil {
				return err
			}
			want[b.Name] = b.Created
		}
	}
	for b := range pf.buckets {
		if _, ok := want[b]; !ok {
			want[b] = time.Now()
		}
	}
	for name, created := range want {
		if err := r.index.CreateBucket(ctx, name, created); err != nil && !errors.Is(err, queue.ErrBucketExists) {
			return fmt.Errorf("restore: create bucket %s: %w", name, err)
		}
	}
	if snap != nil {
		return nil
	}
	for name := range r.versioned {
		if err := r.index.SetBucketSetting(ctx, name, queue.SettingVersioning, queue.VersioningEnabled); err != nil {
			return fmt.Errorf("restore: versioning of bucket %s: %w", name, err)
		}
	}
	return nil
}

// download restores every planned object with Options.Objects workers. It
// stops at the first error that concerns every object (the remote refuses
// us, the disk is full).
func (r *Restorer) download(ctx context.Context, pf *planFile) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	commits := r.startCommitter(ctx, cancel)
	work := make(chan remoteindex.Object)
	var wg sync.WaitGroup
	for range r.opts.Objects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if ctx.Err() != nil {
					continue
				}
				if err := r.restoreOne(ctx, o, commits); err != nil {
					cancel(err)
				}
			}
		}()
	}
	err := pf.each(func(o remoteindex.Object) error {
		select {
		case work <- o:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(work)
	wg.Wait()
	commits.close()
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return err
}

// errList marks a listing that failed: the remote is unreachable, or
// answers with errors.
var errList = errors.New("list the remote")

// fatal reports whether err stops the whole restore rather than one object.
func fatal(err error) bool {
	return err != nil && (errors.Is(err, replication.ErrRemoteRefused) || errors.Is(err, store.ErrNoSpace) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// stopped turns an error that stopped the restore into one that says what to do.
func (r *Restorer) stopped(err error) error {
	switch {
	case errors.Is(err, store.ErrNoSpace) || errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("restore stopped: the disk is full (%w); what was restored is kept: free space (or move the data directory to a larger disk) and run the same command again to continue", err)
	case errors.Is(err, replication.ErrRemoteRefused):
		return fmt.Errorf("restore stopped: the remote refuses us (%w); check that bucket %q exists (remote.bucket), remote.prefix and the credentials with `gateway remote test`, then run the same command again",
			err, r.opts.Identity.Bucket)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("restore interrupted; run the same command again to continue: %w", err)
	case errors.Is(err, errList):
		return fmt.Errorf("restore stopped: the remote cannot be listed (%w); check remote.endpoint %q and the network with `gateway remote test`, then run the same command again",
			err, r.opts.Identity.Endpoint)
	}
	return fmt.Errorf("restore stopped: %w; run the same command again to continue", err)
}

func (r *Restorer) skip(name string, size int64, reason, fix string) {
	r.skipOutcome(Outcome{Name: name, Size: size, Reason: reason, Fix: fix})
}

func (r *Restorer) skipOutcome(o Outcome) {
	o.Status = Skipped
	r.mu.Lock()
	r.res.Skipped++
	r.mu.Unlock()
	r.progress.Object(o)
}

func (r *Restorer) fail(o Outcome) {
	o.Status = Failed
	r.mu.Lock()
	r.res.Failed++
	if len(r.res.Failures) < maxFailures {
		r.res.Failures = append(r.res.Failures, o)
	}
	r.res.Fetched += o.Fetched
	r.mu.Unlock()
	r.log.Warn().Str("object", o.Name).Str("reason", o.Reason).Msg("restore: object failed")
	r.progress.Object(o)
}

func (r *Restorer) restored(o Outcome) {
	o.Status = Restored
	r.mu.Lock()
	r.res.Restored++
	r.res.RestoredBytes += o.Size
	if o.RemoteOnly {
		r.res.RemoteOnly++
		r.res.RemoteOnlyBytes += o.Size
	}
	if len(o.Lacking) > 0 {
		r.res.Lacking++
	}
	r.res.Fetched += o.Fetched
	r.mu.Unlock()
	r.progress.Object(o)
}

func (r *Restorer) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := r.res
	res.Failures = append([]Outcome(nil), r.res.Failures...)
	return res
}

func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", store.ErrNoSpace, err)
	}
	return err
}
