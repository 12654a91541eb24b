// Package scrub re-hashes the local blobs at a bounded rate, to find the
// ones a failing disk or SD card corrupted before a client reads them, and
// repairs them from the remote: the object's bytes that are the blob (the
// whole object, or its stretch for an object made of parts) are fetched with
// a ranged GET, checked against the blob's SHA-256 and put in place of the
// damaged file. Every version is a candidate, noncurrent ones of versioned
// buckets too, each read from its own remote copy (replication.Locations).
// A corrupt blob whose object is not offsite yet (its upload
// is pending) cannot be repaired: it is reported loudly, with what to do.
//
// A pass walks the store in digest order and can resume where an earlier,
// interrupted pass stopped. The daemon runs passes on a schedule and on
// request (package pass).
package scrub
