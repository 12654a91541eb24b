package queue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// fsmFile is the state database inside the raft directory.
const fsmFile = "fsm.db"

// boltOpenTimeout bounds the wait for bbolt's file lock: another process
// holding it is a misconfiguration, not something to wait out.
const boltOpenTimeout = time.Second

// fsm is the raft state machine: a bbolt database that records, in the same
// transaction as every change, the last raft index it applied. Entries at or
// below that index are skipped, so a restart replays exactly what is
// missing. Apply, ApplyBatch, Snapshot and Restore run on raft's FSM
// goroutine; reads run anywhere.
//
// Entries are applied into a write transaction that stays open across raft
// batches (see pending.go): the raft log, not fsm.db, is what makes an
// acknowledged command durable, so fsm.db commits (two fsyncs and every
// touched page) are shared by up to maxPendingCommands commands. A read
// runs inside the open transaction when there is one (view), so it sees
// every command applied before it started without forcing a commit.
type fsm struct {
	path string
	log  zerolog.Logger

	mu sync.RWMutex // held exclusively only while Restore swaps the file
	db *bolt.DB

	// authGen changes after an apply that changed users, keys, buckets or
	// policies, and after a restore (Node.AuthGeneration).
	authGen atomic.Uint64
	applied atomic.Uint64 // last index applied, committed or in the open transaction

	pendMu    sync.Mutex // guards the open write transaction
	pend      *bolt.Tx   // nil when every applied entry is committed
	pendCmds  int        // commands applied in pend
	pendTimer *time.Timer
	pendAge   time.Duration // how long pend may wait for a commit (maxPendingAge)
	commits   atomic.Uint64 // pending transactions committed since open
	// pendInline is set when pend holds an entry that carries inline data:
	// its blob must be durable (inline.SyncInline) before pend commits.
	pendInline bool
	pendEarly  bool        // the timer was told to commit pend now (maxPendingCommands)
	inline     InlineBlobs // nil: inline data fails the entry

	failMu sync.Mutex
	failed error // first transaction failure; sticky until restart
	// failedNoSpace is set when failed is a lack of space, which
	// recoverNoSpace clears by replaying the log once there is room.
	failedNoSpace bool
	// delivered is the last index raft handed to ApplyBatch, applied or
	// not: what a recovery must replay up to.
	delivered atomic.Uint64

	// logs is raft's log store, from which a commit that failed for lack
	// of space is replayed into a new transaction; nil disables that.
	logs raft.LogStore
	// onNoSpace releases the space reserved for the journal (reserve),
	// reporting whether there was a reserve to release.
	onNoSpace func(why string) bool
	// onFatal is told, once, of a failure that is not a lack of space (an
	// I/O error): nothing but a restart, which replays the log, can fix it.
	onFatal func(error)

	// appliedCommands counts command entries applied (not skipped as
	// already in fsm.db) since open; tests use it to prove no replay.
	appliedCommands atomic.Uint64
	// logBytes counts entry bytes applied since the last snapshot.
	logBytes      atomic.Int64
	snapshotBytes int64 // threshold for wantSnapshot; 0 disables
	// inlineBytes counts inline object bytes applied since the last
	// snapshot, apart from logBytes; snapshotInline is its threshold.
	inlineBytes    atomic.Int64
	snapshotInline int64
	wantSnapshot   chan struct{} // signalled once logBytes passes it
	// jobsAdded is signalled after an apply that added a job (and after a
	// Restore): the replicator waits on it instead of polling the job list.
	jobsAdded chan struct{}
}

var (
	_ raft.BatchingFSM = (*fsm)(nil)
	_ raft.FSMSnapshot = (*fsmSnapshot)(nil)
)

func openFSM(path string, snapshotBytes int64, log zerolog.Logger) (*fsm, error) {
	f := &fsm{path: path, log: log, snapshotBytes: snapshotBytes, wantSnapshot: make(chan struct{}, 1),
		jobsAdded: make(chan struct{}, 1), pendAge: maxPendingAge}
	if err := f.open(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *fsm) open() error {
	db, err := bolt.Open(f.path, 0o600, &bolt.Options{Timeout: boltOpenTimeout})
	if err != nil {
		return fmt.Errorf("queue: open %s: %w", f.path, err)
	}
	var applied uint64
	err = db.View(func(tx *bolt.Tx) error {
		applied = appliedIndex(tx)
		if err := initSchema(tx); err != nil { // read-only: checks the version
			return err
		}
		if !schemaCurrent(tx) {
			return errNoSchema
		}
		return nil
	})
	if errors.Is(err, errNoSchema) {
		err = db.Update(initSchema) // written only for a new database or an older layout
	}
	if err != nil {
		db.Close()
		return fmt.Errorf("queue: open %s: %w", f.path, err)
	}
	f.db = db
	f.applied.Store(applied)
	return nil
}

var errNoSchema = errors.New("no schema")

func (f *fsm) close() error {
	perr := f.commitPending() // a clean shutdown leaves nothing to replay
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db == nil {
		return perr
	}
	err := errors.Join(perr, f.db.Close())
	f.db = nil
	return err
}

// view runs fn against the state every applied command is in. When applied
// commands wait in the shared write transaction, fn reads that transaction
// under pendMu (a commit costs fsm.db's two fsyncs, and a read before every
// PUT, such as its bucket check, used to force one); otherwise it runs in a
// read transaction, concurrently with other readers. fn must be a bounded
// read that keeps no slice of the transaction's pages after it returns:
// applies wait while it runs. Long scans use viewCommitted.
func (f *fsm) view(fn func(tx *bolt.Tx) error) error {
	return f.whileOpen(func() error { return f.viewLocked(fn) })
}

func (f *fsm) viewLocked(fn func(tx *bolt.Tx) error) error {
	f.pendMu.Lock()
	if f.pend != nil {
		defer f.pendMu.Unlock()
		if err := f.failure(); err != nil {
			return err
		}
		return fn(f.pend)
	}
	// Nothing applied is uncommitted. A command applied after the unlock
	// was applied after this read began: not seeing it is correct.
	f.pendMu.Unlock()
	if err := f.failure(); err != nil {
		// Commands acknowledged before the failure may be missing from
		// fsm.db: an answer from it could be stale.
		return err
	}
	return f.db.View(fn)
}

// viewCommitted runs fn in a read transaction after committing whatever is
// pending, so that a long scan sees every applied command without holding
// up applies.
func (f *fsm) viewCommitted(fn func(tx *bolt.Tx) error) error {
	return f.whileOpen(func() error {
		if err := f.commitPending(); err != nil {
			return err
		}
		if err := f.failure(); err != nil {
			return err
		}
		return f.db.View(fn)
	})
}

// whileOpen runs fn with f.db open and not being swapped by Restore.
func (f *fsm) whileOpen(fn func() error) error {
	if f == nil {
		return ErrClosed
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.db == nil {
		return ErrClosed
	}
	return fn()
}

func (f *fsm) failure() error {
	f.failMu.Lock()
	defer f.failMu.Unlock()
	return f.failed
}

// pausedNoSpace reports whether the failure is a lack of space, which
// recoverNoSpace clears.
func (f *fsm) pausedNoSpace() bool {
	f.failMu.Lock()
	defer f.failMu.Unlock()
	return f.failed != nil && f.failedNoSpace
}

func (f *fsm) fail(err error) error {
	f.failMu.Lock()
	defer f.failMu.Unlock()
	if f.failed != nil {
		return f.failed
	}
	if isNoSpace(err) && f.logs != nil {
		f.failed = fmt.Errorf("%w: %w", ErrFSMFailed, err)
		f.failedNoSpace = true
		f.log.Error().Err(err).Msg("state machine paused: the disk is full; it resumes once space is freed")
		return f.failed
	}
	f.failed = fmt.Errorf("%w: %w (restart to replay the log)", ErrFSMFailed, err)
	f.log.Error().Err(err).Msg("state machine stopped applying; restart to replay the raft log")
	if f.onFatal != nil {
		go f.onFatal(f.failed)
	}
	return f.failed
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM: the entries go into the write
// transaction shared across batches (pending.go). The response for a
// command entry is a []error with one result per command, or an error if
// the transaction failed.
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	res := f.applyBatch(logs)
	if len(logs) > 0 {
		f.delivered.Store(logs[len(logs)-1].Index)
	}
	return res
}

func (f *fsm) applyBatch(logs []*raft.Log) []any {
	res := make([]any, len(logs))
	if len(logs) == 0 {
		return res
	}
	if err := f.failure(); err != nil {
		// A commit failed for lack of space: replay what it lost first, if
		// there is room now; these entries follow.
		if err = f.recoverNoSpace(logs[0].Index - 1); err != nil {
			for i := range res {
				res[i] = err
			}
			return res
		}
	}
	applied := f.applied.Load()
	first := 0
	for first < len(logs) && logs[first].Index <= applied {
		first++ // already in fsm.db: replay after a restart
	}
	if first == len(logs) {
		return res
	}
	last := logs[len(logs)-1].Index
	var bytes, inlined int64
	var entries uint64
	added, authChanged := false, false
	f.pendMu.Lock()
	defer f.pendMu.Unlock()
	err := f.applyPending(func(tx *bolt.Tx) (int, error) {
		cmds := 0
		seq, gen := getU64(tx.Bucket(bktMeta), keyNextSeq), getU64(tx.Bucket(bktMeta), keyAuthGen)
		defer func() {
			added = getU64(tx.Bucket(bktMeta), keyNextSeq) != seq
			authChanged = getU64(tx.Bucket(bktMeta), keyAuthGen) != gen
		}()
		for i := first; i < len(logs); i++ {
			l := logs[i]
			if l.Type != raft.LogCommand {
				continue // configuration changes live in raft, not here
			}
			results, inl, err := applyEntry(tx, l.Data, f.restoreInline())
			if err != nil {
				return 0, fmt.Errorf("raft index %d: %w", l.Index, err)
			}
			res[i] = results
			cmds += len(results)
			bytes += int64(len(l.Data)) - inl
			inlined += inl
			entries++
		}
		return cmds, putU64(tx.Bucket(bktMeta), keyApplied, last)
	})
	if err != nil {
		err = f.fail(err)
		for i := first; i < len(logs); i++ {
			res[i] = err
		}
		return res
	}
	f.applied.Store(last)
	f.appliedCommands.Add(entries)
	if inlined > 0 {
		f.pendInline = true
	}
	if added {
		f.signalJobsAdded()
	}
	if authChanged {
		f.authGen.Add(1)
	}
	n, ni := f.logBytes.Add(bytes), f.inlineBytes.Add(inlined)
	if f.snapshotBytes > 0 && n >= f.snapshotBytes || f.snapshotInline > 0 && ni >= f.snapshotInline {
		select {
		case f.wantSnapshot <- struct{}{}:
		default:
		}
	}
	return res
}

func (f *fsm) signalJobsAdded() {
	select {
	case f.jobsAdded <- struct{}{}:
	default:
	}
}

// Snapshot implements raft.FSM. The read transaction pins the state at the
// last applied entry while Persist streams it and Apply goes on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if err := f.failure(); err != nil {
		// The database lags raft's applied index: a snapshot labelled with
		// that index would lose entries once the log is truncated.
		return nil, err
	}
	if err := f.commitPending(); err != nil {
		return nil, fmt.Errorf("queue: snapshot: %w", err)
	}
	tx, err := f.db.Begin(false)
	if err != nil {
		return nil, fmt.Errorf("queue: snapshot: %w", err)
	}
	f.logBytes.Store(0)
	f.inlineBytes.Store(0)
	f.authGen.Add(1)
	return &fsmSnapshot{tx: tx}, nil
}

type fsmSnapshot struct{ tx *bolt.Tx }

// Persist implements raft.FSMSnapshot: the snapshot is the database file.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.tx.WriteTo(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("queue: persist snapshot: %w", err)
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() { s.tx.Rollback() }

// Restore implements raft.FSM: the snapshot replaces fsm.db atomically
// (temporary file, fsync, rename, fsync of the directory).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	tmp := f.path + ".restore"
	if err := writeFileSync(tmp, rc); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: restore snapshot: %w", err)
	}
	if _, err := inspectFSM(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("queue: restore snapshot: %w", err)
	}
	f.dropPending() // superseded by the snapshot
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.db != nil {
		if err := f.db.Close(); err != nil {
			return fmt.Errorf("queue: restore snapshot: close %s: %w", f.path, err)
		}
		f.db = nil
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return f.fail(fmt.Errorf("restore snapshot: %w", err))
	}
	if err := syncDir(filepath.Dir(f.path)); err != nil {
		return f.fail(fmt.Errorf("restore snapshot: %w", err))
	}
	if err := f.open(); err != nil {
		return f.fail(err)
	}
	f.logBytes.Store(0)
	f.inlineBytes.Store(0)
	f.log.Info().Uint64("applied_index", f.applied.Load()).Msg("state restored from snapshot")
	f.signalJobsAdded()
	return nil
}

// inspectFSM opens a state database read-only and returns its last applied
// index, without writing to it.
func inspectFSM(path string) (uint64, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: boltOpenTimeout})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var applied uint64
	err = db.View(func(tx *bolt.Tx) error {
		if !hasSchema(tx) {
			if k, _ := tx.Cursor().First(); k == nil {
				return nil // empty: created but never initialised
			}
			return errors.New("a bbolt database, but not an ipas state database")
		}
		applied = appliedIndex(tx)
		return initSchema(tx)
	})
	return applied, err
}

func writeFileSync(path string, r io.Reader) error {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(fh, r); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Sync(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
