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
	return &blobReader{f: f, r: io.NewSectionReader(f, off, length), left: length, d: d}, nil
}

// openChecked opens d's file and checks its size against the index.
func (s *Store) openChecked(d Digest, size int64) (*os.File, int64, error) {
	if !s.visible(d) {
		return nil, 0, fmt.Errorf("store: open blob %s: %w", d, ErrNotFound)
	}
	path := blobPath(s.blobs, d)
	f, err := os.Open(path)
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

// blobReader turns an early end of file (the blob shrank while being read) into a
// CorruptError instead of a silently short body.
type blobReader struct {
	f    *os.File
	r    *io.SectionReader
	left int64
	d    Digest
}

func (b *blobReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		return n, newCorruptError(b.f.Name(), b.d, fmt.Sprintf("file ended %d bytes early while reading", b.left))
	}
	return n, err
}

func (b *blobReader) Close() error { return b.f.Close() }

// Verify re-reads blob d and checks its size and SHA-256 against its address.
// A mismatch is a *CorruptError.
func (s *Store) Verify(ctx context.Context, d Digest, size int64) error {
	f, _, err := s.openChecked(d, size)
	if err != nil {
		return err
	}
	defer f.Close()
	c := s.chunks.Get().(*chunk)
	defer s.chunks.Put(c)
	h := sha256.New()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: verify blob %s: %w", d, err)
		}
		n, err := f.Read(c.buf)
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
