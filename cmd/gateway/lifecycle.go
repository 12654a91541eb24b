package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/lifecycle"
	"github.com/ipas/ipas/pass"
)

const (
	// DefaultLifecycleInterval is how often the buckets' lifecycle rules are
	// applied (s3.lifecycle_interval): daily, as S3 does.
	DefaultLifecycleInterval = 24 * time.Hour
	// lifecycleStartDelay is the wait after start-up (or after this node
	// became leader) before a pass, so that a restart is not slowed by one.
	lifecycleStartDelay = 5 * time.Minute
	// lifecycleRetry is the wait before a failed pass is tried again.
	lifecycleRetry = time.Hour
	// lifecycleFileName keeps the last lifecycle pass's report.
	lifecycleFileName = "lifecycle.json"
)

// bucketLifecycle runs lifecycle passes on the journal's leader: after
// start-up, every s3.lifecycle_interval, and on request.
type bucketLifecycle struct {
	runner *pass.Runner[lifecycle.Result]
	pass   *lifecycle.Pass
	a      *dataArchive
	log    zerolog.Logger
	done   chan struct{}
}

// startLifecycle starts the lifecycle's leader loop; it stops with ctx.
func startLifecycle(ctx context.Context, cfg Config, a *dataArchive, log zerolog.Logger) *bucketLifecycle {
	log = log.With().Str("component", "lifecycle").Logger()
	bl := &bucketLifecycle{pass: lifecycle.NewPass(a.node, log), a: a, log: log, done: make(chan struct{})}
	path := a.dir.join(lifecycleFileName)
	bl.runner = pass.New("lifecycle", bl.run, loadReport[lifecycle.Result](path, log), log)
	bl.runner.Interval = cfg.S3.LifecycleInterval
	bl.runner.Retry = lifecycleRetry
	bl.runner.OnDone = func(r pass.Report[lifecycle.Result]) {
		res := r.Result
		log.Info().Int("buckets", res.Buckets).Int64("uploads_aborted", res.UploadsAborted).
			Int64("versions_expired", res.VersionsExpired).Int64("markers_removed", res.MarkersRemoved).Msg("lifecycle result")
		if err := saveReport(path, r); err != nil {
			log.Warn().Err(err).Msg("the lifecycle report was not saved: the schedule restarts with the daemon")
		}
	}
	go func() {
		defer close(bl.done)
		a.node.RunAsLeader(ctx, func(term context.Context) {
			go bl.startLater(term, lifecycleStartDelay)
			bl.runner.RunTerm(term, "", "")
		})
	}()
	return bl
}

// startLater starts a pass delay after the term began, unless one ran
// meanwhile (the schedule's first, or a request).
func (bl *bucketLifecycle) startLater(term context.Context, delay time.Duration) {
	began := time.Now()
	select {
	case <-term.Done():
		return
	case <-time.After(delay):
	}
	if last := bl.runner.State().Last; last != nil && last.Started.After(began) {
		return
	}
	_, _, _ = bl.runner.Start(pass.TriggerStartup, "after "+delay.String())
}

// run is one pass; the store's collector frees what it removed at once.
func (bl *bucketLifecycle) run(ctx context.Context, progress func(lifecycle.Result)) (lifecycle.Result, error) {
	res, err := bl.pass.Run(ctx, progress)
	if res.UploadsAborted+res.VersionsExpired+res.MarkersRemoved > 0 {
		bl.a.store.CollectSoon()
	}
	return res, err
}

// wait returns once the leader loop has stopped (its ctx ended).
func (bl *bucketLifecycle) wait(ctx context.Context) error {
	select {
	case <-bl.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("lifecycle did not stop: %w", ctx.Err())
	}
}

// state is the lifecycle's state for the admin API, after starting a pass
// if start is true.
func (bl *bucketLifecycle) state(start bool) (admin.Lifecycle, error) {
	if start {
		if err := requestPass(bl.runner, "gateway lifecycle", "this node does not lead the journal, so it cannot apply lifecycle rules; ask the leader"); err != nil {
			return admin.Lifecycle{}, err
		}
	}
	st := bl.runner.State()
	return admin.Lifecycle{Running: lifecycleRun(st.Running), Last: lifecycleRun(st.Last), Next: nextPass(bl.runner)}, nil
}

func lifecycleRun(rep *pass.Report[lifecycle.Result]) *admin.LifecycleRun {
	if rep == nil {
		return nil
	}
	r := rep.Result
	return &admin.LifecycleRun{Run: adminRun(rep), Buckets: r.Buckets, UploadsAborted: r.UploadsAborted,
		VersionsExpired: r.VersionsExpired, MarkersRemoved: r.MarkersRemoved}
}

// Lifecycle implements admin.Lifecycler.
func (c *control) Lifecycle(_ context.Context, start bool) (admin.Lifecycle, error) {
	if c.lifecycle == nil {
		return admin.Lifecycle{}, fmt.Errorf("%w: the lifecycle pass is not running", admin.ErrInvalid)
	}
	return c.lifecycle.state(start)
}

var _ admin.Lifecycler = (*control)(nil)
