package store

import (
	"context"
	"fmt"
	"io"
)

// Repair replaces the file of blob d, found corrupt, with the bytes r yields,
// once they hash to d: they are written to a temp file, fsynced, renamed over
// the damaged file and the directory fsynced, like every blob, so that a crash
// leaves either the old file or the good one. Bytes that hash to anything else
// give a *DigestMismatchError (ErrDigestMismatch) and change nothing. It
// returns the number of bytes written.
func (s *Store) Repair(ctx context.Context, d Digest, r io.Reader) (int64, error) {
	w, err := s.Create(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: repair blob %s: %w", d, err)
	}
	w.want, w.replace = &d, true
	if _, err := w.readFrom(ctx, r); err != nil {
		w.abort()
		return 0, fmt.Errorf("store: repair blob %s: %w", d, err)
	}
	b, err := w.Commit(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: repair blob %s: %w", d, err)
	}
	s.Unpin(d)
	return b.Size, nil
}

// Blobs calls fn with the digest and size of every blob file whose digest
// sorts after after (the zero Digest: all), in digest order, one directory
// listing in memory at a time: a scrub walks the store with it, and resumes
// where it stopped.
func (s *Store) Blobs(ctx context.Context, after *Digest, fn func(d Digest, size int64) error) error {
	from := ""
	if after != nil {
		from = after.String()
	}
	return s.walkBlobs(ctx, from, func(d Digest, _ string, size int64) error { return fn(d, size) })
}
