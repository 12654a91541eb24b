package watcher

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// recordChunk is how many records a scan reads per short read transaction; a
// long one would hold up the state writer if the file must grow.
const recordChunk = 512

// scan reconciles the directory req.rel of a folder with its records in one merged
// pass: filepath.WalkDir visits paths in the order of the record keys. Files that
// are new or whose size, mtime or inode differ from their record, and records
// whose file is missing, are sent to found; unchanged files are not opened. Every
// directory visited gets an inotify watch before it is listed.
func (w *Watcher) scan(ctx context.Context, req scanReq, found chan<- candidate) {
	f := req.f
	if err := w.state.Flush(); err != nil {
		f.log.Error().Err(err).Msg("reconcile: write state")
	}
	send := func(rel string) bool {
		select {
		case found <- candidate{f: f, rel: rel}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if st, err := os.Stat(f.root); err != nil || !st.IsDir() {
		if !f.rootLost.Swap(true) {
			f.log.Error().Err(err).Dur("poll_interval", w.PollInterval).
				Msg("drop folder is missing; nothing is archived or deleted until it is back (checked periodically)")
		}
		return
	}
	var prefix []byte
	if req.rel != "" {
		prefix = append(recordKey(req.rel), 0)
	}
	it := &recIter{s: w.state, folder: f.id, prefix: prefix}
	var t scanTotals
	began := time.Now()
	var unreadable []string // directories that could not be listed: their records stay
	missing := func(key []byte) bool {
		rel := recordRel(key)
		for _, u := range unreadable {
			if rel == u || strings.HasPrefix(rel, u+"/") {
				return true
			}
		}
		if !f.filter.admitsPath(rel) || f.skipDir(parentRel(rel)) != "" {
			w.state.put(f.id, rel, nil) // excluded since: forget it, without on_delete
			return true
		}
		t.missing++
		return send(rel)
	}
	// drain reports the records before key as missing and returns the record of key.
	drain := func(key []byte) (*record, bool) {
		for {
			k, r, ok := it.peek()
			if !ok || bytes.Compare(k, key) > 0 {
				return nil, true
			}
			it.next()
			if bytes.Equal(k, key) {
				return r, true
			}
			if !missing(k) {
				return nil, false
			}
		}
	}
	watch := w.inotify != nil && !f.rootLost.Load()
	limited := false
	start := f.abs(req.rel)
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := f.rel(p)
		if err != nil {
			if p == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll // gone: every record below is missing
			}
			f.log.Warn().Err(err).Str("path", rel).Msg("reconcile: cannot read; its files are kept as they are and retried at the next scan")
			unreadable = append(unreadable, rel)
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p == start {
			if !d.IsDir() {
				return fs.SkipAll
			}
			if watch {
				limited = !w.watchDir(f, p) || limited
			}
			return nil
		}
		key := recordKey(rel)
		r, ok := drain(key)
		if !ok {
			return ctx.Err()
		}
		if d.IsDir() {
			if r != nil && !missing(key) {
				return ctx.Err()
			}
			if why := f.skipDir(rel); why != "" {
				if bad := f.badBucketDir(rel); bad != "" && !f.filter.dirPathExcluded(rel) {
					f.refuse(rel, bad)
					t.refused = append(t.refused, rel)
				} else {
					f.log.Debug().Str("path", rel).Str("reason", why).Msg("reconcile: directory skipped")
				}
				return fs.SkipDir
			}
			if watch {
				limited = !w.watchDir(f, p) || limited
			}
			return nil
		}
		if !d.Type().IsRegular() {
			if d.Type()&fs.ModeSymlink == 0 {
				f.log.Info().Str("path", rel).Str("type", d.Type().String()).Msg("skipped: not a regular file (socket, device or pipe)")
			} else {
				f.log.Debug().Str("path", rel).Msg("skipped: symbolic links are not followed")
			}
			if r != nil && !missing(key) {
				return ctx.Err()
			}
			return nil
		}
		if !f.filter.admits(rel) {
			if r != nil {
				w.state.put(f.id, rel, nil)
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed since it was listed; its event follows
		}
		t.files++
		t.bytes += fi.Size()
		if r != nil && r.sameFile(statOf(fi)) {
			if b, k, why := f.target(rel); why == "" && b == r.Bucket && k == r.Key {
				return nil
			}
		}
		t.changed++
		if !send(rel) {
			return ctx.Err()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		f.log.Error().Err(err).Str("path", req.rel).Msg("reconcile")
		return
	}
	if ctx.Err() != nil {
		return
	}
	for {
		k, _, ok := it.peek()
		if !ok {
			break
		}
		it.next()
		if !missing(k) {
			return
		}
	}
	if req.full && watch && !limited && f.degraded.Swap(false) {
		f.log.Info().Msg("every directory is watched again; periodic scanning stopped")
	}
	if req.full {
		seen := make(map[string]bool, len(t.refused))
		for _, d := range t.refused {
			seen[d] = true
		}
		f.keepRefused(seen)
	}
	t.log(f, req, time.Since(began))
}

// scanTotals are what one scan found.
type scanTotals struct {
	files, changed, missing int
	bytes                   int64
	refused                 []string // first-level directories that are not bucket names
}

// log writes the totals of a scan: at info for a full scan, at debug for the
// scan of one new directory.
func (t scanTotals) log(f *folder, req scanReq, took time.Duration) {
	ev := f.log.Debug().Str("dir", req.rel)
	if req.full {
		ev = f.log.Info()
	}
	ev.Int("files", t.files).Int64("bytes", t.bytes).Int("new_or_changed", t.changed).Int("missing", t.missing).
		Int("skipped_dirs", len(t.refused)).Dur("took", took).
		Msg("scan finished: new and changed files are archived once quiet")
}

// watchDir adds an inotify watch on dir and reports whether the watch limit allowed it.
func (w *Watcher) watchDir(f *folder, dir string) bool {
	err := w.addWatch(dir)
	switch {
	case err == nil:
		w.dirs.add(dir, f)
	case errors.Is(err, syscall.ENOSPC):
		if !f.degraded.Swap(true) {
			limit, _ := os.ReadFile("/proc/sys/fs/inotify/max_user_watches")
			f.log.Error().Str("dir", dir).Str("max_user_watches", strings.TrimSpace(string(limit))).
				Dur("poll_interval", w.PollInterval).
				Msg("inotify watch limit reached: this folder has more directories than fs.inotify.max_user_watches allows; " +
					"it is now scanned periodically instead; fix: sysctl -w fs.inotify.max_user_watches=524288 " +
					"(and add it to /etc/sysctl.d/ to keep it after a reboot)")
		}
		return false
	case errors.Is(err, fs.ErrNotExist):
	default:
		f.log.Warn().Err(err).Str("dir", dir).Msg("cannot watch directory; it is covered by the periodic reconcile")
	}
	return true
}

// parentRel returns the directory part of a relative path ("" at the top).
func parentRel(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

// recIter walks a folder's records in key order, a chunk per read transaction.
type recIter struct {
	s      *state
	folder string
	prefix []byte
	after  []byte // last key returned by a fill; nil before the first
	keys   [][]byte
	recs   []*record
	i      int
	done   bool
}

func (it *recIter) peek() ([]byte, *record, bool) {
	if it.i >= len(it.keys) && !it.done {
		it.fill()
	}
	if it.i >= len(it.keys) {
		return nil, nil, false
	}
	return it.keys[it.i], it.recs[it.i], true
}

func (it *recIter) next() { it.i++ }

func (it *recIter) fill() {
	it.keys, it.recs, it.i = it.keys[:0], it.recs[:0], 0
	err := it.s.view(it.folder, func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if it.after == nil {
			k, v = c.Seek(it.prefix)
		} else {
			k, v = c.Seek(it.after)
			if bytes.Equal(k, it.after) {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, it.prefix) && len(it.keys) < recordChunk; k, v = c.Next() {
			it.keys = append(it.keys, bytes.Clone(k))
			var rp *record
			if r, err := decodeRecord(v); err == nil {
				rp = &r
			} else {
				rp = &record{Size: -1} // matches no file: it is re-read once
			}
			it.recs = append(it.recs, rp)
		}
		return nil
	})
	if err != nil || len(it.keys) < recordChunk {
		it.done = true
	}
	if len(it.keys) > 0 {
		it.after = it.keys[len(it.keys)-1]
	}
}
