package replication

import (
	"context"
	"errors"
	"fmt"
	"sort"
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

	mu          sync.Mutex
	leader      bool
	active      map[string]*progress // job ID -> progress, jobs in flight
	large       int                  // large jobs in flight
	retryAt     map[string]time.Time // in-memory backoff, mirrors NotBefore
	failures    map[string]int       // consecutive failures without progress
	paused      error                // why replication is paused; nil when running
	pausedSince time.Time
	totals      totals
	contact     contact
	sentRate    rateMeter // of totals.sentBytes
}

type totals struct {
	queueJobs, queueBytes int64
	quarantined           int64
	failing               []JobStatus
	scanned               time.Time
	truncated             bool
	replicatedObjects     int64
	replicatedBytes       int64
	sentBytes             int64
}

// New returns a Replicator. bw may be nil (unlimited).
func New(cfg Config, journal Journal, blobs Blobs, remote Remote, bw *Bandwidth, log zerolog.Logger) (*Replicator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if bw == nil {
		bw = NewBandwidth(Unlimited, nil)
	}
	return &Replicator{
		cfg:       cfg,
		journal:   journal,
		blobs:     blobs,
		remote:    remote,
		bw:        bw,
		log:       log.With().Str("component", "replication").Logger(),
		now:       time.Now,
		partSlots: make(chan struct{}, cfg.Parts),
		wake:      make(chan struct{}, 1),
		active:    map[string]*progress{},
		retryAt:   map[string]time.Time{},
		failures:  map[string]int{},
	}, nil
}

// Bandwidth returns the limiter, to change limits at run time.
func (r *Replicator) Bandwidth() *Bandwidth { return r.bw }

// Notify wakes the dispatcher: a job was added. Optional; jobs are also
// found by polling.
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
	wg.Add(2)
	go func() { defer wg.Done(); r.probeLoop(ctx) }()
	go func() { defer wg.Done(); r.orphanLoop(ctx) }()
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	for {
		if r.pauseErr() == nil {
			if err := r.dispatch(ctx, &wg); err != nil && ctx.Err() == nil {
				r.log.Warn().Err(err).Msg("read the job list")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-poll.C:
		}
	}
}

type candidate struct {
	job  Job
	prio int
}

// dispatch reads the oldest jobs and starts as many as the slots allow.
func (r *Replicator) dispatch(ctx context.Context, wg *sync.WaitGroup) error {
	jobs, truncated, err := r.scan()
	if err != nil {
		return err
	}
	now := r.now()
	var cands []candidate
	var t totals
	for _, j := range jobs {
		t.queueJobs++
		if j.Op == OpPut {
			t.queueBytes += j.Size
		}
		if j.Quarantined {
			t.quarantined++
			t.failing = append(t.failing, statusOf(j, nil, now))
			continue
		}
		if j.Attempts > 0 {
			t.failing = append(t.failing, statusOf(j, nil, now))
		}
		cands = append(cands, candidate{job: j, prio: r.cfg.priority(j.Bucket, j.Key)})
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].prio < cands[b].prio })

	r.mu.Lock()
	t.replicatedObjects, t.replicatedBytes, t.sentBytes = r.totals.replicatedObjects, r.totals.replicatedBytes, r.totals.sentBytes
	t.scanned, t.truncated = now, truncated
	r.totals = t
	largeSlots := max(1, r.cfg.Objects-1)
	var start []Job
	for _, c := range cands {
		if len(r.active)+len(start) >= r.cfg.Objects {
			break
		}
		j := c.job
		if _, busy := r.active[j.ID]; busy || j.NotBefore.After(now) || r.retryAt[j.ID].After(now) {
			continue
		}
		if r.isLarge(j) {
			if r.large >= largeSlots {
				continue
			}
			r.large++
		}
		r.active[j.ID] = newProgress(j, r.now())
		start = append(start, j)
	}
	r.mu.Unlock()

	for _, j := range start {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx, j.ID)
		}()
	}
	return nil
}

func (r *Replicator) isLarge(j Job) bool {
	return j.Op == OpPut && j.Size >= r.cfg.MultipartThreshold
}

// scan returns up to ScanLimit oldest jobs.
func (r *Replicator) scan() ([]Job, bool, error) {
	var out []Job
	after := uint64(0)
	for len(out) < r.cfg.ScanLimit {
		page, err := r.journal.Jobs(after, min(1000, r.cfg.ScanLimit-len(out)))
		if err != nil {
			return nil, false, err
		}
		if len(page) == 0 {
			return out, false, nil
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
	return out, true, nil
}

// work runs one job and records the outcome.
func (r *Replicator) work(ctx context.Context, id string) {
	r.mu.Lock()
	p := r.active[id]
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.active, id)
		if r.isLarge(p.job) {
			r.large--
		}
		r.mu.Unlock()
		r.Notify()
	}()
	// Read the job again: the scan may be older than its last change (or
	// its completion).
	j, err := r.journal.Job(id)
	if err != nil {
		return
	}
	p.reset(j)
	log := r.log.With().Str("job", id).Str("bucket", j.Bucket).Str("key", j.Key).Logger()
	err = r.replicate(ctx, j, p, log)
	r.outcome(ctx, j, p, err, log)
}

func (r *Replicator) outcome(ctx context.Context, j Job, p *progress, err error, log zerolog.Logger) {
	switch {
	case err == nil:
		r.mu.Lock()
		if j.Op == OpPut || r.cfg.policy(j.Bucket) == PolicyMirror { // the remote answered
			r.reached()
		}
		delete(r.failures, j.ID)
		delete(r.retryAt, j.ID)
		r.totals.replicatedObjects++
		if j.Op == OpPut {
			r.totals.replicatedBytes += j.Size
		}
		r.mu.Unlock()
		log.Debug().Int64("size", j.Size).Msg("replicated")
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
	}
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
