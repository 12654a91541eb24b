// Package queue is IPAS's durable journal: every state change (bucket and object puts and
// deletes, replication progress) is a versioned, deterministic, idempotent command committed
// through hashicorp/raft with a raft-wal log, and applied to a bbolt-backed state machine
// that holds the bucket list, the object index and the replication job table. A batching
// proposer lets many concurrent writers share one fsync.
package queue
