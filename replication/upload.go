package replication

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipas/ipas/objecthash"
	"github.com/rs/zerolog"
)

// replicate carries one job to the remote and marks it done; a put job's
// version is recorded as replicated.
func (r *Replicator) replicate(ctx context.Context, j Job, p *progress, log zerolog.Logger) error {
	if j.Op == OpDelete {
		if r.cfg.policy(j.Bucket) == PolicyMirror {
			if err := r.remote.DeleteObject(ctx, j.Name()); err != nil {
				return jobError("delete", j, err)
			}
		}
		if err := r.journal.JobDone(ctx, j.ID); err != nil {
			return jobError("journal done", j, err)
		}
		return nil
	}
	var c RemoteCopy
	var err error
	if vs, ok := r.versioned(j); ok {
		unlock, lerr := r.keys.lock(ctx, j.Name())
		if lerr != nil {
			return lerr
		}
		// Journaled under the key's lock: the key's next job reads it.
		defer unlock()
		c, err = r.putVersion(ctx, vs, j, p, log)
	} else {
		c, err = r.upload(ctx, j, p, log)
	}
	if err != nil {
		return err
	}
	if err := r.journal.JobReplicated(ctx, j.ID, c); err != nil {
		return jobError("journal done", j, err)
	}
	return nil
}

// upload sends a put job's bytes to j.Name(): one PutObject, or a
// multipart upload for a large object.
func (r *Replicator) upload(ctx context.Context, j Job, p *progress, log zerolog.Logger) (RemoteCopy, error) {
	if r.isLarge(j) {
		return r.multipart(ctx, j, p, log)
	}
	return r.putSmall(ctx, j, p)
}

// putSmall sends the object in one PutObject with its Content-MD5, after
// checking that the local bytes still hash to the object's hash.
func (r *Replicator) putSmall(ctx context.Context, j Job, p *progress) (RemoteCopy, error) {
	p.setParts(1, 0, 0)
	var check *objecthash.Verifier
	if j.Meta.SHA256 != "" {
		check = objecthash.NewVerifier(j.Meta.SHA256, j.Meta.PartSizes)
	}
	sums, err := r.hashRange(ctx, j, 0, j.Size, check)
	if err != nil {
		return RemoteCopy{}, jobError("read", j, err)
	}
	if check != nil {
		if err := check.Check(); err != nil {
			return RemoteCopy{}, jobError("read", j, fmt.Errorf("%w: journal %s: %v", errLocalMismatch, j.Meta.SHA256, err))
		}
	}
	var c RemoteCopy
	err = r.send(ctx, j, 0, j.Size, p, func(ctx context.Context, body io.Reader) (err error) {
		c, err = r.remote.PutObject(ctx, j.Name(), body, j.Size, sums.md5, j.Meta)
		return err
	})
	if err != nil {
		return RemoteCopy{}, jobError("put", j, err)
	}
	p.partDone(j.Size)
	return RemoteCopy{ETag: c.ETag, Size: j.Size, VersionID: c.VersionID}, nil
}

type sums struct {
	md5 []byte
}

// hashRange reads a byte range once, computing its MD5 (and feeding check,
// when not nil) with a fixed-size buffer, before the range is streamed for
// real.
func (r *Replicator) hashRange(ctx context.Context, j Job, off, length int64, check *objecthash.Verifier) (sums, error) {
	rc, err := openRange(ctx, r.blobs, j.Pieces, off, length)
	if err != nil {
		return sums{}, err
	}
	defer rc.Close()
	m := md5.New()
	var w io.Writer = m
	if check != nil {
		w = io.MultiWriter(m, check)
	}
	buf := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(buf)
	n, err := io.CopyBuffer(w, onlyReader{rc}, *buf)
	if err != nil {
		return sums{}, err
	}
	if n != length {
		return sums{}, fmt.Errorf("read %d bytes of %d", n, length)
	}
	return sums{md5: m.Sum(nil)}, nil
}

// onlyReader hides WriterTo/ReaderFrom so CopyBuffer uses our buffer.
type onlyReader struct{ io.Reader }

const hashBufferSize = 256 << 10

var hashBuffers = sync.Pool{New: func() any { b := make([]byte, hashBufferSize); return &b }}

// errStalled cancels a request whose body stopped moving.
var errStalled = errors.New("replication: upload stalled (no progress)")

// send streams bytes [off, off+length) of j through the bandwidth limit to
// do, cancelling the request if the network stops taking bytes for
// StallTimeout. Time spent waiting for the bandwidth limit is not a stall.
func (r *Replicator) send(ctx context.Context, j Job, off, length int64, p *progress, do func(context.Context, io.Reader) error) error {
	if _, err := r.bw.admit(ctx); err != nil {
		return err
	}
	rc, err := openRange(ctx, r.blobs, j.Pieces, off, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	body := &watchedReader{r: r.bw.Reader(rctx, rc), p: p, rep: r}
	body.touch()
	stop := make(chan struct{})
	go r.watchStall(body, cancel, stop)
	err = do(rctx, body)
	close(stop)
	p.inflight.Add(-body.n)
	if err != nil && context.Cause(rctx) == errStalled && ctx.Err() == nil {
		return fmt.Errorf("%w after %s: %w", errStalled, r.cfg.StallTimeout, err)
	}
	return err
}

func (r *Replicator) watchStall(b *watchedReader, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(max(r.cfg.StallTimeout/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if b.stalled(r.cfg.StallTimeout) {
				cancel(errStalled)
				return
			}
		}
	}
}

// watchedReader counts bytes handed to the transport and notices when the
// transport stops asking for more (the connection is black-holed).
type watchedReader struct {
	r    io.Reader
	p    *progress
	rep  *Replicator
	mu   sync.Mutex
	last time.Time
	in   bool  // inside Read, possibly waiting for the bandwidth limit
	done bool  // body fully read: the response wait is bounded by the transport
	n    int64 // bytes read
}

func (w *watchedReader) touch() {
	w.mu.Lock()
	w.last = time.Now()
	w.mu.Unlock()
}

func (w *watchedReader) stalled(limit time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.in && !w.done && time.Since(w.last) > limit
}

func (w *watchedReader) Read(b []byte) (int, error) {
	w.mu.Lock()
	w.in = true
	w.mu.Unlock()
	n, err := w.r.Read(b)
	w.mu.Lock()
	w.in, w.last = false, time.Now()
	if err == io.EOF {
		w.done = true
	}
	w.mu.Unlock()
	if n > 0 {
		w.n += int64(n)
		w.p.wire.Add(int64(n))
		w.p.inflight.Add(int64(n))
		w.rep.addSent(int64(n))
	}
	return n, err
}
