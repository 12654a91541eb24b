package gateway

import (
	"context"
	"fmt"
	"io"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// segment is one blob of an object's bytes: the whole object, or one part of an
// object assembled from a multipart upload without copying.
type segment struct {
	blob string
	size int64
}

// openObject opens bytes [off, off+length) of o, across its segments.
func (s *Server) openObject(r *request, o queue.Object, off, length int64) (io.ReadCloser, error) {
	return &segmentReader{ctx: r.Context(), blobs: s.blobs, segs: segments(o), off: off, left: length}, nil
}

// segmentReader reads a range of a sequence of blobs, opening one blob at a time.
type segmentReader struct {
	ctx   context.Context
	blobs Blobs
	segs  []segment
	off   int64 // offset of the next byte within the remaining segments
	left  int64
	cur   io.ReadCloser
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for {
		if r.left == 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			if err := r.next(); err != nil {
				return 0, err
			}
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// next opens the segment holding the next byte.
func (r *segmentReader) next() error {
	for len(r.segs) > 0 && r.off >= r.segs[0].size {
		r.off -= r.segs[0].size
		r.segs = r.segs[1:]
	}
	if len(r.segs) == 0 {
		return fmt.Errorf("gateway: read object: %d bytes missing past the last part", r.left)
	}
	seg := r.segs[0]
	d, err := store.ParseDigest(seg.blob)
	if err != nil {
		return fmt.Errorf("gateway: read object: blob %q: %w", seg.blob, err)
	}
	n := min(seg.size-r.off, r.left)
	rc, err := r.blobs.OpenBlob(r.ctx, d, seg.size, r.off, n)
	if err != nil {
		return err
	}
	r.cur = rc
	r.segs = r.segs[1:]
	r.off = 0
	return nil
}

func (r *segmentReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
