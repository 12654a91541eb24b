package archive

import (
	"context"
	"fmt"
	"io"

	"github.com/ipas/ipas/store"
)

// PieceRange is a byte range of one piece of an object: Len bytes from Off
// within the piece, which starts at byte Start of the object. A source that
// holds whole objects rather than blobs (the remote copy) reads
// [Start+Off, Start+Off+Len) of the object.
type PieceRange struct {
	Piece
	Start, Off, Len int64
}

// PieceSource opens a byte range of one piece of an object.
type PieceSource interface {
	OpenPiece(ctx context.Context, r PieceRange) (io.ReadCloser, error)
}

// BlobOpener opens a byte range of a local blob (*store.Store).
type BlobOpener interface {
	OpenBlob(ctx context.Context, d store.Digest, size, off, length int64) (io.ReadCloser, error)
}

// LocalSource reads pieces from the local blob store.
type LocalSource struct{ Blobs BlobOpener }

var (
	_ PieceSource = LocalSource{}
	_ BlobOpener  = (*store.Store)(nil)
)

// OpenPiece opens the range of the piece's blob.
func (s LocalSource) OpenPiece(ctx context.Context, r PieceRange) (io.ReadCloser, error) {
	d, err := r.Digest()
	if err != nil {
		return nil, err
	}
	return s.Blobs.OpenBlob(ctx, d, r.Size, r.Off, r.Len)
}

// Reader reads a byte range of an object made of pieces, opening one piece at
// a time, when the read reaches it.
type Reader struct {
	ctx    context.Context
	src    PieceSource
	pieces []Piece // pieces[0] holds the next byte, or precedes it
	start  int64   // where pieces[0] starts in the object
	off    int64   // offset of the next byte from the start of pieces[0]
	left   int64
	cur    io.ReadCloser
}

// NewReader returns a Reader of bytes [off, off+length) of the object made of
// pieces. It opens nothing yet: a piece that cannot be opened, or bytes
// missing past the last piece, are the error of the Read that reaches them.
func NewReader(ctx context.Context, src PieceSource, pieces []Piece, off, length int64) *Reader {
	return &Reader{ctx: ctx, src: src, pieces: pieces, off: off, left: length}
}

// OpenRange is NewReader for a caller that wants to know at once whether the
// range can be read: pieces too short for it are store.ErrInvalidRange, and
// the first piece is opened before OpenRange returns.
func OpenRange(ctx context.Context, src PieceSource, pieces []Piece, off, length int64) (io.ReadCloser, error) {
	var total int64
	for _, p := range pieces {
		total += p.Size
	}
	if off < 0 || length < 0 || total < off+length {
		return nil, fmt.Errorf("archive: open range %d+%d: the object's pieces hold only %d bytes: %w",
			off, length, total, store.ErrInvalidRange)
	}
	r := NewReader(ctx, src, pieces, off, length)
	if length > 0 {
		if err := r.next(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Reader) Read(p []byte) (int, error) {
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

// WriteTo copies the range to w one piece at a time, so that a piece's reader
// can hand its file to w (a local blob's *os.File to sendfile(2)).
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.left > 0 {
		if r.cur == nil {
			if err := r.next(); err != nil {
				return total, err
			}
		}
		n, err := io.Copy(w, r.cur)
		total += n
		r.left -= n
		r.cur.Close()
		r.cur = nil
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// next opens the piece holding the next byte.
func (r *Reader) next() error {
	for len(r.pieces) > 0 && r.off >= r.pieces[0].Size {
		r.off -= r.pieces[0].Size
		r.start += r.pieces[0].Size
		r.pieces = r.pieces[1:]
	}
	if len(r.pieces) == 0 {
		return fmt.Errorf("archive: read object: %d bytes missing past the last piece", r.left)
	}
	p := r.pieces[0]
	rc, err := r.src.OpenPiece(r.ctx, PieceRange{Piece: p, Start: r.start, Off: r.off, Len: min(p.Size-r.off, r.left)})
	if err != nil {
		return err
	}
	r.cur = rc
	r.start += p.Size
	r.pieces = r.pieces[1:]
	r.off = 0
	return nil
}

// Close closes the piece being read.
func (r *Reader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}
