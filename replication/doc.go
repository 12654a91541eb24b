// Package replication drains the journal's replication jobs to a remote S3
// bucket: small objects as one PutObject, large ones as resumable multipart
// uploads whose UploadId and finished parts are journaled, so that a restart,
// a network cut or a kill loses at most the parts that were in flight. It
// retries transient errors for ever with capped backoff, pauses on errors
// only a human can fix (and resumes by itself once they are fixed),
// quarantines poison jobs, and shares one smooth bandwidth limit, timetable
// and monthly budget between all streams. Workers run on the raft leader only.
//
// The S3 protocol lives in the remote sub-package; this package sees the
// remote through the Remote interface, which also reads the remote back
// (ranged GETs, paged listings) for restore, reconcile and scrub. What a
// remote object carries besides its bytes is encoded and decoded in
// remotemeta.go only (docs/remote-layout.md).
package replication
