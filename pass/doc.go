// Package pass runs a background job one pass at a time: at start-up, on a
// schedule, or on request. A request while a pass runs joins that pass
// instead of starting a second one. The Runner keeps the running pass's
// progress and the last finished pass's report, which the daemon persists
// (so that a schedule survives restarts) and shows in its status.
//
// Reconcile (the remote holds every object) and scrub (the local blobs are
// intact) are such jobs.
package pass
