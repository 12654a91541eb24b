package main

import (
	"context"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// fullDiskCheckInterval is how often the daemon looks at the data
// directory's free space (a statfs) for collectWhileFull.
const fullDiskCheckInterval = 2 * time.Second

// collectWhileFull runs the store's collector as soon as the journal
// changes (a delete, an abort) while the disk is short of space: the
// node refuses new data (queue.ErrNoSpace), or less than low bytes are
// free. Otherwise deleted objects would hold their space until the next
// scheduled collection, and writes would answer 507 until then.
func collectWhileFull(ctx context.Context, a *dataArchive, low int64) {
	t := time.NewTicker(fullDiskCheckInterval)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		full := a.node.SpaceError() != nil
		if !full {
			disk, err := diskUsage(a.dir.path)
			full = err == nil && disk.FreeBytes < low
		}
		if !full {
			continue
		}
		st, err := a.node.Stats()
		if err != nil || st.AppliedIndex == last {
			continue
		}
		last = st.AppliedIndex
		a.store.CollectSoon()
	}
}

// exitOnJournalFailure is the journal's OnFailure in the daemon: a state
// machine that cannot commit for a reason other than a full disk (an I/O
// error) recovers only by replaying the raft log at start, so the process
// exits with a message for its service manager (systemd restarts it)
// instead of answering 500 to every request.
func exitOnJournalFailure(log zerolog.Logger) func(error) {
	return func(err error) {
		log.Error().Err(err).Msg("the journal cannot commit (an I/O error on the data directory's disk?): exiting so that the service manager restarts the daemon, which replays the raft log; check the disk (dmesg, smartctl) if it happens again")
		os.Exit(1)
	}
}
