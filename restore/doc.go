// Package restore rebuilds a data directory from the remote copy alone: the
// buckets with their settings and every object version, byte-identical, with
// the ETag, headers, metadata, checksums and part sizes clients saw, recorded
// in the journal as replicated so that nothing is uploaded again.
//
// A restore plans first, then downloads. The plan merges the remote listing
// with the remote index snapshot (package remoteindex) when one is usable, so
// that only objects put after the snapshot need a HEAD; without a usable
// snapshot every object is HEADed, and the caller is told why. Objects that
// the snapshot shows were deleted locally are left out unless asked for.
//
// Downloads run in parallel ranged GETs under the replication bandwidth rules.
// A large or multipart object is fetched into partial files under the state
// directory, one per part, with a record of its finished ranges, so that a
// restore killed at any moment continues inside that object; an object
// already in the index with its bytes is never fetched again. Every object is
// checked against its SHA-256 (and a multipart object's parts against its
// ETag) before anything names its bytes: bad bytes never reach the index. A
// large object's verified part files become its blobs by rename
// (store.Store.Adopt), so each byte is written to disk once. A multipart
// object whose parts' SHA-256 the remote index gives is fetched part by
// part, each part's ranges in order, hashed as they arrive and written
// with O_DIRECT where the filesystem allows it, so that each byte is
// hashed once and never read back nor copied into the page cache.
//
// With Options.MetadataOnly nothing is downloaded: each object is journaled
// with its metadata, ETag, checksums and part sizes but without its bytes
// (archive.RemoteOnly), recorded as replicated. A later restore without it
// counts such objects as not restored yet, fetches their bytes and makes them
// local.
package restore
