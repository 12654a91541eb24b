// Package reconcile proves that every object of the local index is on the
// remote, and queues the upload of those that are not. A pass lists the
// remote prefix, bucket by bucket (PREFIX/BUCKET/), with LIST requests only
// (never a GET of object bytes, never a per-object HEAD), and merges each
// listing with the index's own key-ordered listing of the bucket, a page of
// each at a time, so that memory stays bounded whatever the archive's size.
//
// A local object whose remote copy is missing, or has another size or
// ETag, gets a put job again (unless its upload is queued already); an
// object on the remote that the index does not hold is counted and
// sampled, not touched: under the archive policy the remote keeps what was
// deleted locally.
//
// The daemon runs a pass at start-up when the remote changed, on a
// schedule, and on request (package pass), on the journal's leader.
package reconcile
