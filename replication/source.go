package replication

import (
	"context"
	"fmt"
	"io"

	"github.com/ipas/ipas/store"
)

// openRange returns bytes [off, off+length) of the object made of pieces,
// opening each blob only when the read reaches it.
func openRange(ctx context.Context, blobs Blobs, pieces []Piece, off, length int64) (io.ReadCloser, error) {
	var spans []span
	pos := int64(0)
	end := off + length
	for _, p := range pieces {
		ps, pe := pos, pos+p.Size
		pos = pe
		if pe <= off || ps >= end {
			continue
		}
		d, err := store.ParseDigest(p.Blob)
		if err != nil {
			return nil, fmt.Errorf("replication: open range: %w", err)
		}
		from, to := max(off, ps), min(end, pe)
		spans = append(spans, span{d: d, size: p.Size, off: from - ps, len: to - from})
	}
	if pos < end {
		return nil, fmt.Errorf("replication: open range %d+%d: the object's pieces hold only %d bytes: %w",
			off, length, pos, store.ErrInvalidRange)
	}
	r := &rangeReader{ctx: ctx, blobs: blobs, spans: spans}
	if err := r.next(); err != nil {
		return nil, err
	}
	return r, nil
}

type span struct {
	d              store.Digest
	size, off, len int64
}

type rangeReader struct {
	ctx   context.Context
	blobs Blobs
	spans []span
	cur   io.ReadCloser
}

func (r *rangeReader) next() error {
	if len(r.spans) == 0 {
		return nil
	}
	s := r.spans[0]
	r.spans = r.spans[1:]
	rc, err := r.blobs.OpenBlob(r.ctx, s.d, s.size, s.off, s.len)
	if err != nil {
		return err
	}
	r.cur = rc
	return nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for r.cur != nil {
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if nerr := r.next(); nerr != nil {
				return n, nerr
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, io.EOF
}

func (r *rangeReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
