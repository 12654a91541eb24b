package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/ipas/ipas/queue"
)

// remoteSource reads the one piece of a remote-only object, the whole
// object, from its remote copy in blocks (ReadThrough).
type remoteSource struct {
	rt    *ReadThrough
	o     queue.Object
	check *wholeCheck // a whole read: its SHA-256
	cache *recache    // a whole read that re-caches the object
}

var _ PieceSource = (*remoteSource)(nil)

// OpenPiece opens [r.Start+r.Off, +r.Len) of the object and waits for its
// first block, so that the remote's errors come before any byte.
func (s *remoteSource) OpenPiece(ctx context.Context, r PieceRange) (io.ReadCloser, error) {
	off := r.Start + r.Off
	br := &blockReader{src: s, ctx: ctx, pos: off, end: off + r.Len, next: off / BlockSize}
	if r.Len > 0 {
		if err := br.take(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

// blockReader serves a byte range from blocks, keeping up to ReadAhead
// fetches running past the block it serves.
type blockReader struct {
	src      *remoteSource
	ctx      context.Context
	pos, end int64  // the next byte to take from a block, the range's end
	cur      []byte // taken, not yet served
	ahead    []*blockFetch
	next     int64 // index of the block after the last one in ahead
	err      error
	closed   bool
}

// fill starts the fetches of the range's next blocks, up to ReadAhead+1.
func (r *blockReader) fill() {
	last := (r.end - 1) / BlockSize
	for len(r.ahead) < ReadAhead+1 && r.next <= last {
		r.ahead = append(r.ahead, r.src.rt.block(r.src.o, r.next))
		r.next++
	}
}

// take waits for the next block and makes its part of the range current.
func (r *blockReader) take() error {
	r.fill()
	f := r.ahead[0]
	r.ahead = r.ahead[1:]
	data, err := f.wait(r.ctx)
	if err != nil {
		return err
	}
	r.fill()
	idx := r.pos / BlockSize
	start := idx * BlockSize
	piece := data[r.pos-start : min(int64(len(data)), r.end-start)]
	last := start+int64(len(data)) >= r.end
	if c := r.src.check; c != nil {
		c.h.Write(piece)
		if last {
			if err := c.verify(r.src.rt); err != nil {
				r.src.cache.abort(err)
				return err
			}
		}
	}
	if c := r.src.cache; c != nil {
		c.write(piece)
		if last {
			c.commit(r.ctx)
		}
	}
	r.cur = piece
	r.pos += int64(len(piece))
	return nil
}

func (r *blockReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.cur) == 0 {
		if r.pos >= r.end {
			return 0, io.EOF
		}
		if r.err = r.take(); r.err != nil {
			return 0, r.err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close abandons a re-cache that did not reach the end.
func (r *blockReader) Close() error {
	if !r.closed {
		r.closed = true
		r.src.cache.abort(io.ErrUnexpectedEOF)
	}
	return nil
}

// wholeCheck hashes a whole read to compare it with the object's SHA-256.
type wholeCheck struct {
	o queue.Object
	h hash.Hash
}

func newWholeCheck(o queue.Object) *wholeCheck { return &wholeCheck{o: o, h: sha256.New()} }

func (c *wholeCheck) verify(rt *ReadThrough) error {
	got := hex.EncodeToString(c.h.Sum(nil))
	if got == c.o.SHA256 {
		return nil
	}
	err := fmt.Errorf("archive: read %s/%s through from %s: %w: its bytes hash to SHA-256 %s, the index says %s",
		c.o.Bucket, c.o.Key, rt.name, ErrRemoteCorrupt, got, c.o.SHA256)
	rt.logCorrupt(c.o, err)
	return err
}
