package watcher

import (
	"errors"
	"os"
	"time"

	"github.com/fsnotify/fsnotify"
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

func (l *loop) event(ev fsnotify.Event) {
	f, rel := l.locate(ev.Name)
	if f == nil {
		return
	}
	now := time.Now()
	if rel == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			l.rootGone(f)
		}
		return
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if l.w.dirs.has(ev.Name) {
			l.dirGone(f, rel)
			return
		}
		l.touch(f, rel, now, true)
		return
	}
	if ev.Has(fsnotify.Create) {
		if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
			if f.skipDir(rel) == "" {
				l.queueScan(scanReq{f: f, rel: rel})
			}
			return
		}
	}
	l.touch(f, rel, now, true)
}

// eventError handles an error from inotify: an overflow means events were lost,
// so every folder is scanned.
func (l *loop) eventError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
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
		l.w.fsw.Remove(p) // the kernel may have dropped it already
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
		l.w.fsw.Remove(p)
	}
	l.times[f].nextPoll = time.Now().Add(l.w.PollInterval)
	f.log.Error().Dur("poll_interval", l.w.PollInterval).
		Msg("drop folder disappeared; nothing is archived or deleted until it is back (checked periodically)")
}

// touch notes that rel may have changed: from an event (the quiet window starts
// again) or from a scan (it is checked as soon as possible).
func (l *loop) touch(f *folder, rel string, now time.Time, fromEvent bool) {
	if !f.filter.admitsPath(rel) {
		return
	}
	abs := f.abs(rel)
	p := l.pending[abs]
	if p == nil {
		p = &pending{f: f, rel: rel, abs: abs, due: now}
		l.pending[abs] = p
		l.w.stats.pending.Add(1)
	}
	if !fromEvent {
		return
	}
	p.lastEvent = now
	p.due = now.Add(f.cfg.QuietWindow)
	if p.busy {
		p.dirty = true
	}
}
