package watcher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	// Aliased: the package's tests have a type named archive.
	ipasarchive "github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// errChanged means the file changed while it was being read.
var errChanged = errors.New("file changed while it was read")

var _ Blobs = (*ipasarchive.Archive)(nil)

// check decides what to do with one file and does it: wait for it to be quiet,
// archive it, or apply on_delete to a file that is gone.
func (w *Watcher) check(ctx context.Context, j job) result {
	f := j.f
	log := f.log.With().Str("path", j.rel).Logger()
	fi, err := os.Lstat(j.abs)
	if errors.Is(err, fs.ErrNotExist) {
		return w.gone(ctx, j)
	}
	if err != nil {
		return w.fail(j, "stat", err)
	}
	st := statOf(fi)
	switch {
	case fi.IsDir():
		return w.gone(ctx, j) // a directory now: its files have their own events

	case fi.Mode()&fs.ModeSymlink != 0:
		log.Info().Msg("skipped: symbolic links are not followed")
		w.stats.skipped.Add(1)
		return w.gone(ctx, j)
	case !fi.Mode().IsRegular():
		log.Warn().Str("type", fi.Mode().Type().String()).Msg("skipped: not a regular file (socket, device or pipe)")
		w.stats.skipped.Add(1)
		return w.gone(ctx, j)
	}
	bucket, key, why := f.target(j.rel)
	if why != "" {
		log.Warn().Msg("skipped: " + why)
		w.stats.skipped.Add(1)
		return result{p: j.p, out: outDone}
	}
	rec, err := w.state.get(f.id, j.rel)
	if err != nil {
		return w.fail(j, "read state", err)
	}
	if rec != nil && rec.sameFile(st) && rec.Bucket == bucket && rec.Key == key {
		return result{p: j.p, out: outDone} // unchanged since it was archived
	}
	now := time.Now()
	if !quiet(j, st, now) {
		next := st.mtime().Add(f.cfg.QuietWindow)
		if !next.After(now) || next.After(now.Add(f.cfg.QuietWindow)) {
			next = now.Add(f.cfg.QuietWindow)
		}
		return result{p: j.p, out: outNotQuiet, snap: st, at: now, next: next}
	}
	return w.ingest(ctx, j, st, rec, bucket, key)
}

// quiet reports whether a file has held still for the window: no event for the
// window, and either its mtime is at least that old or it had the same size and
// mtime at a check at least that long ago (for mtimes in the future).
func quiet(j job, st fileStat, now time.Time) bool {
	win := j.f.cfg.QuietWindow
	if !j.lastEvent.IsZero() && now.Sub(j.lastEvent) < win {
		return false
	}
	if now.Sub(st.mtime()) >= win {
		return true
	}
	return j.hasSnap && j.snap.sameContent(st) && now.Sub(j.snapAt) >= win
}

// ingest streams the file into the store and journals it.
func (w *Watcher) ingest(ctx context.Context, j job, st fileStat, rec *record, bucket, key string) result {
	f := j.f
	file, err := w.openFile(j.abs)
	if errors.Is(err, fs.ErrNotExist) {
		return w.gone(ctx, j)
	}
	if errors.Is(err, errWriterOpen) {
		return w.writerOpen(j)
	}
	if err != nil {
		return w.fail(j, "open", err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return w.fail(j, "stat", err)
	}
	if got := statOf(fi); !got.sameContent(st) || !fi.Mode().IsRegular() {
		return result{p: j.p, out: outNotQuiet, snap: got, at: time.Now(), next: time.Now().Add(f.cfg.QuietWindow)}
	}
	if err := w.ensureBucket(ctx, f, bucket); err != nil {
		return w.fail(j, "create bucket "+bucket, err)
	}
	blob, err := w.blobs.Put(ctx, &fileReader{ctx: ctx, f: file, want: st, read: &w.stats.bytesRead})
	if errors.Is(err, errChanged) {
		f.log.Debug().Str("path", j.rel).Msg("changed while it was read; waiting for it to be quiet again")
		now := time.Now()
		return result{p: j.p, out: outNotQuiet, at: now, next: now.Add(f.cfg.QuietWindow)}
	}
	if err != nil {
		return w.fail(j, "store", err)
	}
	defer w.blobs.Unpin(blob.Digest)
	// A file renamed over this path meanwhile has its own events; what was read is
	// the old file, which the new one supersedes.
	if fi, err := os.Lstat(j.abs); err != nil || statOf(fi).ino != st.ino {
		now := time.Now()
		return result{p: j.p, out: outNotQuiet, at: now, next: now}
	}
	digest := blob.Digest.String()
	r := &record{Size: st.size, MtimeNs: st.mtimeNs, Ino: st.ino, SHA256: blob.Digest, Bucket: bucket, Key: key}
	newVersion := true
	if cur, err := w.index.Object(bucket, key); err == nil && cur.Blob == digest {
		// Same content as the current object: a touched file, or a record lost in a crash.
		r.VersionID, newVersion = cur.VersionID, false
	} else {
		obj := ipasarchive.NewObject(bucket, key, blob, time.Now())
		obj.ContentType = contentType(key)
		obj.Metadata = map[string]string{"x-amz-meta-mtime": strconv.FormatInt(st.mtime().Unix(), 10)}
		r.VersionID = obj.VersionID
		if err := w.index.PutObject(ctx, obj); err != nil {
			if errors.Is(err, queue.ErrNoSuchBucket) {
				f.buckets.Delete(bucket) // deleted through S3: created again at the retry
			}
			return w.fail(j, "journal", err)
		}
	}
	if newVersion {
		w.stats.versions.Add(1)
	} else {
		w.stats.unchanged.Add(1)
	}
	if j.failures > 0 {
		f.log.Info().Str("path", j.rel).Msg("archived after earlier failures")
	}
	w.state.put(f.id, j.rel, r)
	w.logArchived(j, bucket, key, blob.Size, newVersion)
	if w.OnIngest != nil {
		w.OnIngest(Ingested{Path: j.abs, Bucket: bucket, Key: key, VersionID: r.VersionID, Size: blob.Size,
			NewVersion: newVersion, Committed: time.Now()})
	}
	w.afterIngest(j, st, r.VersionID)
	return result{p: j.p, out: outDone}
}

// openForIngest opens a file for reading without following a symbolic link and
// without blocking on a pipe that replaced it since it was checked.
func openForIngest(p string) (*os.File, error) {
	return os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}

// afterIngest deletes or moves the archived file when the folder says so. The
// record goes first, so that the removal is not mistaken for a user's delete.
func (w *Watcher) afterIngest(j job, st fileStat, versionID string) {
	f := j.f
	if f.cfg.AfterIngest == AfterIngestKeep {
		return
	}
	w.state.put(f.id, j.rel, nil)
	if fi, err := os.Lstat(j.abs); err != nil || !statOf(fi).sameContent(st) {
		return // changed since it was read: it will be archived again first
	}
	var err error
	switch f.cfg.AfterIngest {
	case AfterIngestDelete:
		err = os.Remove(j.abs)
	case AfterIngestMove:
		err = moveNoReplace(j.abs, filepath.Join(f.cfg.DoneDir, filepath.FromSlash(j.rel)), versionID)
	}
	if err != nil {
		f.log.Error().Err(err).Str("path", j.rel).Str("after_ingest", f.cfg.AfterIngest).
			Msg("archived, but could not remove the file from the drop folder")
	}
}

// moveNoReplace renames src to dst, never over an existing file: an existing
// name gets the version ID appended.
func moveNoReplace(src, dst, versionID string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EEXIST) {
		err = unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst+"."+versionID, unix.RENAME_NOREPLACE)
	}
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", src, dst, err)
	}
	return nil
}

// gone handles a file that no longer exists (or is no longer a regular file):
// its record is dropped and, with on_delete: delete, its object is deleted if it
// is still the version this folder archived.
func (w *Watcher) gone(ctx context.Context, j job) result {
	f := j.f
	rec, err := w.state.get(f.id, j.rel)
	if err != nil {
		return w.fail(j, "read state", err)
	}
	if rec == nil {
		return result{p: j.p, out: outDone}
	}
	if _, err := os.Stat(f.root); err != nil {
		// The whole folder is gone (an unmounted disk?): never treat that as deletes.
		return result{p: j.p, out: outDone}
	}
	if f.cfg.OnDelete == OnDeleteDelete {
		cur, err := w.index.Object(rec.Bucket, rec.Key)
		if err == nil && cur.VersionID == rec.VersionID {
			if err := w.index.DeleteObject(ctx, rec.Bucket, rec.Key, queue.NewVersionID(time.Now())); err != nil {
				return w.fail(j, "delete object", err)
			}
			w.stats.deleted.Add(1)
		} else if err != nil && !errors.Is(err, queue.ErrNoSuchKey) && !errors.Is(err, queue.ErrNoSuchBucket) {
			return w.fail(j, "read index", err)
		}
	}
	w.state.put(f.id, j.rel, nil)
	return result{p: j.p, out: outDone}
}

// fail reports a failed attempt: the first one of a file at warn level, repeats at
// debug, and asks for a retry.
func (w *Watcher) fail(j job, op string, err error) result {
	w.stats.errors.Add(1)
	ev := j.f.log.Debug()
	if j.failures == 0 {
		ev = j.f.log.Warn()
	}
	if errors.Is(err, store.ErrNoSpace) {
		ev = j.f.log.Error()
	}
	ev.Err(err).Str("path", j.rel).Str("op", op).Dur("retry_in", w.RetryInterval).Msg("could not archive; will retry")
	return result{p: j.p, out: outRetry}
}

// ensureBucket creates bucket once per run.
func (w *Watcher) ensureBucket(ctx context.Context, f *folder, bucket string) error {
	if _, ok := f.buckets.Load(bucket); ok {
		return nil
	}
	if err := f.createBucket(ctx, w.index, bucket); err != nil {
		return err
	}
	f.buckets.Store(bucket, struct{}{})
	return nil
}

// fileReader reads a file that must match want throughout: it reads no more than
// want.size bytes (plus one, to notice growth) and, at the end, re-stats the open
// file; any difference is errChanged, which makes the store discard the blob.
type fileReader struct {
	ctx  context.Context
	f    *os.File
	want fileStat
	n    int64
	read *atomic.Int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if left := r.want.size - r.n + 1; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.f.Read(p)
	r.n += int64(n)
	r.read.Add(int64(n))
	if r.n > r.want.size {
		return n, errChanged
	}
	if err == io.EOF {
		if r.n != r.want.size {
			return n, errChanged
		}
		fi, serr := r.f.Stat()
		if serr != nil {
			return n, serr
		}
		if !statOf(fi).sameContent(r.want) {
			return n, errChanged
		}
	}
	return n, err
}
