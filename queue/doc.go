// Package queue is IPAS's durable journal: every state change (bucket and object puts and
// deletes, multipart uploads and their parts, replication progress) is a versioned,
// deterministic, idempotent command committed through hashicorp/raft with a raft-wal log,
// and applied to a bbolt-backed state machine that holds the bucket list, the object index
// (current versions, and apart the noncurrent versions and delete markers of versioned
// buckets), the uploads in progress and the replication job table (MarkReferenced reports every blob
// they name, for the store's collector). A batching proposer lets many concurrent writers
// share one fsync of the raft log.
//
// The raft log, not fsm.db, makes a command durable: entries are applied into one bbolt
// write transaction that stays open across raft batches and commits after 4,096 commands,
// 500 ms after it began, or before a snapshot, a long scan (MarkReferenced) or Close, so
// fsm.db's own fsyncs are shared by thousands of commands. Reads run inside that open
// transaction when there is one, so a read sees every command applied before it without
// forcing a commit. An entry that carries a small object's bytes (PutObjectInline) commits
// only after the store has made that object's blob durable (Config.Inline). After a crash,
// raft replays what the last commit did not hold.
//
// The raft directory (Config.Dir) holds node-id, wal/ (raft-wal: log and stable store),
// snapshots/ (raft.FileSnapshotStore; a snapshot is a copy of fsm.db) and fsm.db. fsm.db
// records the last raft index it applied in the same transaction as the changes, so a
// restart neither restores the snapshot nor re-applies entries it already holds; when fsm.db
// is missing or behind the newest snapshot, raft restores the snapshot into it and replays
// the rest of the log. Open refuses, without modifying anything, a directory it cannot use
// (ErrBadState), naming the file and the fix.
package queue
