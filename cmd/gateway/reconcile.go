package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/pass"
	"github.com/ipas/ipas/reconcile"
	"github.com/ipas/ipas/replication/remote"
)

const (
	// DefaultReconcileInterval is how often the remote is listed and compared
	// with the index (replication.reconcile_interval).
	DefaultReconcileInterval = 24 * time.Hour
	// reconcileRetry is the wait before a failed start-up or scheduled
	// reconcile is tried again (the remote was unreachable, say).
	reconcileRetry = 5 * time.Minute
	// reconcileFileName keeps the last reconcile's report.
	reconcileFileName = "reconcile.json"
)

// remoteReconcile runs reconcile passes on the journal's leader: at start-up
// when the remote is not the one the journal recorded, every
// replication.reconcile_interval, and on request.
type remoteReconcile struct {
	runner *pass.Runner[reconcile.Result]
	rec    *reconcile.Reconciler
	rep    *replicator
	log    zerolog.Logger
	done   chan struct{}
}

// startReconcile starts the reconcile's leader loop; it stops with ctx.
func startReconcile(ctx context.Context, cfg Config, a *dataArchive, rep *replicator, log zerolog.Logger) *remoteReconcile {
	log = log.With().Str("component", "reconcile").Logger()
	expect := reconcile.RecordedETag(cfg.Replication.MultipartThreshold, rep.remote.SSE != remote.SSEKMS)
	rr := &remoteReconcile{
		rec:  reconcile.New(a.node, rep.client, expect, log),
		rep:  rep,
		log:  log,
		done: make(chan struct{}),
	}
	path := a.dir.join(reconcileFileName)
	rr.runner = pass.New("reconcile", rr.run, loadReport[reconcile.Result](path, log), log)
	rr.runner.Interval = cfg.Replication.ReconcileInterval
	rr.runner.Retry = reconcileRetry
	rr.runner.OnDone = func(r pass.Report[reconcile.Result]) {
		rr.logResult(r)
		if err := saveReport(path, r); err != nil {
			log.Warn().Err(err).Msg("the reconcile report was not saved: the schedule restarts with the daemon")
		}
	}
	go func() {
		defer close(rr.done)
		a.node.RunAsLeader(ctx, func(term context.Context) {
			first, reason := rr.startupCheck()
			rr.runner.RunTerm(term, first, reason)
		})
	}()
	return rr
}

// wait returns once the leader loop has stopped (its ctx ended).
func (rr *remoteReconcile) wait(ctx context.Context) error {
	select {
	case <-rr.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("reconcile did not stop: %w", ctx.Err())
	}
}

// startupCheck says why a pass must run as this node starts to lead ("" if
// none must): an archive replicated somewhere else until now (the journal
// recorded another remote, or none) must be proven to be on this remote.
func (rr *remoteReconcile) startupCheck() (trigger, reason string) {
	if !rr.rep.change.Changed() {
		return "", ""
	}
	return pass.TriggerStartup, rr.rep.change.String()
}

// run is one pass: after a complete one a changed remote is recorded as the
// journal's, so that the next start does not list it again.
func (rr *remoteReconcile) run(ctx context.Context, progress func(reconcile.Result)) (reconcile.Result, error) {
	res, err := rr.rec.Run(ctx, progress)
	if res.Queued > 0 {
		rr.rep.rep.Notify()
	}
	if err != nil {
		return res, err
	}
	if rr.rep.change.Changed() {
		if err := rr.rep.change.Settle(ctx); err != nil {
			return res, fmt.Errorf("reconcile: %w", err)
		}
	}
	return res, nil
}

func (rr *remoteReconcile) logResult(r pass.Report[reconcile.Result]) {
	res := r.Result
	ev := rr.log.Info()
	if res.Missing+res.Different > 0 {
		ev = rr.log.Warn()
	}
	if res.Lost > 0 {
		// Their only copy was the remote one.
		ev = rr.log.Error().Int64("lost", res.Lost).Strs("lost_sample", res.LostSample)
	}
	ev.Int64("checked", res.Checked).Int64("missing", res.Missing).Int64("different", res.Different).
		Int64("pending", res.Pending).Int64("queued", res.Queued).Int64("recorded", res.Recorded).
		Int64("remote_only", res.RemoteOnly).Strs("remote_only_sample", res.RemoteOnlySample).
		Int64("list_requests", res.ListRequests).Msg("reconcile result")
}

// state is the reconcile's state for the admin API, after starting a pass if
// start is true.
func (rr *remoteReconcile) state(start bool) (admin.Reconcile, error) {
	if start {
		if err := requestPass(rr.runner, "gateway remote reconcile", "this node does not lead the journal, so it cannot reconcile; ask the leader"); err != nil {
			return admin.Reconcile{}, err
		}
	}
	st := rr.runner.State()
	out := admin.Reconcile{Running: reconcileRun(st.Running), Last: reconcileRun(st.Last), Next: nextPass(rr.runner)}
	return out, nil
}

func reconcileRun(rep *pass.Report[reconcile.Result]) *admin.ReconcileRun {
	if rep == nil {
		return nil
	}
	r := rep.Result
	return &admin.ReconcileRun{Run: adminRun(rep), Buckets: r.Buckets, Checked: r.Checked, Missing: r.Missing,
		Different: r.Different, Pending: r.Pending, Queued: r.Queued, Recorded: r.Recorded, QueuedSample: r.QueuedSample,
		RemoteOnly: r.RemoteOnly, RemoteOnlySample: r.RemoteOnlySample, Lost: r.Lost, LostSample: r.LostSample,
		ListRequests: r.ListRequests}
}
