package restore

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/store"
)

// fetchRanges downloads a large or multipart object into its partial file in
// parallel ranges and stores it, verified on the way: one blob, or one blob
// per part so that GET ?partNumber= answers as before.
func (r *Restorer) fetchRanges(ctx context.Context, o *remoteindex.Object, want store.Digest, fetched *atomic.Int64) (queue.Object, error) {
	p, err := openPartial(r.opts.StateDir, o, r.opts.RangeSize)
	if err != nil {
		return queue.Object{}, err
	}
	defer p.close()
	if err := r.fetchMissing(ctx, o, p, fetched); err != nil {
		return queue.Object{}, err
	}
	q, err := r.storeVerified(ctx, o, p, want)
	var oe *objectError
	if errors.As(err, &oe) {
		removePartial(r.opts.StateDir, o.Name()) // bad bytes: the next run fetches them again
	}
	return q, err
}

// storeVerified stores the complete partial object, one blob or one per
// part, and checks it on the way: the store hashes every blob (SHA-256 and
// MD5), which checks a single-piece object's SHA-256 and gives the parts'
// MD5s for a multipart object's ETag; a multipart object's SHA-256 is
// hashed in the same read. One read of the partial file, not two (a check,
// then the copy into the store): the check hashed with MD5 and SHA-256
// again and doubled the CPU of a large restore. Blobs of an object that
// fails its check are unpinned and never journaled.
func (r *Restorer) storeVerified(ctx context.Context, o *remoteindex.Object, p *partial, want store.Digest) (queue.Object, error) {
	if len(o.PartSizes) == 0 {
		b, err := r.blobs.PutVerified(ctx, io.NewSectionReader(p.data, 0, o.Size), want)
		var mismatch *store.DigestMismatchError
		if errors.As(err, &mismatch) {
			return queue.Object{}, corrupt(o, mismatch.Got.String())
		}
		if err != nil {
			return queue.Object{}, noSpace(err)
		}
		if o.ETag == "" {
			o.ETag = fmt.Sprintf("%x", b.MD5)
		}
		return o.ToQueue(b.Digest.String(), nil), nil
	}
	whole := sha256.New()
	parts := make([]queue.ObjectPart, 0, len(o.PartSizes))
	md5s := make([][md5.Size]byte, 0, len(o.PartSizes))
	var off int64
	for _, size := range o.PartSizes {
		b, err := r.blobs.Put(ctx, io.TeeReader(io.NewSectionReader(p.data, off, size), whole))
		if err != nil {
			r.unpin(queue.Object{Parts: parts})
			return queue.Object{}, noSpace(err)
		}
		parts = append(parts, queue.ObjectPart{Blob: b.Digest.String(), Size: b.Size})
		md5s = append(md5s, b.MD5)
		off += size
	}
	if got := hex.EncodeToString(whole.Sum(nil)); got != o.SHA256 {
		r.unpin(queue.Object{Parts: parts})
		return queue.Object{}, corrupt(o, got)
	}
	if strings.Contains(o.ETag, "-") {
		if got := multipartETag(md5s); got != o.ETag {
			r.unpin(queue.Object{Parts: parts})
			return queue.Object{}, &objectError{fmt.Sprintf("its parts give the ETag %s, its metadata says %s", got, o.ETag), fixCorrupt}
		}
	}
	return o.ToQueue("", parts), nil
}

// fetchMissing fetches the ranges the partial object lacks, Options.Ranges
// at once; the first error stops the others.
func (r *Restorer) fetchMissing(ctx context.Context, o *remoteindex.Object, p *partial, fetched *atomic.Int64) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	todo := make(chan int)
	var wg sync.WaitGroup
	for range min(r.opts.Ranges, max(len(p.missing()), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range todo {
				if err := r.fetchRange(ctx, o, p, i, fetched); err != nil {
					cancel(err)
				}
			}
		}()
	}
	for _, i := range p.missing() {
		select {
		case todo <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(todo)
	wg.Wait()
	return context.Cause(ctx)
}

// fetchRange fetches range i into place, retrying transient failures.
func (r *Restorer) fetchRange(ctx context.Context, o *remoteindex.Object, p *partial, i int, fetched *atomic.Int64) error {
	off, length := p.bounds(i)
	var err error
	for attempt := 0; attempt <= r.opts.Retries; attempt++ {
		if attempt > 0 && !r.backoff(ctx, attempt) {
			return ctx.Err()
		}
		if err = r.fetchRangeOnce(ctx, o, p, off, length, fetched); err == nil {
			return p.markDone(i)
		}
		if !retryable(err) {
			return err
		}
		r.log.Debug().Err(err).Str("object", o.Name()).Int("range", i).Int("attempt", attempt+1).Msg("restore: range failed")
	}
	return fmt.Errorf("restore: get %s bytes %d-%d: %w (after %d attempts)", o.Name(), off, off+length-1, err, r.opts.Retries+1)
}

func (r *Restorer) fetchRangeOnce(ctx context.Context, o *remoteindex.Object, p *partial, off, length int64, fetched *atomic.Int64) error {
	rc, err := r.get(ctx, o, off, length, fetched)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.NewOffsetWriter(p.data, off), exactly(rc, length))
	switch {
	case errors.Is(err, errShort) || errors.Is(err, errLong):
		return &objectError{fmt.Sprintf("the remote sent a different size for bytes %d-%d (%v)", off, off+length-1, err), fixCorrupt}
	case err != nil:
		return noSpace(err)
	}
	return nil
}
