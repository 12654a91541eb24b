// Package store keeps the bytes of every object on local disk as content-addressed
// blobs named by their SHA-256. A blob is written to a temporary file, fsynced, renamed
// into place and its directory fsynced before Commit returns, so a crash leaves each
// blob either absent or complete. Identical content is stored once. Blobs that no index
// entry references, and temporary files left by a crash, are collected, never served:
// Collect marks what the index references (MarkFunc) into a Bloom filter and sweeps only
// blobs it did not report and that no Commit pinned since the collection began.
package store
