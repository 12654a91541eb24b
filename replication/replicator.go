package replication

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Replicator drains journaled jobs to a Remote. Create it with New, adjust
// nothing after Run starts except through its methods (SetConfig is not
// offered: Bandwidth carries the settings that change at run time).
type Replicator struct {
	cfg     Config
	journal Journal
	blobs   Blobs
	remote  Remote
	bw      *Bandwidth
	log     zerolog.Logger
	now     func() time.Time
	events  Events

	partSlots chan struct{} // global parts-in-flight semaphore
	wake      chan struct{}
	batch     BatchCompleter // nil: each job journals its own completion

	completeWake chan struct{}
	keys         keyLocks // the keys of versioned buckets with a job in flight

	mu          sync.Mutex
	leader      bool
	idx         *jobIndex            // this term's jobs; kept after it for Status
	completing  []completion         // small objects sent, their jobs not yet journaled done
	active      map[string]*progress // job ID -> progress, jobs in flight
	inLane      [2]int               // jobs in flight per lane (laneSmall, laneLarge)
	retryAt     map[string]time.Time // in-memory backoff, mirrors NotBefore
	failures    map[string]int       // consecutive failures without progress
	paused      error                // why replication is paused; nil when running
	pausedSince time.Time
	totals      totals
	contact     contact
	sentRate    rateMeter // of totals.sentBytes
	doneRate    rateMeter // of totals.replicatedObjects
}

type totals struct {
	replicatedObjects int64
	replicatedBytes   int64
	sentBytes         int64
}

// New returns a Replicator. bw may be nil (unlimited).
func New(cfg Config, journal Journal, blobs Blobs, remote Remote, bw *Bandwidth, log zerolog.Logger) (*Replicator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if bw == nil {
		bw = NewBandwidth(Unlimited, nil)
	}
	batch, _ := journal.(BatchCompleter)
	return &Replicator{
		batch:        batch,
		completeWake: make(chan struct{}, 1),
		cfg:          cfg,
		journal:      journal,
		blobs:        blobs,
		remote:       remote,
		bw:           bw,
		log:          log.With().Str("component", "replication").Logger(),
		now:          time.Now,
		partSlots:    make(chan struct{}, cfg.Parts),
		wake:         make(chan struct{}, 1),
		active:       map[string]*progress{},
		retryAt:      map[string]time.Time{},
		idx:          newJobIndex(cfg.ScanLimit),
		failures:     map[string]int{},
	}, nil
}

// Bandwidth returns the limiter, to change limits at run time.
func (r *Replicator) Bandwidth() *Bandwidth { return r.bw }

// Notify wakes the dispatcher: a job finished, or replication may resume.
// New jobs are found through JobSignal, or by polling.
func (r *Replicator) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run replicates while this node is the leader, until ctx ends.
func (r *Replicator) Run(ctx context.Context, lead Leadership) {
	lead.RunAsLeader(ctx, r.RunTerm)
}

// RunTerm replicates until ctx ends (one leadership term). Jobs in flight
// are abandoned where they are: their journaled parts survive.
func (r *Replicator) RunTerm(ctx context.Context) {
	r.mu.Lock()
	r.leader = true
	r.idx = newJobIndex(r.cfg.ScanLimit) // the journal may have changed under another leader
	r.completing = nil                   // left by the last term: their jobs are still queued
	x := r.idx
	r.mu.Unlock()
	r.log.Info().Msg("replication started")
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		r.mu.Lock()
		r.leader = false
		r.mu.Unlock()
		r.log.Info().Msg("replication stopped")
	}()
	wg.Add(3)
	go func() { defer wg.Done(); r.probeLoop(ctx) }()
	go func() { defer wg.Done(); r.orphanLoop(ctx) }()
	go func() { defer wg.Done(); r.completeLoop(ctx, x) }()
	var added <-chan struct{}
	var poll <-chan time.Time
	if s, ok := r.journal.(JobSignal); ok {
		added = s.JobsAdded()
	} else {
		t := time.NewTicker(r.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	due := time.NewTimer(time.Hour)
	defer due.Stop()
	load := true
	for {
		var next time.Time
		if load {
			if err := r.load(); err != nil && ctx.Err() == nil {
				r.log.Warn().Err(err).Msg("read the job list")
				next = r.now().Add(r.cfg.PollInterval) // and try again then
			} else {
				load = false
			}
		}
		if r.pauseErr() == nil {
			if d := r.dispatch(ctx, &wg); !d.IsZero() && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
		due.Stop()
		if !next.IsZero() {
			due.Reset(max(0, next.Sub(r.now())))
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			load = load || r.wantsMore()
		case <-added:
			load = true
		case <-poll:
			load = true
		case <-due.C:
		}
	}
}

// refillAt is the room in a full index at which it reads more jobs: in
// pages, not after every finished job.
func (r *Replicator) refillAt() int { return max(1, min(1000, r.cfg.ScanLimit/4)) }

// wantsMore says whether jobs past the index's horizon may wait while it
// has room for a page of them.
func (r *Replicator) wantsMore() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idx.full && r.idx.room() >= r.refillAt()
}

// load indexes the jobs past the index's horizon, while it has room.
func (r *Replicator) load() error {
	for {
		r.mu.Lock()
		x := r.idx
		room, after := x.room(), x.horizon
		if room <= 0 {
			x.full = true
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
		want := min(1000, room)
		page, err := r.journal.Jobs(after, want)
		if err != nil {
			return err
		}
		now := r.now()
		r.mu.Lock()
		for _, j := range page {
			due := j.NotBefore
			if at := r.retryAt[j.ID]; at.After(due) {
				due = at
			}
			ln := laneSmall
			if r.isLarge(j) {
				ln = laneLarge
			}
			x.add(j, r.cfg.priority(j.Bucket, j.Key), ln, due, now)
		}
		x.full = false
		r.mu.Unlock()
		if len(page) < want {
			return nil
		}
	}
}

// dispatch starts the ready jobs, in the index's order, that the slots
// allow, and returns when the next deferred job is due (zero: none waits).
func (r *Replicator) dispatch(ctx context.Context, wg *sync.WaitGroup) time.Time {
	now := r.now()
	r.mu.Lock()
	next := r.idx.promote(now)
	type started struct {
		id   string
		lane int
	}
	var start []started
	for {
		e := r.idx.next([2]bool{r.inLane[laneSmall] < r.cfg.SmallObjects, r.inLane[laneLarge] < r.cfg.Objects})
		if e == nil {
			break
		}
		r.inLane[e.lane]++
		r.active[e.job.ID] = newProgress(e.job, now)
		start = append(start, started{e.job.ID, e.lane})
	}
	r.mu.Unlock()

	for _, s := range start {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, s.id, s.lane)
		}()
	}
	return next
}

func (r *Replicator) isLarge(j Job) bool {
	return j.Op == OpPut && j.Size >= r.cfg.MultipartThreshold
}

// settle updates the index once a job is no longer in flight (r.mu held).
type settle func(x *jobIndex, now time.Time)

// work runs one job of lane ln and records the outcome.
func (r *Replicator) work(ctx context.Context, id string, ln int) {
	r.mu.Lock()
	p, x := r.active[id], r.idx
	r.mu.Unlock()
	s := settle(func(x *jobIndex, now time.Time) { x.retry(id, nil, time.Time{}, now) })
	defer func() {
		// One critical section: the job must not become ready while it is
		// still in r.active.
		r.mu.Lock()
		delete(r.active, id)
		r.inLane[ln]--
		s(x, r.now())
		r.mu.Unlock()
		r.Notify()
	}()
	// Read the job again: the index holds no blobs or metadata, and the job
	// may have changed (or gone) since it was indexed.
	j, err := r.journal.Job(id)
	if errors.Is(err, ErrNoSuchJob) {
		s = func(x *jobIndex, now time.Time) { x.done(id, now) }
		return
	}
	if err != nil {
		r.log.Warn().Err(err).Str("job", id).Msg("read the job")
		s = func(x *jobIndex, now time.Time) { x.retry(id, nil, now.Add(r.cfg.BackoffMin), now) }
		return
	}
	p.reset(j)
	log := r.log.With().Str("job", id).Str("bucket", j.Bucket).Str("key", j.Key).Logger()
	if _, versioned := r.versioned(j); r.batch != nil && j.Op == OpPut && !r.isLarge(j) && !versioned {
		// The completion is journaled with others (completeLoop) while
		// this worker's slot takes the next job.
		c, err := r.putSmall(ctx, j, p)
		if err == nil {
			r.completeLater(completion{job: j, p: p, copy: c, log: log})
			s = settled
			return
		}
		s = r.outcome(ctx, j, p, err, log)
		return
	}
	err = r.replicate(ctx, j, p, log)
	s = r.outcome(ctx, j, p, err, log)
}

func (r *Replicator) outcome(ctx context.Context, j Job, p *progress, err error, log zerolog.Logger) settle {
	switch {
	case err == nil:
		r.mu.Lock()
		if j.Op == OpPut || r.cfg.policy(j.Bucket) == PolicyMirror { // the remote answered
			r.reached()
		}
		delete(r.failures, j.ID)
		delete(r.retryAt, j.ID)
		r.totals.replicatedObjects++
		r.doneRate.add(r.now(), r.totals.replicatedObjects)
		if j.Op == OpPut {
			r.totals.replicatedBytes += j.Size
		}
		r.mu.Unlock()
		log.Debug().Int64("size", j.Size).Msg("replicated")
		return func(x *jobIndex, now time.Time) { x.done(j.ID, now) }
	case ctx.Err() != nil:
		// Shutting down or leadership lost: nothing to record.
	case errors.Is(err, ErrRemoteRefused):
		r.mu.Lock()
		r.failed(err)
		r.mu.Unlock()
		r.pause(err)
	case isPoison(err):
		log.Error().Err(err).Msg("job quarantined: it will not be retried until an operator intervenes")
		if jerr := r.journal.JobQuarantined(ctx, j.ID, err.Error()); jerr != nil {
			log.Warn().Err(jerr).Msg("journal quarantine")
		}
		return func(x *jobIndex, _ time.Time) { x.quarantine(j.ID, err.Error()) }
	default:
		r.mu.Lock()
		if p.progressed() {
			r.failures[j.ID] = 0
			r.reached()
		}
		r.failed(err)
		r.failures[j.ID]++
		wait := backoff(r.failures[j.ID], r.cfg.BackoffMin, r.cfg.BackoffMax)
		at := r.now().Add(wait)
		r.retryAt[j.ID] = at
		r.mu.Unlock()
		r.events.attemptFailed()
		log.Warn().Err(err).Dur("retry_in", wait).Msg("replication attempt failed")
		if jerr := r.journal.JobFailed(ctx, j.ID, err.Error(), at); jerr != nil {
			log.Warn().Err(jerr).Msg("journal failure")
		}
		f := j
		f.Attempts, f.LastError, f.NotBefore = j.Attempts+1, err.Error(), at
		return func(x *jobIndex, now time.Time) { x.retry(j.ID, &f, at, now) }
	}
	return func(x *jobIndex, now time.Time) { x.retry(j.ID, nil, time.Time{}, now) }
}

func (r *Replicator) pauseErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

func (r *Replicator) pause(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused == nil {
		r.pausedSince = r.now()
		r.log.Error().Err(err).Dur("probe_every", r.cfg.ProbeInterval).
			Msg("replication paused: the remote refuses our requests; fix the credentials, bucket or policy, it resumes by itself")
	}
	r.paused = err
}

// probeLoop un-pauses replication once the remote accepts writes again.
func (r *Replicator) probeLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.pauseErr() == nil {
			continue
		}
		err := r.remote.Probe(ctx)
		if err != nil {
			if errors.Is(err, ErrRemoteRefused) {
				r.pause(err)
			}
			r.log.Debug().Err(err).Msg("probe: remote still unavailable")
			continue
		}
		r.mu.Lock()
		r.paused = nil
		r.mu.Unlock()
		r.log.Info().Msg("replication resumed: the remote accepts writes again")
		r.Notify()
	}
}

// errPaused is returned to a part that waits while replication is paused.
var errPaused = errors.New("replication: paused")

func jobError(op string, j Job, err error) error {
	return fmt.Errorf("replication: %s %s: %w", op, j.Name(), err)
}
