package watcher

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"
)

// Tick bounds: the loop checks due files every tick, a quarter of the shortest quiet
// window within these bounds, so the tick adds at most maxTick to a file's latency.
const (
	minTick = 10 * time.Millisecond
	maxTick = 250 * time.Millisecond
)

// pending is a file the loop is waiting on: to become quiet, to be retried, or to
// be checked after a removal. Only the loop goroutine touches its fields, except
// dirty.
type pending struct {
	f         *folder
	rel, abs  string
	lastEvent time.Time // zero when found by a scan
	due       time.Time
	snap      fileStat
	snapAt    time.Time
	hasSnap   bool
	failures  int
	queued    bool // in the ready list
	busy      bool // a worker has it
	dirty     bool // an event arrived while busy: check again afterwards
	writing   bool // written to (or created empty) and not closed since
}

// waitForClose is the due time of a file whose writer still holds it open: the
// close-write event sets a real one.
var waitForClose = time.Unix(1<<40, 0)

// job is the worker's copy of a pending file.
type job struct {
	p         *pending
	f         *folder
	rel, abs  string
	lastEvent time.Time
	snap      fileStat
	snapAt    time.Time
	hasSnap   bool
	failures  int
}

type outcome int

const (
	outDone     outcome = iota // archived, unchanged, skipped or gone
	outNotQuiet                // look again at next
	outRetry                   // failed; try again after RetryInterval
)

type result struct {
	p    *pending
	out  outcome
	snap fileStat
	at   time.Time
	next time.Time
}

// scanReq asks the scanner to reconcile the directory rel of f ("" is all of it).
type scanReq struct {
	f    *folder
	rel  string
	full bool
	done []chan struct{}
}

// candidate is a path a scan found changed, new or missing.
type candidate struct {
	f   *folder
	rel string
}

// folderTimes is the loop's schedule of periodic scans.
type folderTimes struct {
	nextReconcile time.Time
	nextPoll      time.Time
}

type loop struct {
	w       *Watcher
	pending map[string]*pending
	ready   []*pending
	scans   []scanReq
	busy    int // scans running (0 or 1)
	times   map[*folder]*folderTimes
	waiters []chan struct{}
	window  map[*folder]time.Duration

	jobs    chan job
	results chan result
	scanCh  chan scanReq
	scanned chan scanReq
	found   chan candidate
}

// Run watches and archives until ctx is cancelled; in-flight ingests are abandoned
// (their files are re-read at the next start). Call it once, after Open.
func (w *Watcher) Run(ctx context.Context) error {
	started := false
	w.runOnce.Do(func() { started = true })
	if !started {
		return errors.New("watcher: run: already started")
	}
	l := &loop{
		w:       w,
		pending: make(map[string]*pending),
		times:   make(map[*folder]*folderTimes),
		jobs:    make(chan job),
		results: make(chan result),
		scanCh:  make(chan scanReq),
		scanned: make(chan scanReq),
		found:   make(chan candidate, 256),
	}
	tick := maxTick
	now := time.Now()
	for _, f := range w.folders {
		if t := f.cfg.QuietWindow / 4; t < tick {
			tick = max(t, minTick)
		}
		l.times[f] = &folderTimes{nextReconcile: now.Add(f.cfg.ReconcileInterval), nextPoll: now.Add(w.PollInterval)}
		l.scans = append(l.scans, scanReq{f: f, full: true})
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range w.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range l.jobs {
				r := w.check(wctx, j)
				select {
				case l.results <- r:
				case <-wctx.Done():
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for req := range l.scanCh {
			w.scan(wctx, req, l.found)
			select {
			case l.scanned <- req:
			case <-wctx.Done():
			}
		}
	}()
	err := l.run(ctx, tick)
	cancel()
	close(l.jobs)
	close(l.scanCh)
	wg.Wait()
	return err
}

func (l *loop) run(ctx context.Context, tick time.Duration) error {
	var events <-chan event
	var errs <-chan error
	if l.w.inotify != nil {
		events, errs = l.w.inotify.events, l.w.inotify.errors
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		var jobs chan job
		var next job
		for len(l.ready) > 0 && jobs == nil {
			p := l.ready[0]
			if p.busy || time.Now().Before(p.due) || l.pending[p.abs] != p {
				p.queued = false
				l.ready = l.ready[1:]
				continue
			}
			jobs, next = l.jobs, job{p: p, f: p.f, rel: p.rel, abs: p.abs, lastEvent: p.lastEvent,
				snap: p.snap, snapAt: p.snapAt, hasSnap: p.hasSnap, failures: p.failures}
		}
		var scanCh chan scanReq
		var nextScan scanReq
		if len(l.scans) > 0 && l.busy == 0 {
			scanCh, nextScan = l.scanCh, l.scans[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			l.event(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			l.eventError(err)
		case jobs <- next:
			p := next.p
			p.queued, p.busy = false, true
			l.ready = l.ready[1:]
		case r := <-l.results:
			l.result(r)
		case scanCh <- nextScan:
			l.scans = l.scans[1:]
			l.busy++
		case req := <-l.scanned:
			l.busy--
			l.w.stats.scans.Add(1)
			for _, d := range req.done {
				close(d)
			}
			if req.full {
				l.times[req.f].nextReconcile = time.Now().Add(req.f.cfg.ReconcileInterval)
			}
		case c := <-l.found:
			l.touch(c.f, c.rel, time.Now(), false)
		case r := <-l.w.requests:
			if r.reconcile {
				for i, f := range l.w.folders {
					var done []chan struct{}
					if i == len(l.w.folders)-1 {
						done = []chan struct{}{r.done}
					}
					l.scans = append(l.scans, scanReq{f: f, full: true, done: done})
				}
				if len(l.w.folders) == 0 {
					close(r.done)
				}
			} else {
				l.waiters = append(l.waiters, r.done)
			}
		case now := <-t.C:
			l.tick(now)
		}
		if len(l.waiters) > 0 && l.idle() {
			for _, d := range l.waiters {
				close(d)
			}
			l.waiters = nil
		}
	}
}

// idle is true when nothing is left to do but wait for retries or new events.
func (l *loop) idle() bool {
	if len(l.scans) > 0 || l.busy > 0 || len(l.found) > 0 {
		return false
	}
	for _, p := range l.pending {
		if p.failures == 0 || p.busy {
			return false
		}
	}
	return true
}

// tick moves due files to the ready list and starts periodic scans.
func (l *loop) tick(now time.Time) {
	for _, p := range l.pending {
		if !p.busy && !p.queued && !now.Before(p.due) {
			p.queued = true
			l.ready = append(l.ready, p)
		}
	}
	for _, f := range l.w.folders {
		ft := l.times[f]
		if f.rootLost.Load() {
			if now.After(ft.nextPoll) {
				ft.nextPoll = now.Add(l.w.PollInterval)
				if st, err := os.Stat(f.root); err == nil && st.IsDir() {
					f.rootLost.Store(false)
					f.log.Info().Msg("drop folder is back; scanning it")
					l.queueScan(scanReq{f: f, full: true})
				}
			}
			continue
		}
		if f.degraded.Load() && now.After(ft.nextPoll) {
			ft.nextPoll = now.Add(l.w.PollInterval)
			l.queueScan(scanReq{f: f, full: true})
		}
		if now.After(ft.nextReconcile) {
			ft.nextReconcile = now.Add(f.cfg.ReconcileInterval)
			l.queueScan(scanReq{f: f, full: true})
		}
	}
}

// queueScan adds req unless a queued full scan of the same folder covers it.
func (l *loop) queueScan(req scanReq) {
	for _, q := range l.scans {
		if q.f == req.f && (q.full || (!req.full && q.rel == req.rel)) {
			return
		}
	}
	l.scans = append(l.scans, req)
}

func (l *loop) result(r result) {
	p := r.p
	p.busy = false
	now := time.Now()
	switch r.out {
	case outDone:
		p.failures = 0
		if !p.dirty {
			delete(l.pending, p.abs)
			l.w.stats.pending.Add(-1)
			return
		}
	case outNotQuiet:
		p.snap, p.snapAt, p.hasSnap = r.snap, r.at, true
		p.due = r.next
	case outRetry:
		p.failures++
		p.due = now.Add(l.w.RetryInterval)
	}
	if p.dirty {
		p.dirty = false
		if d := p.lastEvent.Add(p.f.cfg.QuietWindow); d.Before(p.due) || r.out == outDone {
			p.due = d
		}
	}
	if p.writing {
		p.due = waitForClose
	}
}
