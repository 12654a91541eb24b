package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/rs/zerolog"
)

// Node is one member of the journal: raft, its log and snapshot stores, the
// bbolt state machine and the batching proposer. A single node is its own
// leader.
type Node struct {
	cfg  Config
	log  zerolog.Logger
	base zerolog.Logger // the injected logger, parent of raft's

	mu     sync.Mutex
	opened bool
	closed bool

	raft  *raft.Raft
	wal   *wal.WAL
	trans *raft.InmemTransport
	fsm   *fsm
	prop  *proposer
	// reserve keeps space for the journal on a full disk (space.go).
	reserve *reserve
	lead    leadership

	stop chan struct{} // closed by Close: stops the background goroutines
	bg   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// New returns a Node that Open starts. The logger gets component=queue; raft's
// own output arrives with component=raft.
func New(cfg Config, log zerolog.Logger) *Node {
	n := &Node{
		cfg:  cfg,
		base: log,
		log:  log.With().Str("component", "queue").Logger(),
		stop: make(chan struct{}),
	}
	n.lead.init()
	return n
}

// Open checks the raft directory, opens the stores, starts raft (bootstrapping
// a single-node cluster on first start) and returns once this node is the
// leader and has applied its whole log, or when ctx ends. A directory it
// cannot use makes Open fail with ErrBadState, without modifying any file.
func (n *Node) Open(ctx context.Context) error {
	n.mu.Lock()
	if n.opened || n.closed {
		n.mu.Unlock()
		return fmt.Errorf("queue: open: %w", ErrClosed)
	}
	n.opened = true
	n.mu.Unlock()
	if err := n.cfg.Validate(); err != nil {
		return err
	}
	if err := n.start(); err != nil {
		n.Close(context.Background())
		return err
	}
	if err := n.lead.wait(ctx, n.stop); err != nil {
		n.Close(context.Background())
		return fmt.Errorf("queue: open: wait for leadership: %w", err)
	}
	return nil
}

func (n *Node) start() error {
	dir := n.cfg.Dir
	pre, err := runPreflight(dir)
	if err != nil {
		return err
	}
	nodeID, err := n.resolveNodeID(pre)
	if err != nil {
		return err
	}
	walDir := filepath.Join(dir, walDirName)
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		return fmt.Errorf("queue: create %s: %w", walDir, err)
	}
	// A raft directory written by a version that left it readable by others
	// becomes owner-only (a few files: segments, fsm.db, snapshots).
	if err := ownerOnly(dir); err != nil {
		return err
	}
	if pre.nodeID == "" {
		if err := writeNodeID(dir, nodeID); err != nil {
			return err
		}
	}
	n.reserve = newReserve(dir, n.cfg.ReserveBytes, n.log)
	if err := n.reserve.open(); err != nil {
		return err
	}
	hl := newHclog(n.base)
	n.wal, err = openWAL(walDir, n.cfg.SegmentSize, hl.Named("wal"), n.reserve.release)
	if err != nil {
		return badState("%s cannot be opened by raft-wal (%v): restore it from a backup or move it away", walDir, err)
	}
	lastIndex, err := n.wal.LastIndex()
	if err != nil {
		return fmt.Errorf("queue: read log: %w", err)
	}
	if top := max(lastIndex, snapIndex(pre)); pre.fsmApplied > top {
		return badState("%s has applied raft index %d but the log and snapshots end at %d: the raft log was lost or replaced; restore it, or move %s away",
			filepath.Join(dir, fsmFile), pre.fsmApplied, top, fsmFile)
	}
	// The state machine is durable: replaying history or restoring the
	// snapshot is needed only if fsm.db is missing or behind it.
	noRestore := pre.snapshot == nil || fsmCurrent(n.wal, pre.fsmApplied, pre.snapshot.Index)
	if !noRestore {
		if err := verifySnapshotCRC(pre.snapPath); err != nil {
			return err
		}
		n.log.Info().Uint64("fsm_applied", pre.fsmApplied).Uint64("snapshot_index", pre.snapshot.Index).
			Msg("fsm.db is missing or behind the newest snapshot: restoring it")
	}
	n.fsm, err = openFSM(filepath.Join(dir, fsmFile), n.cfg.SnapshotLogBytes, n.log)
	if err != nil {
		return err
	}
	n.fsm.inline, n.fsm.snapshotInline = n.cfg.Inline, n.cfg.SnapshotInlineBytes
	n.fsm.logs, n.fsm.onNoSpace, n.fsm.onFatal = n.wal, n.reserve.release, n.cfg.OnFailure
	snaps, err := openSnapshots(dir, n.cfg.SnapshotRetain, hl.Named("snapshot"))
	if err != nil {
		return fmt.Errorf("queue: open snapshots: %w", err)
	}
	var addr raft.ServerAddress
	addr, n.trans = raft.NewInmemTransport(raft.ServerAddress(nodeID))

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(nodeID)
	rc.Logger = hl
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.NoSnapshotRestoreOnStart = noRestore

	hasState, err := raft.HasExistingState(n.wal, n.wal, snaps)
	if err != nil {
		return fmt.Errorf("queue: read raft state: %w", err)
	}
	n.raft, err = raft.NewRaft(rc, n.fsm, n.wal, n.wal, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("queue: start raft: %w", err)
	}
	if !hasState {
		boot := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: addr}}}
		if err := n.raft.BootstrapCluster(boot).Error(); err != nil {
			return fmt.Errorf("queue: bootstrap: %w", err)
		}
		n.log.Info().Str("node_id", nodeID).Msg("bootstrapped a single-node cluster")
	}
	n.prop = newProposer(n.raft, n.cfg, n.reserve.check)
	n.bg.Add(3)
	go n.monitorLeadership()
	go n.snapshotOnSize()
	go n.watchSpace()
	return nil
}

func snapIndex(p *preflight) uint64 {
	if p.snapshot == nil {
		return 0
	}
	return p.snapshot.Index
}

func (n *Node) resolveNodeID(pre *preflight) (string, error) {
	switch {
	case pre.nodeID != "" && n.cfg.NodeID != "" && pre.nodeID != n.cfg.NodeID:
		return "", badState("%s says %q but the config says %q: a node's ID never changes; fix the config",
			filepath.Join(n.cfg.Dir, nodeIDFile), pre.nodeID, n.cfg.NodeID)
	case pre.nodeID != "":
		return pre.nodeID, nil
	case n.cfg.NodeID != "":
		return n.cfg.NodeID, nil
	}
	b := make([]byte, 8)
	rand.Read(b)
	return "node-" + hex.EncodeToString(b), nil
}

func writeNodeID(dir, id string) error {
	path := filepath.Join(dir, nodeIDFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return fmt.Errorf("queue: write %s: %w", path, err)
	}
	fh, err := os.Open(tmp)
	if err == nil {
		err = fh.Sync()
		fh.Close()
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("queue: write %s: %w", path, err)
	}
	return nil
}

// snapshotOnSize asks raft for a snapshot once the entries applied since the
// last one pass SnapshotLogBytes, which raft's entry-count threshold cannot
// express: entries vary from one command to hundreds.
func (n *Node) snapshotOnSize() {
	defer n.bg.Done()
	for {
		select {
		case <-n.stop:
			return
		case <-n.fsm.wantSnapshot:
		}
		if n.fsm.logBytes.Load() < n.cfg.SnapshotLogBytes &&
			(n.cfg.SnapshotInlineBytes == 0 || n.fsm.inlineBytes.Load() < n.cfg.SnapshotInlineBytes) {
			continue // a stale signal: a snapshot was taken since
		}
		start := time.Now()
		err := n.raft.Snapshot().Error()
		switch {
		case err == nil:
			n.log.Info().Dur("took", time.Since(start)).Msg("snapshot taken (log size threshold)")
		case errors.Is(err, raft.ErrNothingNewToSnapshot), errors.Is(err, raft.ErrRaftShutdown):
		default:
			n.log.Warn().Err(err).Msg("snapshot on log size")
		}
	}
}

// Close stops the proposer (queued commands fail with ErrClosed, proposed
// ones finish), shuts raft down and closes the stores. It is idempotent.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		n.closed = true
		n.mu.Unlock()
		n.closeErr = n.shutdown(ctx)
	})
	return n.closeErr
}

func (n *Node) shutdown(ctx context.Context) error {
	var errs []error
	if n.prop != nil {
		if err := n.prop.close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	close(n.stop)
	if n.raft != nil {
		if err := n.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("queue: shut down raft: %w", err))
		}
	}
	n.bg.Wait()
	n.lead.end()
	if n.trans != nil {
		n.trans.Close()
	}
	// fsm.db first: a last commit that fails for lack of space is replayed
	// from the log.
	if n.fsm != nil {
		if err := n.fsm.close(); err != nil {
			errs = append(errs, fmt.Errorf("queue: close %s: %w", fsmFile, err))
		}
	}
	if n.wal != nil {
		if err := n.wal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("queue: close log: %w", err))
		}
	}
	return errors.Join(errs...)
}
