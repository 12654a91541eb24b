package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/metrics"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
)

// Embedded default remote: without a configured remote, objects are replicated through
// the same S3 code path to an endpoint this process serves on loopback from a second
// directory. It proves the pipeline works; it is not an offsite copy.
const (
	localRemoteDir    = "local-remote"
	localRemoteBucket = "ipas-replica"
)

// ReplicationConfig is the replication section: the replicator's tunables plus the
// bandwidth rules.
type ReplicationConfig struct {
	replication.Config `yaml:",inline"`
	// Bandwidth is "unlimited", a rate such as "300KiB/s", or a weekly timetable such as
	// "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited".
	Bandwidth string `yaml:"bandwidth"`
	// MonthlyBudget caps the bytes uploaded per calendar month, e.g. "200GiB"; empty: none.
	MonthlyBudget string `yaml:"monthly_budget"`
	// Paused starts with uploads paused.
	Paused bool `yaml:"paused"`
	// ReconcileInterval is how often the remote is listed and compared with
	// the index (uploading what it lacks); 0 turns the schedule off.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
}

// DefaultBandwidth is no limit.
const DefaultBandwidth = "unlimited"

func defaultReplicationConfig() ReplicationConfig {
	return ReplicationConfig{Config: replication.DefaultConfig(), Bandwidth: DefaultBandwidth, ReconcileInterval: DefaultReconcileInterval}
}

// bandwidthSettings are the limits that can change at run time (API, SIGHUP).
type bandwidthSettings struct {
	spec     string // as written: a rate or a timetable
	base     int64  // bytes/s outside the timetable; Unlimited for none
	schedule replication.Schedule
	budget   int64 // bytes per calendar month; 0 for none
}

// parseBandwidth parses a rate ("300KiB/s", "unlimited") or a weekly timetable
// ("Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited"; without "otherwise" the rest
// of the week is unlimited).
func parseBandwidth(spec string) (base int64, sched replication.Schedule, err error) {
	if strings.ContainsAny(spec, ":") { // a timetable has clock times
		s, otherwise, ok, err := replication.ParseTimetable(spec)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			otherwise = replication.Unlimited
		}
		return otherwise, s, nil
	}
	r, err := replication.ParseRate(spec)
	return r, nil, err
}

// settings parses the bandwidth and the monthly budget.
func (c ReplicationConfig) settings() (bandwidthSettings, error) {
	s := bandwidthSettings{spec: c.Bandwidth}
	var err error
	if s.base, s.schedule, err = parseBandwidth(c.Bandwidth); err != nil {
		fix := "write e.g. 300KiB/s or unlimited"
		if strings.Contains(c.Bandwidth, ":") {
			fix = `write e.g. "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited"`
		}
		return s, &ConfigError{Field: "replication.bandwidth", Problem: err.Error(), Fix: fix}
	}
	if c.MonthlyBudget != "" {
		n, err := replication.ParseRate(c.MonthlyBudget)
		if err != nil || n == replication.Unlimited {
			return s, &ConfigError{Field: "replication.monthly_budget", Problem: fmt.Sprintf("%q is not a size", c.MonthlyBudget),
				Fix: "write e.g. 200GiB, or leave it empty for no budget"}
		}
		s.budget = n
	}
	return s, nil
}

// bandwidth builds the shared limiter from the configuration, with usedThisMonth
// bytes already counted against the month (restored from the budget file).
func (c ReplicationConfig) bandwidth(usedThisMonth int64) (*replication.Bandwidth, error) {
	s, err := c.settings()
	if err != nil {
		return nil, err
	}
	bw := replication.NewBandwidth(s.base, s.schedule)
	bw.SetMonthlyBudget(s.budget, usedThisMonth)
	if c.Paused {
		bw.Pause()
	}
	return bw, nil
}

// replicator is the running replication pipeline and what it needs closed.
type replicator struct {
	rep    *replication.Replicator
	bw     *replication.Bandwidth
	remote remote.Config // where the copy goes
	client *remote.Client
	local  *localRemote // nil when a real remote is configured
	// change says whether the remote differs from the one the journal
	// recorded: every object must then be checked against it.
	change *remoteChange
	budget *budgetFile
	done   chan struct{}
}

// startReplicator starts the workers (they run only while this node leads the journal).
// m, when not nil, counts part retries, failed attempts and remote errors.
func startReplicator(ctx context.Context, cfg Config, a *dataArchive, m *metrics.Metrics, log zerolog.Logger) (*replicator, error) {
	rc := cfg.Remote.FromEnv()
	r := &replicator{done: make(chan struct{})}
	if rc.Endpoint == "" && rc.Bucket == "" {
		lr, err := startLocalRemote(ctx, cfg, a.dir.join(localRemoteDir), log)
		if err != nil {
			return nil, err
		}
		r.local = lr
		rc = lr.config
		log.Warn().Str("endpoint", rc.Endpoint).Str("dir", a.dir.join(localRemoteDir)).
			Msg("no remote configured: replicating to a local copy on this machine, which is NOT offsite; set remote.bucket (and remote.endpoint for non-AWS) for an offsite copy")
	}
	opts := []remote.Option{remote.WithConnections(max(remote.DefaultConnections, cfg.Replication.Requests()))}
	if m != nil {
		opts = append(opts, remote.WithErrorHook(m.RemoteError))
	}
	client, err := remote.New(ctx, rc, log, opts...)
	if err != nil {
		r.closeLocal(ctx)
		return nil, fmt.Errorf("remote: %w", err)
	}
	r.remote, r.client = rc, client
	if r.local == nil {
		go logProtection(ctx, client, log)
	}
	if r.change, err = checkRemote(ctx, a.node, remoteIdentity(rc, r.local != nil), log); err != nil {
		r.closeLocal(ctx)
		return nil, fmt.Errorf("remote: %w", err)
	}
	r.budget = &budgetFile{path: a.dir.join(budgetFileName), log: log}
	used, err := r.budget.load(time.Now())
	if err != nil {
		log.Warn().Err(err).Msg("monthly upload count not restored: counting from 0")
	}
	bw, err := cfg.Replication.bandwidth(used)
	if err != nil {
		r.closeLocal(ctx)
		return nil, err
	}
	r.bw = bw
	qj := replication.QueueJournal{Node: a.node}
	rep, err := replication.New(cfg.Replication.Config, qj, a.store, client, bw, log)
	if err != nil {
		r.closeLocal(ctx)
		return nil, err
	}
	if m != nil {
		rep.SetEvents(replication.Events{PartRetry: m.PartRetried, AttemptFailed: m.AttemptFailed})
	}
	r.rep = rep
	go func() {
		defer close(r.done)
		go r.budget.run(ctx, bw)
		rep.Run(ctx, qj)
	}()
	return r, nil
}

// stop waits for the workers (ctx given to startReplicator must be cancelled first),
// then closes the local remote.
func (r *replicator) stop(ctx context.Context) error {
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("replication did not stop: %w", ctx.Err())
	}
	// Every byte sent is counted now that the workers are gone. On a full
	// disk the count of the last minute is lost (the budget then allows a
	// little more), which is no reason to fail the shutdown.
	berr := r.budget.save(r.bw)
	if errors.Is(berr, syscall.ENOSPC) {
		r.budget.log.Warn().Err(berr).Msg("save the monthly upload count")
		berr = nil
	}
	return errors.Join(berr, r.closeLocal(ctx))
}

func (r *replicator) closeLocal(ctx context.Context) error {
	if r.local == nil {
		return nil
	}
	return r.local.close(ctx)
}

// localRemote is the embedded default remote: a second archive served on loopback.
type localRemote struct {
	archive *dataArchive
	config  remote.Config
	stop    context.CancelFunc
	served  chan error
}

func startLocalRemote(ctx context.Context, cfg Config, dir string, log zerolog.Logger) (*localRemote, error) {
	lcfg := cfg
	lcfg.DataDir = dir
	llog := log.With().Str("instance", localRemoteDir).Logger().Level(zerolog.WarnLevel)
	a, err := openArchive(ctx, lcfg, llog)
	if err != nil {
		return nil, fmt.Errorf("local remote: %w", err)
	}
	if err := a.node.CreateBucket(ctx, localRemoteBucket, time.Now()); err != nil && !errors.Is(err, queue.ErrBucketExists) {
		a.close(context.Background())
		return nil, fmt.Errorf("local remote: %w", err)
	}
	// A fresh credential each start: it never leaves this process.
	ak, sk := "LOCAL"+rand.Text()[:15], rand.Text()+rand.Text()
	gcfg := gateway.DefaultConfig(sigv4.StaticCredentials{ak: sk})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.close(context.Background())
		return nil, fmt.Errorf("local remote: %w", err)
	}
	srv := gateway.New(gcfg, a.node, a.objects, llog)
	sctx, stop := context.WithCancel(context.Background())
	lr := &localRemote{archive: a, stop: stop, served: make(chan error, 1)}
	go func() { lr.served <- srv.Serve(sctx, ln) }()
	lr.config = remote.DefaultConfig()
	lr.config.Endpoint = "http://" + ln.Addr().String()
	lr.config.Bucket = localRemoteBucket
	lr.config.PathStyle = true
	lr.config.AccessKey, lr.config.SecretKey = ak, sk
	return lr, nil
}

func (l *localRemote) close(ctx context.Context) error {
	l.stop()
	<-l.served
	return l.archive.close(ctx)
}
