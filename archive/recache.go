package archive

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// recache stores the bytes of a whole read-through as the object's pieces
// (one blob, or one per part of a multipart object, as a restore does),
// while they are served, and journals the object as local once the read has
// checked the SHA-256 (queue.Node.PutRestoredObject). Nothing is journaled
// from bytes that did not check; their blobs, never named, are collected.
type recache struct {
	rt     *ReadThrough
	o      queue.Object
	sizes  []int64 // the pieces to store
	left   int64   // bytes still to write into the current piece
	pw     *io.PipeWriter
	put    chan putResult // the current piece's store.Put
	blobs  []store.Blob   // stored, pinned
	err    error          // set once abandoned
	closed bool
}

type putResult struct {
	b   store.Blob
	err error
}

func newRecache(rt *ReadThrough, o queue.Object) *recache {
	c := &recache{rt: rt, o: o, sizes: o.PartSizes()}
	if len(c.sizes) == 0 {
		c.sizes = []int64{o.Size}
	}
	return c
}

// write stores p, the next bytes of the object. A store error abandons the
// re-cache; the read goes on.
func (c *recache) write(p []byte) {
	for c != nil && c.err == nil && len(p) > 0 {
		if c.pw == nil {
			c.startPiece()
			continue
		}
		n := min(int64(len(p)), c.left)
		if _, err := c.pw.Write(p[:n]); err != nil {
			c.fail(err)
			return
		}
		p, c.left = p[n:], c.left-n
		if c.left == 0 {
			c.endPiece()
		}
	}
}

func (c *recache) startPiece() {
	pr, pw := io.Pipe()
	c.pw, c.left, c.put = pw, c.sizes[len(c.blobs)], make(chan putResult, 1)
	put := c.put
	go func() {
		b, err := c.rt.blobs.Put(context.Background(), pr)
		pr.CloseWithError(err)
		put <- putResult{b, err}
	}()
}

func (c *recache) endPiece() {
	c.pw.Close()
	res := <-c.put
	c.pw = nil
	if res.err != nil {
		c.fail(res.err)
		return
	}
	c.blobs = append(c.blobs, res.b)
}

// fail abandons the re-cache after a store error, which is logged: the
// object stays remote-only.
func (c *recache) fail(err error) {
	c.rt.log.Warn().Err(err).Str("bucket", c.o.Bucket).Str("key", c.o.Key).
		Msg("read-through: the object could not be stored locally; it stays on the remote only")
	c.abort(err)
}

// commit journals the object as local, its SHA-256 checked by the read.
func (c *recache) commit(ctx context.Context) {
	if c == nil || c.err != nil || c.closed {
		c.abort(io.ErrUnexpectedEOF)
		return
	}
	for len(c.blobs) < len(c.sizes) { // empty trailing pieces
		c.startPiece()
		c.endPiece()
		if c.err != nil {
			return
		}
	}
	o := c.o
	o.RemoteOnly = false
	if len(c.o.Parts) == 0 {
		o.Blob = c.blobs[0].Digest.String()
	} else {
		o.Parts = make([]queue.ObjectPart, len(c.blobs))
		for i, b := range c.blobs {
			o.Parts[i] = queue.ObjectPart{Blob: b.Digest.String(), Size: b.Size}
		}
		if err := c.checkPartETag(); err != nil {
			c.rt.logCorrupt(c.o, err)
			c.abort(err)
			return
		}
	}
	applied, err := c.rt.journal.PutRestoredObject(context.WithoutCancel(ctx), o)
	if err != nil {
		c.rt.log.Warn().Err(err).Str("bucket", o.Bucket).Str("key", o.Key).
			Msg("read-through: the object was stored locally but could not be journaled; it stays on the remote only")
	}
	if applied {
		c.rt.cached.Add(1)
		c.rt.log.Info().Str("bucket", o.Bucket).Str("key", o.Key).Int64("size", o.Size).
			Msg("read-through: the object is local again")
	}
	c.finish(applied)
}

// checkPartETag compares a multipart object's ETag (the MD5 of its parts'
// MD5s, -N) with the MD5s of the blobs stored: a second check, beside the
// SHA-256, that the parts are cut where the client cut them.
func (c *recache) checkPartETag() error {
	if !strings.Contains(c.o.ETag, "-") {
		return nil
	}
	h := md5.New()
	for _, b := range c.blobs {
		h.Write(b.MD5[:])
	}
	got := fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(c.blobs))
	if got != c.o.ETag {
		return fmt.Errorf("archive: read %s/%s through from %s: %w: its parts give the ETag %s, the index says %s",
			c.o.Bucket, c.o.Key, c.rt.name, ErrRemoteCorrupt, got, c.o.ETag)
	}
	return nil
}

// abort abandons the re-cache: the piece being stored is dropped, stored
// ones are unpinned (and, never journaled, collected). It may be called
// more than once, and on nil.
func (c *recache) abort(err error) {
	if c == nil || c.closed {
		return
	}
	if c.err == nil {
		c.err = err
	}
	if c.pw != nil {
		c.pw.CloseWithError(err)
		<-c.put
		c.pw = nil
	}
	c.finish(false)
}

func (c *recache) finish(cached bool) {
	if c.closed {
		return
	}
	c.closed = true
	for _, b := range c.blobs {
		c.rt.blobs.Unpin(b.Digest)
	}
	c.rt.release(c.o, cached)
}
