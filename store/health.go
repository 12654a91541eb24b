package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// CheckWritable reports whether the store is open and its directory takes a
// new file now: it creates, writes and removes one byte in the temp
// directory. A disk remounted read-only after an error, a directory that lost
// its permissions or a vanished mount fail it. Unlike the probe at Open it
// does not fsync: it runs for every health probe, and a sync per probe would
// cost an SD card a journal commit each time.
func (s *Store) CheckWritable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: check writable: %w", err)
	}
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	if !open {
		return fmt.Errorf("store: check writable: %w", ErrClosed)
	}
	f, err := os.CreateTemp(s.tmp, "health-*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("store: check writable %s: %w", s.tmp, wrapNoSpace(err))
	}
	_, werr := f.Write([]byte{0})
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return fmt.Errorf("store: check writable %s: %w", s.tmp, wrapNoSpace(err))
	}
	return nil
}
