package queue

import (
	"fmt"
	"time"
)

// Defaults for Config. They are chosen for a bbolt state machine that may hold
// a million objects (a few hundred MiB): a snapshot writes the whole database,
// so snapshots must be rare, while the log replayed at start-up (everything
// after the newest snapshot) must stay small enough to read in a second or two
// from an SD card.
const (
	// DefaultSnapshotThreshold is the number of raft entries after which a
	// snapshot is taken. Entries carry up to DefaultMaxBatchCommands commands.
	DefaultSnapshotThreshold = 65536
	// DefaultSnapshotLogBytes triggers a snapshot once this many bytes of
	// entries have been applied since the last one, whatever their count:
	// it bounds the log that start-up must read through.
	DefaultSnapshotLogBytes = 64 << 20
	// DefaultTrailingLogs is the number of entries kept after a snapshot. A
	// single node never needs them; a future follower catching up does.
	DefaultTrailingLogs = 1024
	// DefaultSnapshotInterval is how often raft checks the thresholds.
	DefaultSnapshotInterval = 2 * time.Minute
	// DefaultSnapshotRetain is how many snapshots stay on disk.
	DefaultSnapshotRetain = 2
	// DefaultSegmentSize is the raft-wal segment size; segments are
	// preallocated, so it is kept small for SD cards.
	DefaultSegmentSize = 16 << 20
	// DefaultHeartbeatTimeout also bounds how long a single node waits
	// before electing itself at start-up.
	DefaultHeartbeatTimeout = 500 * time.Millisecond
	// DefaultElectionTimeout is raft's election timeout.
	DefaultElectionTimeout = 500 * time.Millisecond
	// DefaultLeaderLeaseTimeout is raft's leader lease.
	DefaultLeaderLeaseTimeout = 250 * time.Millisecond
	// DefaultMaxBatchCommands caps the commands in one raft entry.
	DefaultMaxBatchCommands = 512
	// DefaultMaxBatchBytes caps the encoded size of one raft entry.
	DefaultMaxBatchBytes = 1 << 20
	// DefaultMaxInflightEntries is how many entries the proposer keeps in
	// flight; what queues meanwhile goes into the next entry.
	DefaultMaxInflightEntries = 2
	// DefaultReserveBytes is the space kept back for the journal on a full
	// disk (see Config.ReserveBytes): a new raft-wal segment and the
	// fsm.db commits of the deletes that free space.
	DefaultReserveBytes = DefaultSegmentSize + 4<<20
	// DefaultApplyTimeout bounds how long raft may take to accept an entry.
	DefaultApplyTimeout = 30 * time.Second
)

// Config configures a Node. Start from DefaultConfig.
type Config struct {
	// Dir is the raft directory: node-id, wal/, snapshots/, fsm.db.
	Dir string
	// NodeID is the raft server ID. Empty means: the one persisted in Dir,
	// or a new random one on first start.
	NodeID string
	// RaftAddr is the address for a TCP transport to other nodes. Empty (the
	// only supported value for now) means a single node on an in-memory
	// transport.
	RaftAddr string

	SnapshotThreshold  uint64
	SnapshotLogBytes   int64
	TrailingLogs       uint64
	SnapshotInterval   time.Duration
	SnapshotRetain     int
	SegmentSize        int
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	MaxBatchCommands   int
	MaxBatchBytes      int
	MaxInflightEntries int
	ApplyTimeout       time.Duration
	// SnapshotInlineBytes triggers a snapshot once this many bytes of inline
	// object data (PutObjectInline) have been applied since the last one;
	// 0 disables the trigger.
	SnapshotInlineBytes int64
	// Inline is the blob store that stages the objects PutObjectInline
	// journals, and restores them on replay. Nil refuses PutObjectInline.
	Inline InlineBlobs
	// OnCommit, when set, is told how long each raft entry took from the
	// proposal to its result (log append with its fsync, commit and apply):
	// the journal's commit latency, which every acknowledged write waits
	// for. It must not block.
	OnCommit func(time.Duration)
	// ReserveBytes is the size of a preallocated file in Dir that is
	// released when the disk is full, so that the journal can still commit
	// (the deletes that free space, above all), and re-created once the file
	// system has room for it twice over. While it is released the node
	// refuses commands that add data with ErrNoSpace. 0 disables it.
	ReserveBytes int64
	// ReserveCheckInterval is how often a node whose reserve is released
	// looks for free space.
	ReserveCheckInterval time.Duration
	// OnFailure, when set, is told once that the state machine stopped for
	// a reason other than a full disk (an I/O error committing fsm.db):
	// only a restart, which replays the raft log, recovers from it. The
	// daemon exits there, so that its service manager restarts it.
	OnFailure func(error)
}

// DefaultConfig returns a Config for a single node in dir.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:                  dir,
		SnapshotThreshold:    DefaultSnapshotThreshold,
		SnapshotLogBytes:     DefaultSnapshotLogBytes,
		TrailingLogs:         DefaultTrailingLogs,
		SnapshotInterval:     DefaultSnapshotInterval,
		SnapshotRetain:       DefaultSnapshotRetain,
		SegmentSize:          DefaultSegmentSize,
		HeartbeatTimeout:     DefaultHeartbeatTimeout,
		ElectionTimeout:      DefaultElectionTimeout,
		LeaderLeaseTimeout:   DefaultLeaderLeaseTimeout,
		MaxBatchCommands:     DefaultMaxBatchCommands,
		MaxBatchBytes:        DefaultMaxBatchBytes,
		MaxInflightEntries:   DefaultMaxInflightEntries,
		ApplyTimeout:         DefaultApplyTimeout,
		SnapshotInlineBytes:  DefaultSnapshotInlineBytes,
		ReserveBytes:         DefaultReserveBytes,
		ReserveCheckInterval: DefaultReserveCheckInterval,
	}
}

// Validate names the first bad field and how to fix it.
func (c Config) Validate() error {
	bad := func(field, fix string) error {
		return fmt.Errorf("queue: config %s: %s", field, fix)
	}
	switch {
	case c.Dir == "":
		return bad("Dir", "set the raft directory")
	case c.RaftAddr != "":
		return bad("RaftAddr", "multi-node transport is not implemented yet; leave it empty")
	case c.SnapshotThreshold == 0:
		return bad("SnapshotThreshold", fmt.Sprintf("must be > 0 (default %d)", DefaultSnapshotThreshold))
	case c.SnapshotLogBytes < 0:
		return bad("SnapshotLogBytes", "must be >= 0 (0 disables the size trigger)")
	case c.SnapshotInlineBytes < 0:
		return bad("SnapshotInlineBytes", "must be >= 0 (0 disables the size trigger)")
	case c.SnapshotInterval < 5*time.Millisecond:
		return bad("SnapshotInterval", fmt.Sprintf("must be >= 5ms (default %s)", DefaultSnapshotInterval))
	case c.SnapshotRetain < 1:
		return bad("SnapshotRetain", fmt.Sprintf("must be >= 1 (default %d)", DefaultSnapshotRetain))
	case c.SegmentSize < 1<<20 || c.SegmentSize < 2*c.MaxBatchBytes:
		return bad("SegmentSize", "must be >= 1 MiB and >= 2*MaxBatchBytes")
	case c.LeaderLeaseTimeout <= 0 || c.LeaderLeaseTimeout > c.HeartbeatTimeout || c.HeartbeatTimeout > c.ElectionTimeout:
		return bad("LeaderLeaseTimeout/HeartbeatTimeout/ElectionTimeout", "need 0 < LeaderLeaseTimeout <= HeartbeatTimeout <= ElectionTimeout")
	case c.MaxBatchCommands < 1:
		return bad("MaxBatchCommands", fmt.Sprintf("must be >= 1 (default %d)", DefaultMaxBatchCommands))
	case c.MaxBatchBytes < 4<<10:
		return bad("MaxBatchBytes", fmt.Sprintf("must be >= 4 KiB (default %d)", DefaultMaxBatchBytes))
	case c.MaxInflightEntries < 1:
		return bad("MaxInflightEntries", fmt.Sprintf("must be >= 1 (default %d)", DefaultMaxInflightEntries))
	case c.ReserveBytes < 0:
		return bad("ReserveBytes", fmt.Sprintf("must be >= 0 (default %d; 0 disables the reserve)", DefaultReserveBytes))
	case c.ReserveBytes > 0 && c.ReserveCheckInterval <= 0:
		return bad("ReserveCheckInterval", fmt.Sprintf("must be > 0 (default %s)", DefaultReserveCheckInterval))
	case c.ApplyTimeout <= 0:
		return bad("ApplyTimeout", fmt.Sprintf("must be > 0 (default %s)", DefaultApplyTimeout))
	}
	return nil
}
