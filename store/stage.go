package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stagingDirName is the directory under tmp/ that holds staged blobs, in
// stagingDirs subdirectories. Open removes it with everything else in tmp/:
// the journal's replay restores what a crash took from it.
const (
	stagingDirName = "staged"
	stagingDirs    = 256
)

// Staged blobs. A PUT of a small object used to wait for three fsyncs in turn:
// the blob's file, its directory, and the journal entry naming it. When the
// journal entry itself carries the blob's bytes (queue.Node.PutObjectInline),
// the journal's fsync alone makes the object durable, and the blob's own two
// can happen behind the caller's back:
//
//   - Stage writes the blob to a file in tmp/staged/, without fsync, and
//     returns it pinned and readable (OpenBlob serves that file).
//   - Later, in a batch (stagebatch.go), a syncfs makes it durable, it is
//     renamed into place, and a second syncfs makes the rename durable. Only
//     then does it count as stored, so everything in blobs/ is durable, and
//     dedup never reuses a blob a crash could take away.
//   - SyncStaged starts a batch and returns once every blob staged before it
//     is durable; the journal calls it before each fsm.db commit, so that no
//     journal entry whose blob might be lost is ever skipped on replay.
//   - Batches, rather than a sync per blob as soon as it is staged, matter on
//     ext4 (data=ordered): every journal commit there writes the data of the
//     files whose blocks it allocates, so a blob fsync running beside the
//     raft log's fsync makes the log's fsync, which a PUT waits for, slower.
//     A batch every few hundred milliseconds leaves the log's fsyncs alone
//     in between, and costs two journal commits however many blobs it has.
//   - After a crash the journal's replay calls Restore with the bytes it
//     carries, which writes each missing blob durably. Open removes the
//     staged files a crash leaves behind, with the rest of tmp/.

// DefaultMaxStaged bounds the blobs staged and not yet durable: Stage waits
// for a slot beyond it, so that a disk slower than the callers turns into
// back-pressure, not into a growing backlog. A batch starts by itself once
// half of them wait, whether or not SyncStaged is called.
const DefaultMaxStaged = 2048

// stagedBlob is a blob written but not yet durable.
type stagedBlob struct {
	path    string // its file; after the syncer's rename it no longer exists
	name    string // the file's base name, registered in Store.temps
	size    int64
	seq     uint64 // Store.stageSeq when it was staged
	syncing bool   // a syncer owns it
	err     error  // the syncer's failure; the blob then stays staged
}

// Stage stores data as a blob that is readable at once and durable later, for
// a caller that keeps data durably elsewhere until SyncStaged returns (the
// journal entry that names the blob). It returns the blob pinned, as Put
// does, and staged = true; staged is false when an identical blob was durable
// already, and then the caller need not keep data. want, if not nil, is the
// SHA-256 the caller expects: content that hashes to anything else gives a
// *DigestMismatchError and stores nothing.
func (s *Store) Stage(ctx context.Context, data []byte, want *Digest) (b Blob, staged bool, err error) {
	b = Blob{Digest: sha256.Sum256(data), MD5: md5.Sum(data), Size: int64(len(data))}
	if want != nil && *want != b.Digest {
		return Blob{}, false, &DigestMismatchError{Got: b.Digest, Want: *want}
	}
	if staged, ok, err := s.pinExisting(b); ok || err != nil {
		return b, staged, err
	}
	select {
	case s.stageSlots <- struct{}{}:
	case <-ctx.Done():
		return Blob{}, false, fmt.Errorf("store: stage blob %s: wait for the disk: %w", b.Digest, ctx.Err())
	case <-s.closed:
		return Blob{}, false, fmt.Errorf("store: stage blob %s: %w", b.Digest, ErrClosed)
	}
	st, err := s.writeStaged(ctx, b.Digest, data)
	if err != nil {
		<-s.stageSlots
		return Blob{}, false, fmt.Errorf("store: stage blob %s: %w", b.Digest, err)
	}
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		s.dropStaged(st)
		<-s.stageSlots
		return Blob{}, false, fmt.Errorf("store: stage blob %s: %w", b.Digest, ErrClosed)
	}
	if _, raced := s.staged[b.Digest]; raced {
		// Another caller staged the same content meanwhile: share its file.
		s.pinLocked(b.Digest)
		s.mu.Unlock()
		s.dropStaged(st)
		<-s.stageSlots
		return b, true, nil
	}
	s.stageSeq++
	st.seq = s.stageSeq
	st.size = b.Size
	s.staged[b.Digest] = st
	s.pinLocked(b.Digest)
	if s.stageWaiting++; s.stageWaiting >= s.MaxStaged/2 {
		s.startSyncsLocked()
	}
	s.mu.Unlock()
	return b, true, nil
}

// startSyncsLocked hands every staged blob that no batch owns yet to a new
// batch (stagebatch.go). s.mu is held.
func (s *Store) startSyncsLocked() {
	batch := make(map[Digest]*stagedBlob)
	for d, st := range s.staged {
		if !st.syncing {
			st.syncing = true
			batch[d] = st
		}
	}
	s.stageWaiting = 0
	if len(batch) > 0 {
		s.syncers.Add(1)
		go s.syncBatch(batch)
	}
}

// pinExisting pins b if it is staged already or stored durably. ok reports
// whether it did; staged whether the blob is still only staged.
func (s *Store) pinExisting(b Blob) (staged, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return false, false, fmt.Errorf("store: stage blob %s: %w", b.Digest, ErrClosed)
	}
	if st := s.staged[b.Digest]; st != nil {
		if st.err != nil {
			return false, false, fmt.Errorf("store: stage blob %s: an earlier copy could not be made durable: %w",
				b.Digest, st.err)
		}
		s.pinLocked(b.Digest)
		return true, true, nil
	}
	if found, _ := s.durableLocked(b.Digest, b.Size); !found {
		return false, false, nil // missing or damaged: stage a fresh copy
	}
	s.pinLocked(b.Digest)
	return false, true, nil
}

// writeStaged writes data to a new file in one of the staging directories
// (tmp/staged/00 to tmp/staged/ff, by the blob's first byte), read-only like a committed
// blob, without fsync. Many directories, not tmp/ alone: thousands of small
// files created in one directory contend for its lock (18,000 creates/s at
// 105 µs of CPU each in one directory, 42,700/s at 44 µs over 16).
func (s *Store) writeStaged(ctx context.Context, d Digest, data []byte) (*stagedBlob, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := newTempName()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	s.temps[name] = struct{}{}
	s.mu.Unlock()
	st := &stagedBlob{path: filepath.Join(s.tmp, stagingDir(d), name), name: name}
	f, err := os.OpenFile(st.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, blobMode)
	if err != nil {
		s.dropStaged(st)
		return nil, wrapNoSpace(fmt.Errorf("create %s: %w", st.path, err))
	}
	_, werr := s.fileWrite(f, data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		s.dropStaged(st)
		return nil, wrapNoSpace(fmt.Errorf("write %s: %w", st.path, werr))
	}
	return st, nil
}

// stagingDir names the directory under tmp/ where d is staged.
func stagingDir(d Digest) string {
	return filepath.Join(stagingDirName, hex.EncodeToString(d[:1]))
}

// makeStagingDirs creates the staging directories. They need no fsync: what
// they hold never outlives a crash.
func makeStagingDirs(root string) error {
	if err := os.Mkdir(root, dirMode); err != nil {
		return err
	}
	for i := range stagingDirs {
		if err := os.Mkdir(filepath.Join(root, hex.EncodeToString([]byte{byte(i)})), dirMode); err != nil {
			return err
		}
	}
	return nil
}

// dropStaged removes a staged file that never became visible.
func (s *Store) dropStaged(st *stagedBlob) {
	if err := os.Remove(st.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.Logger.Warn().Err(err).Str("path", st.path).Msg("remove unused staged file")
	}
	s.releaseTemp(st.name)
}

// SyncStaged returns once every blob staged before the call is durable and in
// place, or with the error that kept one of them from becoming so.
func (s *Store) SyncStaged(ctx context.Context) error {
	s.mu.Lock()
	s.startSyncsLocked()
	target := s.stageSeq
	for {
		var failed error
		waiting := false
		for d, st := range s.staged {
			if st.seq > target {
				continue
			}
			if st.err != nil {
				failed = fmt.Errorf("store: sync staged blob %s: %w", d, st.err)
				break
			}
			waiting = true
		}
		changed := s.stageChanged
		s.mu.Unlock()
		if failed != nil || !waiting {
			return failed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("store: sync staged blobs: %w", ctx.Err())
		}
		s.mu.Lock()
	}
}

// Restore makes sure that blob d exists with the content data, as replaying a
// journal entry that carries a staged blob's bytes requires. A blob staged in
// this run, or stored durably, is left as it is (that is the normal case, and
// cheap); one that is missing, such as a blob staged just before a crash,
// is written durably from data. data that does not hash to d is refused.
func (s *Store) Restore(ctx context.Context, d Digest, data []byte) error {
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return fmt.Errorf("store: restore blob %s: %w", d, ErrClosed)
	}
	st := s.staged[d]
	found, _ := s.durableLocked(d, int64(len(data)))
	s.mu.Unlock()
	if found || st != nil && st.err == nil {
		return nil
	}
	b, err := s.PutVerified(ctx, bytes.NewReader(data), d)
	if err != nil {
		return fmt.Errorf("store: restore blob %s from the journal: %w", d, err)
	}
	s.Unpin(b.Digest)
	s.Logger.Info().Str("digest", d.String()).Int64("size", b.Size).
		Msg("restored a blob that was staged before a restart from the journal")
	return nil
}

// stagedPath returns the file of a staged blob, or "" if d is not staged.
func (s *Store) stagedPath(d Digest) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.staged[d]; st != nil {
		return st.path
	}
	return ""
}

func (s *Store) pinLocked(d Digest) {
	s.pins[d]++
	if s.collecting > 0 {
		s.touched[d] = struct{}{}
	}
}

func (s *Store) unpinLocked(d Digest) {
	if s.pins[d] <= 1 {
		delete(s.pins, d)
	} else {
		s.pins[d]--
	}
}
