package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// OpenBlob opens bytes [off, off+length) of blob d for reading; length -1 means to the
// end. size is the size the caller's index records: a file of any other size is
// reported as a *CorruptError naming the file (size < 0 skips the check). A range
// outside the blob gives ErrInvalidRange.
func (s *Store) OpenBlob(ctx context.Context, d Digest, size, off, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: open blob %s: %w", d, err)
	}
	f, actual, err := s.openChecked(d, size)
	if err != nil {
		return nil, err
	}
	if off < 0 || off > actual || length < -1 || (length >= 0 && length > actual-off) {
		f.Close()
		return nil, fmt.Errorf("store: open blob %s: offset %d length %d of a %d-byte blob: %w",
			d, off, length, actual, ErrInvalidRange)
	}
	if length == -1 {
		length = actual - off
	}
	return &blobReader{f: f, off: off, left: length, d: d}, nil
}

// openChecked opens d's file and checks its size against the index.
func (s *Store) openChecked(d Digest, size int64) (*os.File, int64, error) {
	path := blobPath(s.blobs, d)
	var f *os.File
	var err error
	if staged := s.stagedPath(d); staged != "" {
		// Served from its temp file; if that is gone, the syncer has just
		// renamed it into place, where it is read whether or not the
		// directory's fsync has finished.
		if f, err = os.Open(staged); err == nil {
			path = staged
		} else if errors.Is(err, fs.ErrNotExist) {
			f, err = os.Open(path)
		}
	} else if !s.visible(d) {
		return nil, 0, fmt.Errorf("store: open blob %s: %w", d, ErrNotFound)
	} else {
		f, err = os.Open(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("store: open blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: open blob %s: %w", d, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("store: open blob %s: %w", d, err)
	}
	if size >= 0 && st.Size() != size {
		f.Close()
		return nil, 0, newCorruptError(path, d, sizeReason(st.Size(), size))
	}
	return f, st.Size(), nil
}

func sizeReason(actual, want int64) string {
	if actual < want {
		return fmt.Sprintf("file has %d bytes, the index says %d (truncated)", actual, want)
	}
	return fmt.Sprintf("file has %d bytes, the index says %d", actual, want)
}

// blobReader reads a range of a blob file and turns an early end of file (the blob
// shrank while being read) into a CorruptError instead of a silently short body.
type blobReader struct {
	f    *os.File
	off  int64 // file offset of the next byte
	left int64
	d    Digest
}

var _ io.WriterTo = (*blobReader)(nil)

func (b *blobReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.f.ReadAt(p, b.off)
	b.off += int64(n)
	b.left -= int64(n)
	if err == io.EOF {
		if b.left > 0 {
			return n, b.shrunk()
		}
		err = nil
	}
	return n, err
}

// WriteTo hands w the file itself, positioned at the range and limited to it, so
// that a writer that can take bytes from a file descriptor (net/http's response
// over TCP, through io.ReaderFrom) sends them with sendfile(2) instead of copying
// them through user space.
func (b *blobReader) WriteTo(w io.Writer) (int64, error) {
	if b.left <= 0 {
		return 0, nil
	}
	if _, err := b.f.Seek(b.off, io.SeekStart); err != nil {
		return 0, fmt.Errorf("store: read blob %s: %w", b.d, err)
	}
	lr := &io.LimitedReader{R: b.f, N: b.left}
	n, err := io.Copy(w, lr)
	b.off += n
	b.left -= n
	if err == nil && b.left > 0 {
		err = b.shrunk()
	}
	return n, err
}

func (b *blobReader) shrunk() error {
	return newCorruptError(b.f.Name(), b.d, fmt.Sprintf("file ended %d bytes early while reading", b.left))
}

func (b *blobReader) Close() error { return b.f.Close() }

// Verify re-reads blob d and checks its size and SHA-256 against its address.
// A mismatch is a *CorruptError.
func (s *Store) Verify(ctx context.Context, d Digest, size int64) error {
	return s.VerifyPaced(ctx, d, size, nil)
}

// VerifyPaced is Verify that calls pace, when not nil, with the number of
// bytes of each read before it is made (a rate limiter's WaitN), so that a
// background scrub leaves the disk to clients. pace's error ends the
// verification.
func (s *Store) VerifyPaced(ctx context.Context, d Digest, size int64, pace func(ctx context.Context, n int) error) error {
	f, left, err := s.openChecked(d, size)
	if err != nil {
		return err
	}
	defer f.Close()
	c := s.chunks.get()
	defer s.chunks.put(c)
	h := sha256.New()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: verify blob %s: %w", d, err)
		}
		if pace != nil && left > 0 {
			if err := pace(ctx, int(min(left, int64(len(c.buf))))); err != nil {
				return fmt.Errorf("store: verify blob %s: %w", d, err)
			}
		}
		n, err := f.Read(c.buf)
		left -= int64(n)
		h.Write(c.buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("store: verify blob %s: %w", d, err)
		}
	}
	var got Digest
	h.Sum(got[:0])
	if got != d {
		return newCorruptError(f.Name(), d, "content hashes to "+got.String())
	}
	return nil
}
