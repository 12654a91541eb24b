package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/store"
)

// Small objects (in one piece, up to stageMax bytes) do not wait for the
// disk one by one. Stored with Put, each cost three fsyncs in turn (its file,
// its directory, the journal entry), which capped a restore of small objects
// at a few hundred per second whatever the network. Instead a worker fetches
// the object into memory, stages its blob (written and verified, not yet
// durable) and hands it to the committer, which takes every object staged
// meanwhile, makes their blobs durable at once (store.SyncStaged: two
// syncfs) and journals them in one entry (PutRestoredObjects). The journal
// never names a blob that a crash could take; a crash before the batch is
// journaled loses only staged files, and the next run fetches them again.
const (
	// stageMax is the largest object staged; each worker holds one in memory.
	stageMax = 1 << 20
	// commitBatch bounds the objects journaled in one entry; it is also the
	// hand-off's capacity, so workers run at most that far ahead of the disk.
	commitBatch = 256
)

// stagedObject is a small object whose blob is staged (and pinned), waiting
// to be made durable and journaled.
type stagedObject struct {
	o       remoteindex.Object
	q       queue.Object
	fetched int64
}

// stages reports whether o takes the staged path.
func stages(o *remoteindex.Object) bool {
	return len(o.PartSizes) == 0 && o.Size <= stageMax
}

// fetchStaged downloads a small object into memory and stages its blob,
// which checks its SHA-256 and keeps nothing if it does not match.
func (r *Restorer) fetchStaged(ctx context.Context, o *remoteindex.Object, want store.Digest, fetched *atomic.Int64) (queue.Object, error) {
	var err error
	for attempt := 0; attempt <= r.opts.Retries; attempt++ {
		if attempt > 0 && !r.backoff(ctx, attempt) {
			return queue.Object{}, ctx.Err()
		}
		var b store.Blob
		if b, err = r.fetchStagedOnce(ctx, o, want, fetched); err == nil {
			if o.ETag == "" { // metadata of format 0: a single-part object's ETag is its MD5
				o.ETag = fmt.Sprintf("%x", b.MD5)
			}
			return o.ToQueue(b.Digest.String(), nil), nil
		}
		if !retryable(err) {
			return queue.Object{}, err
		}
		r.log.Debug().Err(err).Str("object", o.Name()).Int("attempt", attempt+1).Msg("restore: get failed")
	}
	return queue.Object{}, fmt.Errorf("restore: get %s: %w (after %d attempts)", o.Name(), err, r.opts.Retries+1)
}

// stageBuffers recycles the workers' object buffers.
var stageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (r *Restorer) fetchStagedOnce(ctx context.Context, o *remoteindex.Object, want store.Digest, fetched *atomic.Int64) (store.Blob, error) {
	bp := stageBuffers.Get().(*[]byte)
	defer stageBuffers.Put(bp)
	if int64(cap(*bp)) < o.Size {
		*bp = make([]byte, o.Size)
	}
	data := (*bp)[:o.Size]
	if o.Size > 0 {
		rc, err := r.get(ctx, o, 0, o.Size, fetched)
		if err != nil {
			return store.Blob{}, err
		}
		body := exactly(rc, o.Size)
		_, err = io.ReadFull(body, data)
		if err == nil {
			var one [1]byte
			if _, err = body.Read(one[:]); err == io.EOF { // errLong if the body goes on
				err = nil
			}
		}
		rc.Close()
		switch {
		case errors.Is(err, errShort) || errors.Is(err, errLong):
			return store.Blob{}, &objectError{fmt.Sprintf("the remote sent a different size than the %d bytes it lists (%v)", o.Size, err), fixCorrupt}
		case err != nil:
			return store.Blob{}, err
		}
	}
	// The staged file, not data, is what the blob is read from: data is not
	// journaled (the committer makes the blob durable before the entry).
	b, _, err := r.blobs.StageVerified(ctx, data, want)
	var mismatch *store.DigestMismatchError
	if errors.As(err, &mismatch) {
		return store.Blob{}, corrupt(o, mismatch.Got.String())
	}
	return b, noSpace(err)
}

// committer makes staged objects durable and journals them, in batches.
type committer struct {
	r    *Restorer
	in   chan stagedObject
	done chan struct{}
	err  error // the first error that stops the restore
}

func (r *Restorer) startCommitter(ctx context.Context, stop context.CancelCauseFunc) *committer {
	c := &committer{r: r, in: make(chan stagedObject, commitBatch), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		batch := make([]stagedObject, 0, commitBatch)
		for s := range c.in {
			batch = append(batch[:0], s)
		more:
			for len(batch) < commitBatch {
				select {
				case s, ok := <-c.in:
					if !ok {
						break more
					}
					batch = append(batch, s)
				default:
					break more
				}
			}
			if c.err != nil {
				c.drop(batch)
				continue
			}
			if err := c.commit(ctx, batch); err != nil {
				c.err = err
				stop(err)
			}
		}
	}()
	return c
}

// add hands over a staged object; the committer reports its outcome.
func (c *committer) add(s stagedObject) { c.in <- s }

// close waits until everything handed over is committed or dropped.
func (c *committer) close() error {
	close(c.in)
	<-c.done
	return c.err
}

func (c *committer) drop(batch []stagedObject) {
	for _, s := range batch {
		c.r.unpin(s.q)
	}
}

// commit makes the batch's blobs durable, journals the batch and reports
// each object's outcome. It returns an error only when the restore must stop.
func (c *committer) commit(ctx context.Context, batch []stagedObject) error {
	r := c.r
	defer c.drop(batch)
	if err := r.blobs.SyncStaged(ctx); err != nil {
		if err := noSpace(err); fatal(err) {
			return err
		}
		for _, s := range batch {
			r.fail(Outcome{Name: s.o.Name(), Version: outcomeVersion(&s.o), Size: s.o.Size, Fetched: s.fetched, Reason: fmt.Sprintf("store: %v", err), Fix: fixRetry})
		}
		return nil
	}
	qs := make([]queue.Object, len(batch))
	for i := range batch {
		qs[i] = entry(&batch[i].o, batch[i].q)
	}
	errs := r.putRestored(ctx, batch, qs)
	for i, s := range batch {
		out := Outcome{Name: s.o.Name(), Version: outcomeVersion(&s.o), Size: s.o.Size, Fetched: s.fetched, Lacking: s.o.Dropped}
		switch err := errs[i]; {
		case err == nil:
			r.restored(out)
		case errors.Is(err, queue.ErrNewerVersion):
			r.mu.Lock()
			r.res.Fetched += out.Fetched
			r.mu.Unlock()
			r.skip(out.Name, out.Size, "a newer local version exists", "")
		case fatal(err):
			return fmt.Errorf("restore: journal %s: %w", out.Name, err)
		default:
			out.Reason, out.Fix = fmt.Sprintf("journal: %v", err), fixRetry
			r.fail(out)
		}
	}
	return nil
}

// putRestored journals a batch: current objects with PutRestoredObjects,
// noncurrent versions and delete markers with PutRestoredVersions. One
// result per object.
func (r *Restorer) putRestored(ctx context.Context, batch []stagedObject, qs []queue.Object) []error {
	var cur, ver []int
	for i := range batch {
		if batch[i].o.Version() {
			ver = append(ver, i)
		} else {
			cur = append(cur, i)
		}
	}
	if len(ver) == 0 {
		return r.index.PutRestoredObjects(ctx, qs)
	}
	errs := make([]error, len(qs))
	for _, part := range []struct {
		idx []int
		put func(context.Context, []queue.Object) []error
	}{{cur, r.index.PutRestoredObjects}, {ver, r.index.PutRestoredVersions}} {
		if len(part.idx) == 0 {
			continue
		}
		objs := make([]queue.Object, len(part.idx))
		for j, i := range part.idx {
			objs[j] = qs[i]
		}
		for j, err := range part.put(ctx, objs) {
			errs[part.idx[j]] = err
		}
	}
	return errs
}
