package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// CollectStats reports what one Collect did.
type CollectStats struct {
	BlobsScanned int64 // blob files looked at
	BlobsPinned  int64 // skipped because a Commit's pin was not released yet
	BlobsDeleted int64 // unreferenced blobs removed
	BytesDeleted int64 // their total size
	TempsDeleted int64 // orphaned temp files removed
}

// MarkFunc reports, by calling mark, the digest of every blob the index
// references, all read from one consistent view of the index that begins after
// MarkFunc is called. It is the mark phase of Collect.
type MarkFunc func(ctx context.Context, mark func(Digest)) error

// Collect removes temp files that no live Writer owns and that are older than
// TempMaxAge, and every blob that mark does not report and that no Commit pinned
// since Collect began.
//
// That is what makes a concurrent write safe: a caller journals a reference while
// it holds the pin Commit gave it. A reference journaled before mark's view began
// is reported; one journaled later was pinned during the collection.
func (s *Store) Collect(ctx context.Context, mark MarkFunc) (CollectStats, error) {
	var st CollectStats
	s.mu.Lock()
	open := s.open
	s.mu.Unlock()
	if !open {
		return st, fmt.Errorf("store: collect: %w", ErrClosed)
	}
	if err := s.collectTemps(ctx, &st); err != nil {
		return st, err
	}
	s.startTracking()
	defer s.stopTracking()
	refs, err := s.markReferenced(ctx, mark)
	if err != nil {
		return st, err
	}
	err = s.walkBlobs(ctx, "", func(d Digest, path string, size int64) error {
		st.BlobsScanned++
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.pins[d] > 0 {
			st.BlobsPinned++
			return nil
		}
		if _, ok := s.touched[d]; ok || refs.mayContain(d) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: collect: %w", err)
		}
		st.BlobsDeleted++
		st.BytesDeleted += size
		return nil
	})
	return st, err
}

func (s *Store) collectTemps(ctx context.Context, st *CollectStats) error {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		return fmt.Errorf("store: collect: %w", err)
	}
	cutoff := time.Now().Add(-s.TempMaxAge)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("store: collect: %w", err)
		}
		if e.Name() == stagingDirName {
			continue // staged files are registered while they live
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue // gone already, or young enough to belong to a writer of another kind
		}
		s.mu.Lock()
		_, live := s.temps[e.Name()]
		if !live {
			err = os.RemoveAll(filepath.Join(s.tmp, e.Name()))
		}
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("store: collect: %w", err)
		}
		if !live {
			st.TempsDeleted++
		}
	}
	return nil
}

// walkBlobs calls fn for every well-named blob file whose name sorts after after
// ("" for all), in digest order, one directory listing in memory at a time. Files
// that are not named like a blob are logged and left alone.
func (s *Store) walkBlobs(ctx context.Context, after string, fn func(d Digest, path string, size int64) error) error {
	l1s, err := os.ReadDir(s.blobs)
	if err != nil {
		return fmt.Errorf("store: walk blobs: %w", err)
	}
	for _, l1 := range l1s {
		if !l1.IsDir() || len(l1.Name()) != 2 || l1.Name() < after[:min(2, len(after))] {
			continue
		}
		l2s, err := os.ReadDir(filepath.Join(s.blobs, l1.Name()))
		if err != nil {
			return fmt.Errorf("store: walk blobs: %w", err)
		}
		for _, l2 := range l2s {
			if !l2.IsDir() || len(l2.Name()) != 2 || l1.Name()+l2.Name() < after[:min(4, len(after))] {
				continue
			}
			dir := filepath.Join(s.blobs, l1.Name(), l2.Name())
			files, err := os.ReadDir(dir)
			if err != nil {
				return fmt.Errorf("store: walk blobs: %w", err)
			}
			for _, f := range files {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("store: walk blobs: %w", err)
				}
				if f.Name() <= after {
					continue
				}
				path := filepath.Join(dir, f.Name())
				d, err := ParseDigest(f.Name())
				if err != nil || !f.Type().IsRegular() || !strings.HasPrefix(f.Name(), l1.Name()+l2.Name()) {
					s.Logger.Warn().Str("path", path).Msg("ignoring a file that is not a blob")
					continue
				}
				info, err := f.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return fmt.Errorf("store: walk blobs: %w", err)
				}
				if err := fn(d, path, info.Size()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// startTracking makes every pin taken from now on, and every pin held now, protect
// its digest from this collection's sweep.
func (s *Store) startTracking() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collecting++; s.touched == nil {
		s.touched = make(map[Digest]struct{}, len(s.pins))
	}
	for d := range s.pins {
		s.touched[d] = struct{}{}
	}
}

func (s *Store) stopTracking() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collecting--; s.collecting == 0 {
		s.touched = nil
	}
}

// markReferenced runs mark into a filter sized by the previous collection. A
// filter that turns out far too small (the first collection of a large store) is
// rebuilt once at the right size, or it would keep most garbage.
func (s *Store) markReferenced(ctx context.Context, mark MarkFunc) (*bloom, error) {
	s.mu.Lock()
	expected := s.lastMarked
	s.mu.Unlock()
	for try := 0; ; try++ {
		refs := newBloom(expected)
		if err := mark(ctx, refs.add); err != nil {
			return nil, fmt.Errorf("store: collect: mark referenced blobs: %w", err)
		}
		s.mu.Lock()
		s.lastMarked = refs.n
		s.mu.Unlock()
		if !refs.overfull() || try > 0 {
			return refs, nil
		}
		expected = refs.n
	}
}

// RunCollector runs Collect now and then every CollectInterval until ctx is done or
// the store is closed. Run it once the index is loaded, so that mark is complete.
func (s *Store) RunCollector(ctx context.Context, mark MarkFunc) error {
	s.mu.Lock()
	closed, kick := s.closed, s.kick
	s.mu.Unlock()
	if closed == nil {
		return fmt.Errorf("store: run collector: %w", ErrClosed)
	}
	t := time.NewTicker(s.CollectInterval)
	defer t.Stop()
	for {
		st, err := s.Collect(ctx, mark)
		switch {
		case errors.Is(err, ErrClosed) || ctx.Err() != nil:
		case err != nil:
			s.Logger.Error().Err(err).Msg("collect")
		case st.BlobsDeleted > 0 || st.TempsDeleted > 0:
			s.Logger.Info().Int64("blobs", st.BlobsDeleted).Int64("bytes", st.BytesDeleted).
				Int64("temp_files", st.TempsDeleted).Msg("collected unreferenced data")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-closed:
			return nil
		case <-t.C:
		case <-kick:
		}
	}
}

// CollectSoon makes RunCollector start a collection now rather than at its
// next tick (or right after the one in progress): on a full disk, the space
// of deleted objects is wanted at once.
func (s *Store) CollectSoon() {
	s.mu.Lock()
	kick := s.kick
	s.mu.Unlock()
	if kick == nil {
		return
	}
	select {
	case kick <- struct{}{}:
	default:
	}
}

// Usage counts committed blobs and their bytes. It lists every fan-out directory, so
// its cost grows with the number of blobs: call it for reports, not per request.
func (s *Store) Usage(ctx context.Context) (blobs, bytes int64, err error) {
	err = s.walkBlobs(ctx, "", func(_ Digest, _ string, size int64) error {
		blobs++
		bytes += size
		return nil
	})
	return blobs, bytes, err
}
