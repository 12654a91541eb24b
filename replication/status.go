package replication

import (
	"sync"
	"sync/atomic"
	"time"
)

// rateWindow is the smoothing of the per-job rate: the EWMA weight of one
// second-long sample.
const rateWeight = 0.3

// Status is everything `gateway status` and the dashboard show.
type Status struct {
	State       string // "running", "idle", "paused", "standby" (not leader), "waiting" (bandwidth)
	Paused      bool
	PauseReason string // the remote's error, when paused
	PausedSince time.Time

	QueueJobs      int64 // jobs waiting, in flight, failing or quarantined
	QueueBytes     int64 // bytes of the put jobs among them
	QueueTruncated bool  // more jobs than ScanLimit: counts are lower bounds
	Quarantined    int64

	ReplicatedObjects int64 // since start
	ReplicatedBytes   int64
	SentBytes         int64 // body bytes handed to the network, including resent parts
	// Rate is the upload rate now (bytes/s): the sum of the jobs' own rates
	// in flight, or SentBytes' rate over the last few minutes while jobs
	// run that are too short to have one (small objects, each sent in less
	// than a second); 0 when idle.
	Rate float64
	// RecentRate is SentBytes' average rate over the last few minutes
	// (bytes/s); 0 when nothing was sent lately.
	RecentRate float64
	// ObjectRate is ReplicatedObjects' average rate over the last few
	// minutes (jobs done per second), known 2 s after the first; 0 when none
	// finished lately.
	ObjectRate float64

	// Unreachable is set when every attempt since UnreachableSince (at
	// least Config.UnreachableAfter ago) has failed; LastError is the last
	// failure's message, LastSuccess the last part or object the remote
	// confirmed since the start.
	Unreachable      bool
	UnreachableSince time.Time
	LastError        string
	LastSuccess      time.Time

	Bandwidth BandwidthState
	Active    []JobStatus // in flight
	Failing   []JobStatus // jobs with failed attempts or quarantined
}

// JobStatus is one job's progress.
type JobStatus struct {
	ID          string
	Bucket, Key string
	Op          string
	Size        int64
	BytesDone   int64
	PartsDone   int
	Parts       int
	Rate        float64 // bytes/s
	ETA         time.Duration
	Attempts    int
	LastError   string
	Quarantined bool
	NotBefore   time.Time
}

// contact is what the attempts say about the remote: when one last
// succeeded, and since when every attempt has failed.
type contact struct {
	lastSuccess  time.Time
	failingSince time.Time // zero after a success
	lastError    string
}

// reached records a success: the remote confirmed a part or an object.
// r.mu is held.
func (r *Replicator) reached() {
	r.contact.lastSuccess, r.contact.failingSince = r.now(), time.Time{}
}

// failed records a failed attempt. r.mu is held.
func (r *Replicator) failed(err error) {
	if r.contact.failingSince.IsZero() {
		r.contact.failingSince = r.now()
	}
	r.contact.lastError = err.Error()
}

// progress tracks one job in flight.
type progress struct {
	mu        sync.Mutex
	job       Job
	started   time.Time
	doneBase  int64 // bytes of parts finished before this attempt
	parts     int
	partsDone int
	rate      float64
	lastT     time.Time
	lastB     int64
	wire      atomic.Int64 // bytes handed to the network in this attempt, resends included
	inflight  atomic.Int64 // bytes of requests still in flight
	confirmed atomic.Int64 // bytes of parts confirmed in this attempt
}

func newProgress(j Job, now time.Time) *progress {
	p := &progress{job: j, started: now, lastT: now}
	return p
}

func (p *progress) reset(j Job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.job = j
	p.doneBase = 0
	for _, pt := range j.PartsDone {
		p.doneBase += pt.Size
	}
	p.partsDone = len(j.PartsDone)
	p.parts = 1
}

func (p *progress) setParts(total, done int, doneBytes int64) {
	p.mu.Lock()
	p.parts, p.partsDone, p.doneBase = total, done, doneBytes
	p.mu.Unlock()
}

func (p *progress) partDone(size int64) {
	p.mu.Lock()
	p.partsDone++
	p.mu.Unlock()
	p.confirmed.Add(size)
}

// progressed reports whether this attempt moved the job forward.
func (p *progress) progressed() bool { return p.confirmed.Load() > 0 }

func (p *progress) status(now time.Time) JobStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := statusOf(p.job, nil, now)
	s.BytesDone = min(p.job.Size, p.doneBase+p.confirmed.Load()+max(0, p.inflight.Load()))
	s.Parts, s.PartsDone = p.parts, p.partsDone
	if dt := now.Sub(p.lastT).Seconds(); dt >= 1 {
		b := p.wire.Load()
		sample := float64(b-p.lastB) / dt
		if p.rate == 0 {
			p.rate = sample
		} else {
			p.rate = rateWeight*sample + (1-rateWeight)*p.rate
		}
		p.lastT, p.lastB = now, b
	}
	s.Rate = p.rate
	if p.rate > 0 {
		s.ETA = time.Duration(float64(s.Size-s.BytesDone) / p.rate * float64(time.Second))
	}
	return s
}

func statusOf(j Job, _ *progress, _ time.Time) JobStatus {
	op := "put"
	if j.Op == OpDelete {
		op = "delete"
	}
	s := JobStatus{
		ID: j.ID, Bucket: j.Bucket, Key: j.Key, Op: op, Size: j.Size,
		Attempts: j.Attempts, LastError: j.LastError, Quarantined: j.Quarantined,
		NotBefore: j.NotBefore, PartsDone: len(j.PartsDone),
	}
	for _, pt := range j.PartsDone {
		s.BytesDone += pt.Size
	}
	if j.PartSize > 0 {
		s.Parts = partCount(j.Size, j.PartSize)
	}
	return s
}

// Status returns a snapshot. Queue totals are the index's: the oldest
// ScanLimit jobs (QueueTruncated when there may be more).
func (r *Replicator) Status() Status {
	now := r.now()
	r.mu.Lock()
	s := Status{
		QueueJobs:         int64(len(r.idx.entries)),
		QueueBytes:        r.idx.bytes,
		QueueTruncated:    r.idx.full,
		Quarantined:       int64(r.idx.quarantined),
		ReplicatedObjects: r.totals.replicatedObjects,
		ReplicatedBytes:   r.totals.replicatedBytes,
		SentBytes:         r.totals.sentBytes,
		RecentRate:        r.sentRate.rate(now, r.totals.sentBytes),
		ObjectRate:        r.doneRate.rateOver(now, r.totals.replicatedObjects, statusMinSpan),
		Failing:           r.idx.failingStatus(now),
		LastError:         r.contact.lastError,
		LastSuccess:       r.contact.lastSuccess,
	}
	if since := r.contact.failingSince; !since.IsZero() && now.Sub(since) >= r.cfg.UnreachableAfter {
		s.Unreachable, s.UnreachableSince = true, since
	}
	sentNow := r.sentRate.rateOver(now, r.totals.sentBytes, statusMinSpan)
	leader := r.leader
	if r.paused != nil {
		s.Paused, s.PauseReason, s.PausedSince = true, r.paused.Error(), r.pausedSince
	}
	active := make([]*progress, 0, len(r.active))
	for _, p := range r.active {
		active = append(active, p)
	}
	r.mu.Unlock()
	for _, p := range active {
		js := p.status(now)
		s.Rate += js.Rate
		s.Active = append(s.Active, js)
	}
	if s.Rate == 0 && len(s.Active) > 0 {
		s.Rate = sentNow
	}
	s.Bandwidth = r.bw.State()
	switch {
	case !leader:
		s.State = "standby"
	case s.Paused:
		s.State = "paused"
	case s.Bandwidth.Paused || s.Bandwidth.BudgetSpent:
		s.State = "waiting"
	case len(s.Active) > 0:
		s.State = "running"
	default:
		s.State = "idle"
	}
	return s
}

func (r *Replicator) addSent(n int64) {
	r.mu.Lock()
	r.totals.sentBytes += n
	r.sentRate.add(r.now(), r.totals.sentBytes)
	r.mu.Unlock()
}
