package watcher

import (
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// locate finds the folder of an absolute path.
func (l *loop) locate(p string) (*folder, string) {
	for _, f := range l.w.folders {
		if rel, ok := f.rel(p); ok {
			return f, rel
		}
	}
	return nil, ""
}

func (l *loop) event(ev event) {
	f, rel := l.locate(ev.name)
	if f == nil {
		return
	}
	now := time.Now()
	if rel == "" {
		if ev.gone() {
			l.rootGone(f)
		}
		return
	}
	if ev.gone() {
		if f.autoBuckets() && !strings.Contains(rel, "/") {
			f.forgetRefused(rel)
		}
		if l.w.dirs.has(ev.name) {
			l.dirGone(f, rel)
			return
		}
		l.write(l.touch(f, rel, now, true), false)
		return
	}
	if ev.has(unix.IN_CREATE | unix.IN_MOVED_TO) {
		st, err := os.Lstat(ev.name)
		if err == nil && st.IsDir() {
			if f.skipDir(rel) == "" {
				l.queueScan(scanReq{f: f, rel: rel})
			} else if why := f.badBucketDir(rel); why != "" && !f.filter.dirPathExcluded(rel) {
				f.refuse(rel, why)
			}
			return
		}
		// A file created empty has a writer that has not written yet (a file made
		// by link(2) has none, and waits for its next close: see doc.go); one
		// renamed into place is complete.
		creating := ev.has(unix.IN_CREATE) && err == nil && st.Mode().IsRegular() && st.Size() == 0
		l.write(l.touch(f, rel, now, true), creating)
		return
	}
	p := l.touch(f, rel, now, true)
	switch {
	case ev.has(unix.IN_CLOSE_WRITE):
		l.write(p, false)
	case ev.has(unix.IN_MODIFY):
		l.write(p, true)
	}
}

// write notes whether a writer holds p open, after touch: from its first write
// (or its creation) until it closes the file, p is not archived, whatever the
// quiet window says; from the close, the quiet window runs.
func (l *loop) write(p *pending, open bool) {
	if p == nil {
		return
	}
	p.writing = open
	if open {
		p.due = waitForClose
	} else {
		p.due = p.lastEvent.Add(p.f.cfg.QuietWindow)
	}
}

// eventError handles an error from inotify: an overflow means events were lost,
// so every folder is scanned.
func (l *loop) eventError(err error) {
	if errors.Is(err, errOverflow) {
		l.w.log.Warn().Msg("inotify event queue overflowed: events were lost, so every drop folder is scanned now; " +
			"if this repeats, raise fs.inotify.max_queued_events (sysctl -w fs.inotify.max_queued_events=65536)")
		for _, f := range l.w.folders {
			l.queueScan(scanReq{f: f, full: true})
		}
		return
	}
	l.w.log.Error().Err(err).Msg("inotify error")
}

// dirGone drops the watches of a removed or renamed-away directory and scans its
// old path, which finds the records of the files that were in it.
func (l *loop) dirGone(f *folder, rel string) {
	for _, p := range l.w.dirs.removeTree(f.abs(rel)) {
		l.w.inotify.remove(p) // the kernel may have dropped it already
	}
	// A file open for writing in the tree is now elsewhere: its writes and close
	// report the new path, so the old one must not wait for them.
	dir := f.abs(rel)
	for abs, p := range l.pending {
		if p.writing && within(abs, dir) {
			l.write(p, false)
		}
	}
	l.queueScan(scanReq{f: f, rel: rel})
}

// rootGone handles the removal of a folder itself. Its records are kept: a folder
// that vanished (an unmounted disk) must not look like every file was deleted.
func (l *loop) rootGone(f *folder) {
	if f.rootLost.Swap(true) {
		return
	}
	for _, p := range l.w.dirs.removeTree(f.root) {
		l.w.inotify.remove(p)
	}
	l.times[f].nextPoll = time.Now().Add(l.w.PollInterval)
	f.log.Error().Dur("poll_interval", l.w.PollInterval).
		Msg("drop folder disappeared; nothing is archived or deleted until it is back (checked periodically)")
}

// touch notes that rel may have changed: from an event (the quiet window starts
// again) or from a scan (it is checked as soon as possible). It returns the
// pending file, or nil when rel is not archived.
func (l *loop) touch(f *folder, rel string, now time.Time, fromEvent bool) *pending {
	if !f.filter.admitsPath(rel) {
		return nil
	}
	abs := f.abs(rel)
	p := l.pending[abs]
	if p == nil {
		p = &pending{f: f, rel: rel, abs: abs, due: now}
		l.pending[abs] = p
		l.w.stats.pending.Add(1)
	}
	if !fromEvent {
		return p
	}
	p.lastEvent = now
	p.due = now.Add(f.cfg.QuietWindow)
	if p.writing {
		p.due = waitForClose
	}
	if p.busy {
		p.dirty = true
	}
	return p
}
