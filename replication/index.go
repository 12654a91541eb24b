package replication

import (
	"container/heap"
	"slices"
	"sort"
	"time"
)

// jobIndex is the replicator's view of the journal's oldest jobs (at most
// Config.ScanLimit of them), ordered for dispatch: per lane by priority,
// then by age (Seq). It is loaded once per leadership term; after that only
// jobs past horizon are read, and the replicator's own outcomes (done,
// failed, quarantined) update it, so neither a finished job nor an idle
// poll re-reads the backlog. r.mu guards it.
type jobIndex struct {
	limit       int
	entries     map[string]*indexEntry // every job loaded and not finished
	lanes       [2]lane                // laneSmall, laneLarge: jobs ready to start
	deferred    deferHeap              // jobs waiting for their NotBefore
	horizon     uint64                 // highest Seq loaded
	full        bool                   // the last load stopped at limit: jobs past horizon may exist
	bytes       int64                  // of the put jobs in entries
	quarantined int
	failing     map[string]*indexEntry // jobs with failed attempts, quarantined included
}

const (
	laneSmall = 0
	laneLarge = 1
)

type entryState uint8

const (
	entryReady entryState = iota
	entryDeferred
	entryActive
	entryQuarantined
)

// indexEntry is one job as dispatch and Status need it: the journaled job
// without its blob list and metadata, which work reads again anyway.
type indexEntry struct {
	job   Job
	prio  int
	lane  int
	due   time.Time // the earliest start (NotBefore, in-memory backoff)
	state entryState
	// requeued: a job with the same ID and a newer Seq was loaded while
	// this one was in flight (a reconcile queued it again); it runs again.
	requeued bool
}

func newJobIndex(limit int) *jobIndex {
	return &jobIndex{limit: limit, entries: map[string]*indexEntry{}, failing: map[string]*indexEntry{}}
}

// room is how many more jobs the index may load.
func (x *jobIndex) room() int { return x.limit - len(x.entries) }

// add indexes a job read from the journal; due is its earliest start.
func (x *jobIndex) add(j Job, prio, ln int, due time.Time, now time.Time) {
	x.horizon = max(x.horizon, j.Seq)
	j.Pieces, j.Meta = nil, ObjectMeta{}
	if e, ok := x.entries[j.ID]; ok {
		if e.state == entryActive {
			e.requeued = true
		}
		e.job.Seq = j.Seq
		return
	}
	e := &indexEntry{job: j, prio: prio, lane: ln, due: due}
	x.entries[j.ID] = e
	if j.Op == OpPut {
		x.bytes += j.Size
	}
	switch {
	case j.Quarantined:
		e.state = entryQuarantined
		x.quarantined++
		x.failing[j.ID] = e
		return
	case j.Attempts > 0:
		x.failing[j.ID] = e
	}
	x.schedule(e, now)
}

// schedule makes e ready, or deferred until e.due.
func (x *jobIndex) schedule(e *indexEntry, now time.Time) {
	if e.due.After(now) {
		e.state = entryDeferred
		heap.Push(&x.deferred, e)
		return
	}
	e.state = entryReady
	x.lanes[e.lane].push(e)
}

// promote makes the deferred jobs that are due ready, and returns when the
// next one is (zero if none waits).
func (x *jobIndex) promote(now time.Time) time.Time {
	for len(x.deferred) > 0 {
		e := x.deferred[0]
		if e.due.After(now) {
			return e.due
		}
		heap.Pop(&x.deferred)
		e.state = entryReady
		x.lanes[e.lane].push(e)
	}
	return time.Time{}
}

// next takes the ready job to start first: the lowest priority number,
// then the oldest, from the lanes that open allows (open[laneSmall],
// open[laneLarge]).
func (x *jobIndex) next(open [2]bool) *indexEntry {
	best := -1
	var be *indexEntry
	for ln := range x.lanes {
		if !open[ln] {
			continue
		}
		e := x.lanes[ln].head()
		if e != nil && (be == nil || e.prio < be.prio || e.prio == be.prio && e.job.Seq < be.job.Seq) {
			best, be = ln, e
		}
	}
	if be == nil {
		return nil
	}
	x.lanes[best].pop(be)
	be.state = entryActive
	return be
}

// done removes a finished job, unless it was queued again meanwhile.
func (x *jobIndex) done(id string, now time.Time) {
	e, ok := x.entries[id]
	if !ok {
		return
	}
	delete(x.failing, id)
	if e.requeued {
		e.requeued, e.due = false, time.Time{}
		e.job.Attempts, e.job.LastError, e.job.NotBefore, e.job.UploadID, e.job.PartsDone = 0, "", time.Time{}, "", nil
		x.schedule(e, now)
		return
	}
	delete(x.entries, id)
	if e.job.Op == OpPut {
		x.bytes -= e.job.Size
	}
}

// retry puts a job back, startable from due on; j is its journaled state
// when known (a failed attempt), else the index keeps what it had.
func (x *jobIndex) retry(id string, j *Job, due, now time.Time) {
	e, ok := x.entries[id]
	if !ok || e.state != entryActive {
		return
	}
	if j != nil {
		e.job.Attempts, e.job.LastError, e.job.NotBefore = j.Attempts, j.LastError, j.NotBefore
		e.job.UploadID, e.job.PartSize, e.job.PartsDone = j.UploadID, j.PartSize, j.PartsDone
	}
	if e.job.Attempts > 0 {
		x.failing[id] = e
	}
	e.due = due
	x.schedule(e, now)
}

// quarantine sets a job aside until an operator intervenes.
func (x *jobIndex) quarantine(id, reason string) {
	e, ok := x.entries[id]
	if !ok || e.state != entryActive {
		return
	}
	e.state, e.job.Quarantined, e.job.LastError = entryQuarantined, true, reason
	x.quarantined++
	x.failing[id] = e
}

// failingStatus lists the failing and quarantined jobs, oldest first.
func (x *jobIndex) failingStatus(now time.Time) []JobStatus {
	es := make([]*indexEntry, 0, len(x.failing))
	for _, e := range x.failing {
		es = append(es, e)
	}
	sort.Slice(es, func(a, b int) bool { return es[a].job.Seq < es[b].job.Seq })
	out := make([]JobStatus, len(es))
	for i, e := range es {
		out[i] = statusOf(e.job, nil, now)
	}
	return out
}

// lane holds ready jobs by priority (levels, ascending), then Seq.
type lane struct{ levels []level }

type level struct {
	prio int
	jobs []*indexEntry // by Seq
}

func (l *lane) push(e *indexEntry) {
	i, found := slices.BinarySearchFunc(l.levels, e.prio, func(v level, p int) int { return v.prio - p })
	if !found {
		l.levels = slices.Insert(l.levels, i, level{prio: e.prio})
	}
	q := l.levels[i].jobs
	if n := len(q); n == 0 || q[n-1].job.Seq < e.job.Seq {
		l.levels[i].jobs = append(q, e) // a new job: the common case
		return
	}
	k, _ := slices.BinarySearchFunc(q, e.job.Seq, func(v *indexEntry, s uint64) int {
		switch {
		case v.job.Seq < s:
			return -1
		case v.job.Seq > s:
			return 1
		}
		return 0
	})
	l.levels[i].jobs = slices.Insert(q, k, e)
}

func (l *lane) head() *indexEntry {
	for _, v := range l.levels {
		if len(v.jobs) > 0 {
			return v.jobs[0]
		}
	}
	return nil
}

// pop removes the head, e.
func (l *lane) pop(e *indexEntry) {
	for i := range l.levels {
		if q := l.levels[i].jobs; len(q) > 0 && q[0] == e {
			q[0] = nil
			l.levels[i].jobs = q[1:]
			return
		}
	}
}

// deferHeap orders deferred jobs by due time.
type deferHeap []*indexEntry

func (h deferHeap) Len() int           { return len(h) }
func (h deferHeap) Less(a, b int) bool { return h[a].due.Before(h[b].due) }
func (h deferHeap) Swap(a, b int)      { h[a], h[b] = h[b], h[a] }
func (h *deferHeap) Push(v any)        { *h = append(*h, v.(*indexEntry)) }
func (h *deferHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
