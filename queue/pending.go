package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

const (
	// maxPendingCommands is the number of commands applied in one fsm.db
	// transaction after which it commits without waiting for maxPendingAge:
	// its dirty pages stay in memory until it commits (about 1 KiB a
	// command) and, after a crash, are replayed from the raft log. The
	// commit runs on the timer's goroutine, so that applies go on while it
	// waits for staged blobs; only at hardPendingCommands does an apply
	// commit (and wait) itself.
	maxPendingCommands  = 4096
	hardPendingCommands = 4 * maxPendingCommands
	// maxPendingAge is how long applied commands wait for a commit when
	// nothing else commits them (a snapshot, a long scan, the count above).
	// Nothing waits for it: reads see the open transaction, and the raft log
	// makes commands durable. It is also how often staged blobs are synced
	// in one batch (store.Store.SyncStaged), so it is not short.
	maxPendingAge = 500 * time.Millisecond
)

// applyPending runs fn in the open write transaction, beginning one if
// needed, and commits once maxPendingCommands commands are in it. fn returns
// how many commands it applied. On an error the transaction is rolled back:
// the commands applied in it are still in the raft log, and the caller
// stops the state machine until a restart replays them. f.pendMu is held.
func (f *fsm) applyPending(fn func(tx *bolt.Tx) (int, error)) error {
	if f.pend == nil {
		tx, err := f.db.Begin(true)
		if err != nil {
			return err
		}
		f.pend = tx
		f.pendTimer = time.AfterFunc(f.pendAge, func() {
			// Wait for staged blobs first without pendMu, so that applies go
			// on meanwhile; the commit then waits only for the newest.
			if f.inline != nil {
				f.inline.SyncInline(context.Background()) // its failure is the commit's
			}
			if err := f.commitPending(); err != nil {
				f.fail(err)
			}
		})
	}
	n, err := fn(f.pend)
	if err != nil {
		f.rollbackLocked()
		return err
	}
	f.pendCmds += n
	switch {
	case f.pendCmds >= hardPendingCommands:
		return f.commitLocked()
	case f.pendCmds >= maxPendingCommands && !f.pendEarly:
		f.pendEarly = true
		f.pendTimer.Reset(0)
	}
	return nil
}

// commitPending commits the open write transaction, if any.
func (f *fsm) commitPending() error {
	if f == nil {
		return nil
	}
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	return f.commitLocked()
}

func (f *fsm) commitLocked() error {
	if f.pend == nil {
		return nil
	}
	f.pendTimer.Stop()
	tx := f.pend
	inline := f.pendInline
	f.pend, f.pendCmds, f.pendInline, f.pendEarly = nil, 0, false, false
	if inline {
		// A committed entry is never replayed: the blobs whose bytes only
		// its inline data keeps must be durable first.
		if err := f.inline.SyncInline(context.Background()); err != nil {
			tx.Rollback()
			return f.commitFailed(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return f.commitFailed(err)
	}
	f.commits.Add(1)
	return nil
}

// commitFailed handles a commit of the open transaction that failed (and
// was rolled back). For lack of space, it releases the journal's reserve
// and replays the lost commands from the raft log into a new transaction:
// the state machine goes on, and the node refuses new data until space
// comes back. Any other failure stops the state machine. f.pendMu is held.
func (f *fsm) commitFailed(err error) error {
	err = fmt.Errorf("commit %s: %w", f.path, err)
	if !isNoSpace(err) || f.logs == nil {
		return f.fail(err)
	}
	if f.onNoSpace != nil {
		f.onNoSpace(err.Error())
	}
	if rerr := f.replayLocked(f.applied.Load()); rerr != nil {
		return f.fail(rerr)
	}
	f.commits.Add(1)
	return nil
}

// recoverNoSpace resumes a state machine that a lack of space paused: it
// replays from the raft log, in one transaction, every command up to upTo
// (and every applied one) that fsm.db does not hold. It returns the
// failure when that fails again, or when the failure was not a lack of
// space.
func (f *fsm) recoverNoSpace(upTo uint64) error {
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	f.failMu.Lock()
	failed, noSpace := f.failed, f.failedNoSpace
	f.failMu.Unlock()
	if failed == nil || !noSpace {
		return failed
	}
	if err := f.replayLocked(max(upTo, f.applied.Load())); err != nil {
		return failed
	}
	f.failMu.Lock()
	f.failed, f.failedNoSpace = nil, false
	f.failMu.Unlock()
	f.log.Info().Uint64("applied_index", f.applied.Load()).Msg("state machine resumed: space was freed")
	f.signalJobsAdded()
	return nil
}

// replayLocked applies the raft log's commands after fsm.db's last
// committed index, up to upTo, in a new transaction and commits it: what a
// failed commit lost. f.pendMu is held.
func (f *fsm) replayLocked(upTo uint64) error {
	f.rollbackLocked()
	var committed uint64
	if err := f.db.View(func(tx *bolt.Tx) error { committed = appliedIndex(tx); return nil }); err != nil {
		return err
	}
	if upTo <= committed {
		f.applied.Store(committed)
		return nil
	}
	tx, err := f.db.Begin(true)
	if err != nil {
		return err
	}
	inlined := false
	for i := committed + 1; i <= upTo; i++ {
		var l raft.Log
		if err := f.logs.GetLog(i, &l); err != nil {
			tx.Rollback()
			return fmt.Errorf("replay raft index %d: %w", i, err)
		}
		if l.Type != raft.LogCommand {
			continue
		}
		_, inl, err := applyEntry(tx, l.Data, f.restoreInline())
		if err != nil {
			tx.Rollback()
			return fmt.Errorf("replay raft index %d: %w", i, err)
		}
		inlined = inlined || inl > 0
	}
	if err := putU64(tx.Bucket(bktMeta), keyApplied, upTo); err != nil {
		tx.Rollback()
		return err
	}
	if inlined && f.inline != nil {
		if err := f.inline.SyncInline(context.Background()); err != nil {
			tx.Rollback()
			return fmt.Errorf("commit %s: %w", f.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", f.path, err)
	}
	f.applied.Store(upTo)
	return nil
}

// dropPending rolls the open transaction back (Restore replaces the state).
func (f *fsm) dropPending() {
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	f.rollbackLocked()
}

func (f *fsm) rollbackLocked() {
	if f.pend == nil {
		return
	}
	f.pendTimer.Stop()
	f.pend.Rollback()
	f.pend, f.pendCmds, f.pendInline, f.pendEarly = nil, 0, false, false
}
