package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/alert"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// control is the daemon's side of the admin API, and what SIGHUP changes.
type control struct {
	rep       *replicator
	reconcile *remoteReconcile
	scrub     *blobScrub
	node      *queue.Node
	drop      dropStatus // nil: no drop folders to report
	// publicBuckets lists the buckets anonymous requests may read (nil: none).
	publicBuckets func() []string
	pages         pageSources
	alerts        *alert.Notifier // nil until the daemon starts it
	history       *rateHistory    // the upload chart
	cache         *daemonCache
	lifecycle     *bucketLifecycle // nil: not reported
	log           zerolog.Logger

	mu       sync.Mutex
	settings bandwidthSettings // as last applied
	paused   bool              // replication.paused of the config last loaded
}

var _ admin.Controller = (*control)(nil)

func newControl(rep *replicator, rec *remoteReconcile, scr *blobScrub, node *queue.Node, rc ReplicationConfig, log zerolog.Logger) (*control, error) {
	s, err := rc.settings()
	if err != nil {
		return nil, err
	}
	return &control{rep: rep, reconcile: rec, scrub: scr, node: node, log: log.With().Str("component", "control").Logger(), settings: s, paused: rc.Paused,
		history: newRateHistory(historyInterval, historyPoints)}, nil
}

// Reconcile implements admin.Controller.
func (c *control) Reconcile(_ context.Context, start bool) (admin.Reconcile, error) {
	return c.reconcile.state(start)
}

// Scrub implements admin.Controller.
func (c *control) Scrub(_ context.Context, start bool) (admin.Scrub, error) {
	return c.scrub.state(start)
}

// Status implements admin.Controller.
func (c *control) Status(context.Context) (admin.Status, error) {
	rs := c.rep.rep.Status()
	c.mu.Lock()
	spec := c.settings.spec
	c.mu.Unlock()
	st := admin.Status{
		Time: time.Now().UTC(),
		Replication: admin.Replication{
			State:       replicationState(rs),
			Error:       rs.PauseReason,
			Bandwidth:   spec,
			Limit:       rs.Bandwidth.Limit,
			ManualPause: rs.Bandwidth.ManualPause,
			Budget: admin.Budget{Bytes: rs.Bandwidth.Budget, Used: rs.Bandwidth.BudgetUsed,
				Spent: rs.Bandwidth.BudgetSpent, Resets: timePtr(rs.Bandwidth.BudgetResets)},
		},
		Remote: admin.Remote{Endpoint: c.rep.remote.Endpoint, Bucket: c.rep.remote.Bucket,
			Prefix: c.rep.remote.Prefix, Local: c.rep.local != nil},
		Totals: admin.Totals{
			QueueJobs: rs.QueueJobs, QueueBytes: rs.QueueBytes, QueueTruncated: rs.QueueTruncated,
			Quarantined: rs.Quarantined, ReplicatedObjects: rs.ReplicatedObjects,
			ReplicatedBytes: rs.ReplicatedBytes, SentBytes: rs.SentBytes, Rate: rs.Rate, ObjectRate: rs.ObjectRate,
		},
		Active:  jobs(rs.Active),
		Failing: jobs(rs.Failing),
	}
	if rs.Paused {
		st.Replication.PausedSince = timePtr(rs.PausedSince)
	}
	if rs.Unreachable {
		st.Replication.UnreachableSince, st.Replication.LastError = timePtr(rs.UnreachableSince), rs.LastError
	}
	off, err := c.node.Offsite()
	if err != nil {
		return st, err
	}
	st.Offsite = offsite(off, rs, st.Replication.State)
	if st.Remote.Endpoint == "" {
		st.Remote.Endpoint = "AWS S3 (" + c.rep.remote.Region + ")"
	}
	rec, err := c.reconcile.state(false)
	if err != nil {
		return st, err
	}
	st.Reconcile = &rec
	scr, err := c.scrub.state(false)
	if err != nil {
		return st, err
	}
	st.Scrub = &scr
	if c.lifecycle != nil {
		lc, err := c.lifecycle.state(false)
		if err != nil {
			return st, err
		}
		st.Lifecycle = &lc
	}
	js, err := c.node.Stats()
	if err != nil {
		return st, err
	}
	st.Drop = dropReport(c.drop)
	if c.publicBuckets != nil {
		st.PublicBuckets = c.publicBuckets()
	}
	st.Journal = admin.Journal{Buckets: js.Buckets, Objects: js.Objects, Bytes: js.Bytes, Jobs: js.Jobs, AppliedIndex: js.AppliedIndex,
		Versions: js.Versions, VersionBytes: js.VersionBytes}
	if c.alerts != nil {
		st.Alerts = c.alerts.Active()
	}
	return st, nil
}

// replicationState names the one thing that matters most: an operator's pause,
// then a remote that refuses us, then the limits, then whether work is under way.
func replicationState(rs replication.Status) string {
	switch {
	case rs.State == "standby":
		return admin.StateStandby
	case rs.Bandwidth.ManualPause:
		return admin.StatePaused
	case rs.Paused:
		return admin.StateError
	case rs.Bandwidth.Paused:
		return admin.StateTimetable
	case rs.Bandwidth.BudgetSpent:
		return admin.StateBudgetSpent
	case rs.Unreachable:
		return admin.StateUnreachable
	case len(rs.Active) > 0 || rs.QueueJobs > rs.Quarantined:
		return admin.StateRunning
	}
	return admin.StateIdle
}

// offsite reports what is not on the remote yet, and when it will be: the
// pending bytes over the recent upload rate, while uploads run.
func offsite(off queue.Offsite, rs replication.Status, state string) admin.Offsite {
	o := admin.Offsite{
		PendingObjects: off.PendingObjects, PendingBytes: off.PendingBytes,
		OldestPending: timePtr(off.OldestPending), LastUpload: timePtr(off.LastReplicated),
		RecentRate: rs.RecentRate,
	}
	if off.PendingBytes == 0 {
		eta := 0.0
		o.ETASeconds = &eta
	} else if rs.RecentRate > 0 && state == admin.StateRunning {
		eta := float64(off.PendingBytes) / rs.RecentRate
		o.ETASeconds = &eta
	}
	return o
}

func jobs(in []replication.JobStatus) []admin.Job {
	out := make([]admin.Job, 0, len(in))
	for _, j := range in {
		out = append(out, admin.Job{
			ID: j.ID, Op: j.Op, Bucket: j.Bucket, Key: j.Key, Size: j.Size, BytesDone: j.BytesDone,
			Parts: j.Parts, PartsDone: j.PartsDone, Rate: j.Rate, ETASeconds: j.ETA.Seconds(),
			Attempts: j.Attempts, LastError: j.LastError, Quarantined: j.Quarantined, NotBefore: timePtr(j.NotBefore),
		})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Pause implements admin.Controller.
func (c *control) Pause(context.Context) error {
	c.rep.bw.Pause()
	c.log.Info().Msg("replication paused by request; `gateway replication resume` resumes it")
	return nil
}

// Resume implements admin.Controller.
func (c *control) Resume(context.Context) error {
	c.rep.bw.Resume()
	c.rep.rep.Notify()
	c.log.Info().Msg("replication resumed by request")
	return nil
}

// SetBandwidth implements admin.Controller.
func (c *control) SetBandwidth(_ context.Context, spec string) error {
	base, sched, err := parseBandwidth(spec)
	if err != nil {
		return fmt.Errorf("%w: bandwidth %q: %v", admin.ErrInvalid, spec, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.settings.spec
	c.settings.spec, c.settings.base, c.settings.schedule = spec, base, sched
	c.applyLocked()
	c.log.Info().Str("from", old).Str("to", spec).Msg("bandwidth changed by request (until the next restart or SIGHUP; put it in replication.bandwidth to keep it)")
	return nil
}

// applyLocked hands the settings to the limiter. Caller holds mu.
func (c *control) applyLocked() {
	c.rep.bw.SetSchedule(c.settings.schedule)
	c.rep.bw.SetLimit(c.settings.base)
}

// reload applies the run-time settings of a re-read configuration: bandwidth,
// monthly budget and, when it changed in the file, paused. Everything else
// needs a restart.
func (c *control) reload(rc ReplicationConfig) error {
	s, err := rc.settings()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	changed := false
	if s.spec != c.settings.spec {
		c.log.Info().Str("from", c.settings.spec).Str("to", s.spec).Msg("reload: replication.bandwidth changed")
		c.settings.spec, c.settings.base, c.settings.schedule = s.spec, s.base, s.schedule
		c.applyLocked()
		changed = true
	}
	if s.budget != c.settings.budget {
		c.log.Info().Int64("from", c.settings.budget).Int64("to", s.budget).Msg("reload: replication.monthly_budget changed")
		c.settings.budget = s.budget
		// The month's count carries over: a new budget is not a new month.
		c.rep.bw.SetMonthlyBudget(s.budget, c.rep.bw.State().BudgetUsed)
		changed = true
	}
	if rc.Paused != c.paused {
		c.log.Info().Bool("from", c.paused).Bool("to", rc.Paused).Msg("reload: replication.paused changed")
		c.paused = rc.Paused
		if rc.Paused {
			c.rep.bw.Pause()
		} else {
			c.rep.bw.Resume()
			c.rep.rep.Notify()
		}
		changed = true
	}
	if !changed {
		c.log.Info().Msg("reload: no run-time replication setting changed (other settings apply at the next restart)")
	}
	return nil
}

// RetryJob implements admin.Jobs: journaled first, so that the retry holds
// across a restart, then told to the replicator.
func (c *control) RetryJob(ctx context.Context, id string) error {
	err := c.node.JobRetry(ctx, id)
	switch {
	case errors.Is(err, queue.ErrNoSuchJob):
		return fmt.Errorf("%w: no replication job %q (it may have finished)", admin.ErrNotFound, id)
	case errors.Is(err, queue.ErrNotLeader):
		return fmt.Errorf("%w: this node does not lead the journal; retry on the leader", admin.ErrConflict)
	case err != nil:
		return err
	}
	c.rep.rep.Retried(id)
	c.log.Info().Str("job", id).Msg("replication job retried by request")
	return nil
}
