// Package cache makes the Pi's disk a cache in front of the remote: a
// capacity (store.capacity, in bytes or as a share of the data directory's
// file system) with high and low water marks, an evictor that, above the
// high mark, evicts the least recently read objects whose copies are
// verified offsite down to the low mark, and the admission of writes: a
// write that would not fit, when nothing more can be evicted, is refused
// with the reason (FullError, an S3 507) before the disk is full.
//
// Evicting an object journals it as remote-only (queue.Node.EvictObjects),
// the state a metadata-only restore creates; the state machine checks when
// it applies that the version is still current and verified offsite. The
// evictor never deletes a blob itself: the store's collector does, with the
// one rule it has for every blob (nothing in the index names it and no
// write pinned it), so eviction and collection cannot undo each other.
// Reads of evicted objects go through from the remote (archive.ReadThrough).
//
// Usage counts the whole file system (statfs), so uploads in progress,
// staged small objects, the journal and temporary files all count. The
// last read of each key is kept in memory and written to a small bbolt file
// of its own (Access) every AccessFlushInterval, never journaled per read;
// each pass checks a bounded batch of its records against the index and
// drops those of keys deleted or written again since (Access.Prune), so
// the file does not grow with every key ever read.
package cache
