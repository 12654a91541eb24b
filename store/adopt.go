package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrCrossDevice means a file given to Adopt is on another filesystem than
// the store, so it cannot be renamed into place; the caller copies it in
// with Put instead. Nothing was changed.
var ErrCrossDevice = errors.New("store: file is on another filesystem")

// Adopt makes the file at path the blob b, by rename instead of a copy, and
// returns it pinned like Put: the file is chmodded read-only, fsynced,
// renamed to b's address and its directory fsynced, as every blob is. The
// caller vouches for b: it has just hashed the file (its SHA-256) and
// owns it, and nothing writes to it any more. If an identical blob is in
// place already the file is removed instead. On any error but
// ErrCrossDevice the file may be gone.
func (s *Store) Adopt(ctx context.Context, path string, b Blob) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: adopt %s: %w", path, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: adopt %s: %w", path, err)
	}
	if info.Size() != b.Size {
		return fmt.Errorf("store: adopt %s: size %d, the blob has %d", path, info.Size(), b.Size)
	}
	if err := s.sameDevice(info); err != nil {
		return fmt.Errorf("store: adopt %s: %w", path, err)
	}
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	if !open {
		return fmt.Errorf("store: adopt %s: %w", path, ErrClosed)
	}
	syncFile := func() error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		// chmod before the fsync so that the mode is as durable as the bytes.
		err = f.Chmod(blobMode)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("fsync %s: %w", path, err)
		}
		return nil
	}
	if err := s.install(path, b, false, syncFile); err != nil {
		return wrapNoSpace(fmt.Errorf("store: adopt blob %s: %w", b.Digest, err))
	}
	return nil
}

// sameDevice reports ErrCrossDevice when info's file is not on the store's
// filesystem.
func (s *Store) sameDevice(info os.FileInfo) error {
	dir, err := os.Stat(s.tmp)
	if err != nil {
		return err
	}
	a, ok1 := info.Sys().(*syscall.Stat_t)
	b, ok2 := dir.Sys().(*syscall.Stat_t)
	if ok1 && ok2 && a.Dev != b.Dev {
		return ErrCrossDevice
	}
	return nil
}
