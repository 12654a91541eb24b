package restore

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/replication"
)

// Backoff between attempts of a failed GET.
const (
	backoffMin = 500 * time.Millisecond
	backoffMax = 30 * time.Second
)

// get opens bytes [off, off+length) of o on the remote, under the bandwidth
// rules, counting what arrives, and cancels the request if the body stalls.
// A remote object whose ETag is not the one planned has changed since.
func (r *Restorer) get(ctx context.Context, o *remoteindex.Object, off, length int64, fetched *atomic.Int64) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	rc, etag, err := r.remote.Get(ctx, o.RemoteName(), o.Remote.VersionID, off, length)
	if err != nil {
		cancel()
		if errors.Is(err, replication.ErrNotFound) {
			return nil, &objectError{"it was deleted from the remote during the restore", "nothing to restore; run restore again to confirm"}
		}
		return nil, err
	}
	if o.Remote.ETag != "" && etag != "" && etag != o.Remote.ETag {
		rc.Close()
		cancel()
		return nil, &objectError{fmt.Sprintf("the remote ETag is now %s, it was %s when planned", etag, o.Remote.ETag), fixChanged}
	}
	b := &body{rc: rc, cancel: cancel, fetched: fetched, progress: r.progress, stallAfter: r.opts.StallTimeout}
	b.stall = time.AfterFunc(b.stallAfter, cancel)
	b.limited = r.limit.Reader(ctx, b.counted())
	return b, nil
}

// body is a GET's response body as restore reads it.
type body struct {
	rc       io.ReadCloser
	limited  io.Reader
	cancel   context.CancelFunc
	stall    *time.Timer
	fetched  *atomic.Int64
	progress Progress
	// stallAfter cancels the request when no byte arrived for this long.
	stallAfter time.Duration
}

func (b *body) counted() io.Reader { return countReader{b} }

type countReader struct{ b *body }

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.b.rc.Read(p)
	if n > 0 {
		c.b.fetched.Add(int64(n))
		c.b.progress.Fetched(int64(n))
	}
	return n, err
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.limited.Read(p)
	if n > 0 {
		b.stall.Reset(b.stallAfter)
	}
	return n, err
}

func (b *body) Close() error {
	b.stall.Stop()
	err := b.rc.Close()
	b.cancel()
	return err
}

// backoff waits before attempt (1, 2, ...), and reports false if ctx ended.
func (r *Restorer) backoff(ctx context.Context, attempt int) bool {
	d := min(backoffMin<<(attempt-1), backoffMax)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

var (
	errShort = errors.New("the body ended early")
	errLong  = errors.New("the body is longer than expected")
)

// exactly reads exactly n bytes from r: a clean end before them is errShort,
// a byte after them errLong.
func exactly(r io.Reader, n int64) io.Reader { return &exactReader{r: r, left: n} }

type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		var one [1]byte
		if n, _ := io.ReadFull(e.r, one[:]); n > 0 {
			return 0, errLong
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF {
		if e.left > 0 {
			return n, fmt.Errorf("%w: %d bytes missing", errShort, e.left)
		}
		err = nil
	}
	return n, err
}

// multipartETag is the S3 ETag of a multipart object: the MD5 of its parts'
// MD5s, concatenated, then "-" and the part count.
func multipartETag(md5s [][md5.Size]byte) string {
	h := md5.New()
	for _, m := range md5s {
		h.Write(m[:])
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(md5s))
}
