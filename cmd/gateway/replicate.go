package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
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
}

// DefaultBandwidth is no limit.
const DefaultBandwidth = "unlimited"

func defaultReplicationConfig() ReplicationConfig {
	return ReplicationConfig{Config: replication.DefaultConfig(), Bandwidth: DefaultBandwidth}
}

// bandwidth builds the shared limiter from the configuration.
func (c ReplicationConfig) bandwidth() (*replication.Bandwidth, error) {
	var base int64 = replication.Unlimited
	var sched replication.Schedule
	if strings.ContainsAny(c.Bandwidth, ":") { // a timetable has clock times
		s, otherwise, ok, err := replication.ParseTimetable(c.Bandwidth)
		if err != nil {
			return nil, &ConfigError{Field: "replication.bandwidth", Problem: err.Error(),
				Fix: `write e.g. "Mon-Fri 08:00-18:00 300KiB/s, otherwise unlimited"`}
		}
		sched = s
		if ok {
			base = otherwise
		}
	} else {
		r, err := replication.ParseRate(c.Bandwidth)
		if err != nil {
			return nil, &ConfigError{Field: "replication.bandwidth", Problem: err.Error(), Fix: "write e.g. 300KiB/s or unlimited"}
		}
		base = r
	}
	bw := replication.NewBandwidth(base, sched)
	if c.MonthlyBudget != "" {
		n, err := replication.ParseRate(c.MonthlyBudget)
		if err != nil || n == replication.Unlimited {
			return nil, &ConfigError{Field: "replication.monthly_budget", Problem: fmt.Sprintf("%q is not a size", c.MonthlyBudget),
				Fix: "write e.g. 200GiB, or leave it empty for no budget"}
		}
		// The budget spent is counted from this start; see the closing note of issue 5.
		bw.SetMonthlyBudget(n, 0)
	}
	if c.Paused {
		bw.Pause()
	}
	return bw, nil
}

// replicator is the running replication pipeline and what it needs closed.
type replicator struct {
	rep   *replication.Replicator
	local *localRemote // nil when a real remote is configured
	done  chan struct{}
}

// startReplicator starts the workers (they run only while this node leads the journal).
func startReplicator(ctx context.Context, cfg Config, a *archive, log zerolog.Logger) (*replicator, error) {
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
	client, err := remote.New(ctx, rc, log)
	if err != nil {
		r.closeLocal(ctx)
		return nil, fmt.Errorf("remote: %w", err)
	}
	bw, err := cfg.Replication.bandwidth()
	if err != nil {
		r.closeLocal(ctx)
		return nil, err
	}
	qj := replication.QueueJournal{Node: a.node}
	rep, err := replication.New(cfg.Replication.Config, qj, a.store, client, bw, log)
	if err != nil {
		r.closeLocal(ctx)
		return nil, err
	}
	r.rep = rep
	go func() {
		defer close(r.done)
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
	return r.closeLocal(ctx)
}

func (r *replicator) closeLocal(ctx context.Context) error {
	if r.local == nil {
		return nil
	}
	return r.local.close(ctx)
}

// localRemote is the embedded default remote: a second archive served on loopback.
type localRemote struct {
	archive *archive
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
	srv := gateway.New(gcfg, a.node, a.store, llog)
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
