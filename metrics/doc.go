// Package metrics is what the daemon tells the machines that watch it: its
// Prometheus metrics (/metrics, behind a bearer token) and its health
// (/healthz: the process answers; /readyz: the journal is open and leader
// and the store takes writes), both served by Handler on an address of
// their own.
//
// Metrics holds a registry of its own (never the global one). What the
// components already keep as totals (the index's object and pending counts,
// the replicator's status, the watcher's stats, the disk) is read once per
// scrape through a func that returns a State, so a scrape costs no scan of
// the objects. What no component keeps is counted at the event: S3 requests
// (InstrumentS3 wraps the S3 handler), journal commits, part retries and
// remote errors (the Observe* methods, handed to the components as hooks).
package metrics
