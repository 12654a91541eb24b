package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// errFinished is returned by a Writer used after Commit or Abort.
var errFinished = errors.New("store: writer already committed or aborted")

// Writer streams one blob into a temp file while hashing it. Write and Commit must be
// called from one goroutine; the caller may tee the same bytes into its own checksums
// and then decide to Commit or Abort.
type Writer struct {
	s    *Store
	f    *os.File
	path string // temp file
	name string // its base name, registered in Store.temps
	sha  hash.Hash
	md5  hash.Hash
	size int64
	// written is the file offset reached by the write stage (owned by it).
	written int64
	flushed int64 // offset up to which writeback was started

	cur       *chunk
	allocated int
	free      chan *chunk
	stages    []chan *chunk
	wg        sync.WaitGroup

	errMu sync.Mutex
	err   error // first error of the write stage

	want     *Digest // PutVerified: the digest the content must have
	wantMD5  []byte  // PutExpected: the MD5 the content must have
	replace  bool    // Repair: replace the file in place, even one of the right size
	finished bool
}

var _ io.Writer = (*Writer)(nil)
var _ io.ReaderFrom = (*Writer)(nil)

// Create starts a new blob. The caller must end it with Commit or Abort.
func (s *Store) Create(ctx context.Context) (*Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: create blob: %w", err)
	}
	name, err := newTempName()
	if err != nil {
		return nil, fmt.Errorf("store: create blob: %w", err)
	}
	// Register the name before the file exists so that Collect can never see the file
	// without also seeing that a Writer owns it.
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return nil, fmt.Errorf("store: create blob: %w", ErrClosed)
	}
	s.temps[name] = struct{}{}
	s.mu.Unlock()

	path := filepath.Join(s.tmp, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, tempMode)
	if err != nil {
		s.releaseTemp(name)
		return nil, wrapNoSpace(fmt.Errorf("store: create temp file %s: %w", path, err))
	}
	return &Writer{s: s, f: f, path: path, name: name, sha: sha256.New(), md5: md5.New()}, nil
}

// Write copies p into the writer's buffers; hashing and writing happen behind it.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	n := 0
	for len(p) > 0 {
		if w.cur == nil {
			w.cur = w.nextChunk()
		}
		k := copy(w.cur.buf[w.cur.n:], p)
		w.cur.n += k
		p = p[k:]
		n += k
		w.size += int64(k)
		if w.cur.n == len(w.cur.buf) {
			w.dispatch(w.cur)
			w.cur = nil
			if err := w.loadErr(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom reads r to EOF straight into the writer's buffers, saving the copy Write
// makes. io.Copy uses it.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	return w.readFrom(context.Background(), r)
}

func (w *Writer) readFrom(ctx context.Context, r io.Reader) (int64, error) {
	var total int64
	for {
		if err := w.check(); err != nil {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: put: %w", err)
		}
		if w.cur == nil {
			w.cur = w.nextChunk()
		}
		n, err := r.Read(w.cur.buf[w.cur.n:])
		w.cur.n += n
		w.size += int64(n)
		total += int64(n)
		if w.cur.n == len(w.cur.buf) {
			w.dispatch(w.cur)
			w.cur = nil
		}
		if err == io.EOF {
			return total, w.loadErr()
		}
		if err != nil {
			return total, fmt.Errorf("store: read input: %w", err)
		}
	}
}

// Size returns the number of bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// Commit makes the blob durable and visible: fsync the file, rename it into place (or
// drop it when an identical blob exists), fsync the directory. The digest stays pinned
// against Collect until the caller calls Unpin. On error the temp file is removed.
func (w *Writer) Commit(ctx context.Context) (Blob, error) {
	if w.finished {
		return Blob{}, errFinished
	}
	if err := ctx.Err(); err != nil {
		w.abort()
		return Blob{}, fmt.Errorf("store: commit blob: %w", err)
	}
	b, err := w.commit()
	if err != nil {
		w.abort()
		return Blob{}, err
	}
	w.finished = true
	w.s.releaseTemp(w.name)
	return b, nil
}

func (w *Writer) commit() (Blob, error) {
	w.drain(true)
	if err := w.loadErr(); err != nil {
		return Blob{}, err
	}
	var b Blob
	w.sha.Sum(b.Digest[:0])
	w.md5.Sum(b.MD5[:0])
	b.Size = w.size
	if w.want != nil && *w.want != b.Digest {
		return Blob{}, &DigestMismatchError{Got: b.Digest, Want: *w.want}
	}
	if w.wantMD5 != nil && !bytes.Equal(w.wantMD5, b.MD5[:]) {
		return Blob{}, fmt.Errorf("store: content has MD5 %x, expected %x: %w", b.MD5, w.wantMD5, ErrMD5Mismatch)
	}
	// chmod before the fsync so that the mode is as durable as the bytes.
	if err := w.f.Chmod(blobMode); err != nil {
		return Blob{}, fmt.Errorf("store: commit blob %s: chmod %s: %w", b.Digest, w.path, err)
	}
	err := w.s.install(w.path, b, w.replace, w.syncTemp)
	if w.f != nil { // an identical blob was there: this one was never synced
		w.f.Close()
		w.f = nil
	}
	if err != nil {
		return Blob{}, wrapNoSpace(fmt.Errorf("store: commit blob %s: %w", b.Digest, err))
	}
	return b, nil
}

// syncTemp makes the temp file's bytes and mode durable and closes it.
func (w *Writer) syncTemp() error {
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", w.path, err)
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", w.path, err)
	}
	return nil
}

// Abort discards the blob and removes its temp file. It is a no-op after Commit.
func (w *Writer) Abort() error {
	if w.finished {
		return nil
	}
	return w.abort()
}

func (w *Writer) abort() error {
	w.finished = true
	w.drain(false)
	var errs []error
	if w.f != nil {
		errs = append(errs, w.f.Close())
		w.f = nil
	}
	if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("store: abort blob: %w", err))
	}
	w.s.releaseTemp(w.name)
	return errors.Join(errs...)
}

func (w *Writer) check() error {
	if w.finished {
		return errFinished
	}
	return w.loadErr()
}

func (w *Writer) loadErr() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *Writer) setErr(err error) {
	w.errMu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.errMu.Unlock()
}

// Put stores everything r yields as one blob and returns it pinned: call Unpin once a
// reference to it is journaled. Cancelling ctx stops the copy and removes the temp file.
func (s *Store) Put(ctx context.Context, r io.Reader) (Blob, error) {
	w, err := s.Create(ctx)
	if err != nil {
		return Blob{}, err
	}
	if _, err := w.readFrom(ctx, r); err != nil {
		w.abort()
		return Blob{}, err
	}
	return w.Commit(ctx)
}

// PutVerified is Put for content whose SHA-256 the caller already knows, such as
// a request body whose hash the client signed: the store's own hash, computed
// anyway for the blob's address, checks it, so that the caller need not hash the
// same bytes a second time. Content that hashes to anything else gives
// ErrDigestMismatch and leaves nothing behind, without an fsync.
func (s *Store) PutVerified(ctx context.Context, r io.Reader, want Digest) (Blob, error) {
	return s.PutExpected(ctx, r, Expected{SHA256: &want})
}

// Expected is what a blob's content must hash to by its writer's claims: a
// signed SHA-256, a Content-MD5. The store computes both hashes of every blob,
// so checking them costs no pass over the bytes.
type Expected struct {
	SHA256 *Digest // nil: any; a mismatch is a *DigestMismatchError
	MD5    []byte  // nil: any; a mismatch is ErrMD5Mismatch
}

// PutExpected is Put for content that must hash to e. Content that does not
// leaves nothing behind, without an fsync: the error comes before the blob is
// made durable.
func (s *Store) PutExpected(ctx context.Context, r io.Reader, e Expected) (Blob, error) {
	w, err := s.Create(ctx)
	if err != nil {
		return Blob{}, err
	}
	w.want, w.wantMD5 = e.SHA256, e.MD5
	if _, err := w.readFrom(ctx, r); err != nil {
		w.abort()
		return Blob{}, err
	}
	return w.Commit(ctx)
}

// install moves a temp file to its address, calling syncTemp first unless an
// identical durable blob is there already (then the temp file is dropped unsynced:
// its bytes are not needed). Pinning and the rename-or-dedup decision happen in one
// critical section, which is what keeps Collect from deleting a blob that a Commit
// has just decided to reuse.
func (s *Store) install(tmp string, b Blob, replace bool, syncTemp func() error) error {
	d := b.Digest
	c, reuse := s.beginPlace(d, b.Size, replace)
	if reuse {
		if err := os.Remove(tmp); err != nil {
			// The blob is safe; the temp file is an orphan Collect will remove.
			s.Logger.Warn().Err(err).Str("path", tmp).Msg("remove duplicate temp file")
		}
		return nil
	}
	err := s.place(tmp, d, syncTemp)
	s.mu.Lock()
	if err == nil {
		c.durable = true
	}
	if c.writers--; c.writers == 0 {
		delete(s.committing, d)
	}
	if err != nil {
		if s.pins[d]--; s.pins[d] == 0 {
			delete(s.pins, d)
		}
	}
	s.mu.Unlock()
	return err
}

// beginPlace pins d and, in the same critical section (what keeps Collect from
// deleting a blob just chosen for reuse), decides whether an identical durable
// blob is in place already (reuse; never with replace, for a file known to be
// corrupt) or a rename of d into place begins: the returned commit counts it
// until the caller ends it.
func (s *Store) beginPlace(d Digest, size int64, replace bool) (c *commit, reuse bool) {
	dst := blobPath(s.blobs, d)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pinLocked(d)
	switch found, info := s.durableLocked(d, size); {
	case found && !replace:
		return nil, true
	case info != nil && !replace:
		s.Logger.Warn().Str("path", dst).Int64("size", info.Size()).Int64("want", size).
			Msg("replacing a damaged blob with freshly written content")
	}
	c = s.committing[d]
	if c == nil {
		c = &commit{}
		s.committing[d] = c
	}
	c.writers++
	return c, false
}

// durableLocked reports whether a durable blob d of size bytes is in place.
// One that exists and has no first rename in flight finished its directory
// fsync (in this run, or before Open's syncfs), so it is durable. info is
// what is at d's path when that is something else (a damaged blob); s.mu is
// held.
func (s *Store) durableLocked(d Digest, size int64) (found bool, info fs.FileInfo) {
	if c := s.committing[d]; c != nil && !c.durable {
		return false, nil
	}
	info, err := os.Lstat(blobPath(s.blobs, d))
	if err != nil {
		return false, nil
	}
	return info.Mode().IsRegular() && info.Size() == size, info
}

// place creates the fan-out directories, syncs the temp file, renames it into
// place and fsyncs the directories whose entries changed. The mkdirs come before
// the file's fsync and the directory fsyncs after the rename, so that on a
// journaling filesystem a new blob costs two journal commits, not four.
func (s *Store) place(tmp string, d Digest, syncTemp func() error) error {
	dir := blobDir(s.blobs, d)
	plan, err := s.prepareFanout(d)
	if err == nil {
		err = syncTemp()
	} else {
		err = fmt.Errorf("create directory %s: %w", dir, err)
	}
	if err == nil {
		if err = os.Rename(tmp, filepath.Join(dir, d.String())); err != nil {
			err = fmt.Errorf("rename into %s: %w", dir, err)
		}
	}
	if err == nil {
		if err = syncDir(dir); err != nil {
			err = fmt.Errorf("fsync %s: %w", dir, err)
		}
	}
	if ferr := s.fanout.finish(plan); ferr != nil && err == nil {
		err = fmt.Errorf("fsync the parent of %s: %w", dir, ferr)
	}
	return err
}

func (s *Store) releaseTemp(name string) {
	s.mu.Lock()
	delete(s.temps, name)
	s.mu.Unlock()
}
