package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// syncBatch makes a batch of staged blobs durable and moves them into place
// with two syncfs(2) calls in all, instead of an fsync of each file and of
// each directory: a syncfs makes their bytes durable, they are renamed into
// blobs/ (creating fan-out directories as needed), and a second syncfs makes
// the renames and directories durable. Only then are they durable blobs that
// dedup may reuse. Per blob, that was 0.19 ms of CPU in three syscalls on the
// test VM, a quarter of a small PUT's server time.
//
// syncfs also writes back whatever else is dirty on the filesystem, such as a
// large upload in progress; that costs the batch time, but nothing waits for
// a batch except the next fsm.db commit, and those bytes are fsynced soon
// anyway.
func (s *Store) syncBatch(batch map[Digest]*stagedBlob) {
	defer s.syncers.Done()
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	placed := make(map[Digest]*placement, len(batch))
	errs := make(map[Digest]error, len(batch))
	if err := s.syncfs(); err != nil {
		for d := range batch {
			errs[d] = fmt.Errorf("syncfs before moving into place: %w", err)
		}
	} else {
		for d, st := range batch {
			p, err := s.placeStaged(d, st)
			if err != nil {
				errs[d] = err
			} else {
				placed[d] = p
			}
		}
	}
	var serr error
	if len(placed) > 0 {
		if serr = s.syncfs(); serr != nil {
			serr = fmt.Errorf("syncfs after moving into place: %w", serr)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, p := range placed {
		if p.c != nil { // renamed, not deduplicated
			if serr == nil {
				p.c.durable = true
				s.fanout.settle(p.plan)
			}
			if p.c.writers--; p.c.writers == 0 {
				delete(s.committing, d)
			}
		}
		s.unpinLocked(d) // placeStaged's pin
		if serr != nil {
			errs[d] = serr
		}
	}
	for d, st := range batch {
		err := errs[d]
		if err == nil {
			delete(s.staged, d)
			delete(s.temps, st.name)
			continue
		}
		st.err = wrapNoSpace(fmt.Errorf("store: make staged blob %s durable: %w", d, err))
		s.Logger.Error().Err(st.err).Msg("a staged blob could not be made durable; " +
			"the journal keeps its bytes until a restart restores it")
	}
	close(s.stageChanged)
	s.stageChanged = make(chan struct{})
	for range batch {
		<-s.stageSlots
	}
}

// placement is what syncBatch must finish for one blob moved into place.
type placement struct {
	c    *commit // nil: an identical durable blob was there, the staged file was dropped
	plan fanoutPlan
}

// placeStaged renames a staged blob, whose bytes are durable, into place, as
// install does for a Writer; its directory entry is made durable by the
// batch's second syncfs. It pins d until the batch ends, and while it is not
// durable, a rename in progress (s.committing) keeps others from reusing it.
// If the fan-out directories could not be created or the rename failed, it
// ends the claim and fsyncs the directories it created at once.
func (s *Store) placeStaged(d Digest, st *stagedBlob) (*placement, error) {
	c, reuse := s.beginPlace(d, st.size, false)
	if reuse {
		if err := os.Remove(st.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.Logger.Warn().Err(err).Str("path", st.path).Msg("remove a staged duplicate")
		}
		return &placement{}, nil
	}
	plan, err := s.prepareFanout(d)
	if err == nil {
		err = os.Rename(st.path, filepath.Join(blobDir(s.blobs, d), d.String()))
	}
	if err != nil {
		s.mu.Lock()
		if c.writers--; c.writers == 0 {
			delete(s.committing, d)
		}
		s.unpinLocked(d)
		s.mu.Unlock()
		if ferr := s.fanout.finish(plan); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return nil, fmt.Errorf("move into %s: %w", blobDir(s.blobs, d), err)
	}
	return &placement{c: c, plan: plan}, nil
}

// syncFilesystem is syncfs(2) of the data directory's filesystem.
func (s *Store) syncFilesystem() error {
	return unix.Syncfs(int(s.lock.Fd()))
}
