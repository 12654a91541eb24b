package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// dataArchive is an opened data directory: its lock, the blob store, the journal,
// and the objects they make together. Every command that touches the archive
// opens it the same way.
type dataArchive struct {
	dir     *dataDir
	store   *store.Store
	node    *queue.Node
	objects *archive.Archive
}

// openArchive locks cfg.DataDir and opens the store and the journal in it. On error
// everything opened so far is closed again.
func openArchive(ctx context.Context, cfg Config, log zerolog.Logger, tune ...func(*queue.Config)) (_ *dataArchive, err error) {
	a := &dataArchive{}
	defer func() {
		if err != nil {
			a.close(context.Background())
		}
	}()
	if a.dir, err = openDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	st := store.New(a.dir.join(storeDir), log)
	st.CollectInterval = cfg.Store.GCInterval
	if err = st.Open(ctx); err != nil {
		return nil, err
	}
	a.store = st

	qc := queue.DefaultConfig(a.dir.join(journalDir))
	qc.SnapshotThreshold = cfg.Journal.SnapshotThreshold
	qc.SnapshotInterval = cfg.Journal.SnapshotInterval
	qc.TrailingLogs = cfg.Journal.TrailingLogs
	qc.ReserveBytes = cfg.Journal.Reserve
	qc.Inline = st // small objects' bytes travel in the journal (gateway.DefaultInlineMax)
	for _, f := range tune {
		f(&qc)
	}
	node := queue.New(qc, log)
	if err = node.Open(ctx); err != nil {
		return nil, err
	}
	a.node = node
	a.objects = archive.New(st, node)
	return a, nil
}

// markReferenced reports to the store's collector every blob the index still
// needs. A digest the index holds but cannot be parsed fails the whole mark:
// the collector must never read "unparseable" as "unreferenced".
func (a *dataArchive) markReferenced(ctx context.Context, mark func(store.Digest)) error {
	var bad error
	err := a.node.MarkReferenced(ctx, func(blob string) {
		d, err := store.ParseDigest(blob)
		if err != nil {
			bad = cmp.Or(bad, fmt.Errorf("index holds blob %q: %w", blob, err))
			return
		}
		mark(d)
	})
	return errors.Join(err, bad)
}

// close closes the journal, then the store, then releases the lock.
func (a *dataArchive) close(ctx context.Context) error {
	var errs []error
	if a.node != nil {
		if err := a.node.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close journal: %w", err))
		}
	}
	if a.store != nil {
		if err := a.store.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	if a.dir != nil {
		errs = append(errs, a.dir.close())
	}
	return errors.Join(errs...)
}

// withStoppedDaemonArchive runs fn on the archive of the configuration cf describes,
// for the commands that work while the daemon is stopped (import, verify): SIGINT and
// SIGTERM cancel fn's context, and the archive is closed afterwards.
func withStoppedDaemonArchive(cf *configFlags, fn func(ctx context.Context, a *dataArchive, log zerolog.Logger) error) error {
	cfg, err := cf.load()
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	a, err := openArchive(ctx, cfg, log, alone)
	if err != nil {
		return err
	}
	defer a.close(context.Background())
	return fn(ctx, a, log)
}

// aloneTimeout is how long the journal of a stopped daemon's data directory
// waits before it elects itself (between one and two times this), instead of
// queue.DefaultHeartbeatTimeout: a command such as `gateway restore` runs
// while the daemon is stopped, its process is the journal's only voter, and
// there is nobody to hear from. With the default it started 0.5-1 s late,
// half of the time a restore of 1 GiB takes.
const aloneTimeout = 50 * time.Millisecond

// alone tunes the journal of a command that runs with the daemon stopped.
// A single voter counts itself as a quorum, so short timeouts never cost it
// its leadership.
func alone(qc *queue.Config) {
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = aloneTimeout, aloneTimeout, aloneTimeout
}
