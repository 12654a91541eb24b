// Package remoteindex writes and reads the remote index snapshot: a compact,
// gzip-compressed JSON-lines copy of the archive's index (buckets with their
// settings, and every live object version with everything a restore needs to
// give clients the same object, plus what the remote reported for it) that the
// daemon uploads under PREFIX/.ipas/index/ so that a restore of a million
// objects needs LIST pages instead of a million HEADs.
//
// A snapshot is only an accelerator: Reader refuses one that is truncated
// (gzip trailer and an object count in the last line), from a newer format, or
// describing another remote or archive, and restore then falls back to LIST
// plus HEAD. Writing and reading stream one line at a time, so memory does not
// grow with the number of objects. docs/remote-layout.md describes the format
// and the rule by which restore tells objects deleted locally from objects put
// after the snapshot.
package remoteindex
