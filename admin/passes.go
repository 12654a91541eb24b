package admin

import "time"

// Reconcile is the state of the remote reconcile (body of PathReconcile,
// and Status.Reconcile): the pass in progress and the last finished one.
type Reconcile struct {
	Running *ReconcileRun `json:"running,omitempty"`
	Last    *ReconcileRun `json:"last,omitempty"`
	// Next is when the next scheduled pass is due; nil when the schedule
	// is off (replication.reconcile_interval: 0).
	Next *time.Time `json:"next,omitempty"`
}

// ReconcileRun is one reconcile pass: what it compared and what it did.
type ReconcileRun struct {
	Run
	Buckets   int64 `json:"buckets"`
	Checked   int64 `json:"checked"`   // local objects compared with the remote listing
	Missing   int64 `json:"missing"`   // not on the remote
	Different int64 `json:"different"` // on the remote with another size or ETag
	Pending   int64 `json:"pending"`   // missing or different, but their upload is queued already
	Queued    int64 `json:"queued"`    // put jobs queued
	Recorded  int64 `json:"recorded"`  // found on the remote and recorded as replicated
	// QueuedSample names some queued objects ("bucket/key").
	QueuedSample []string `json:"queued_sample,omitempty"`
	// RemoteOnly counts remote objects the index does not hold (kept by the
	// archive policy after a local delete, or written by something else).
	RemoteOnly       int64    `json:"remote_only"`
	RemoteOnlySample []string `json:"remote_only_sample,omitempty"`
	// Lost counts objects whose bytes were on the remote only (restored
	// with --metadata-only) and are gone or changed there.
	Lost         int64    `json:"lost"`
	LostSample   []string `json:"lost_sample,omitempty"`
	ListRequests int64    `json:"list_requests"`
}

// Scrub is the state of the local blob scrub (body of PathScrub, and
// Status.Scrub).
type Scrub struct {
	Running *ScrubRun `json:"running,omitempty"`
	Last    *ScrubRun `json:"last,omitempty"`
	// Next is when the next scheduled pass is due; nil when the schedule
	// is off (store.scrub_interval: 0).
	Next *time.Time `json:"next,omitempty"`
	// RateLimit is the read rate of a pass in bytes/s; 0 means unlimited.
	RateLimit int64 `json:"rate_limit_bytes_per_second"`
}

// ScrubRun is one scrub pass.
type ScrubRun struct {
	Run
	Blobs    int64 `json:"blobs"` // blobs re-hashed
	Bytes    int64 `json:"bytes"`
	Corrupt  int64 `json:"corrupt"`  // blobs whose bytes did not match their SHA-256
	Repaired int64 `json:"repaired"` // corrupt blobs replaced with good bytes from the remote
	// Unrepairable lists the objects of corrupt blobs that could not be
	// repaired (not offsite yet, or the remote copy is gone or differs),
	// each with the reason and what to do.
	Unrepairable []ScrubProblem `json:"unrepairable,omitempty"`
	// UnrepairableCount may exceed len(Unrepairable), which is bounded.
	UnrepairableCount int64 `json:"unrepairable_count"`
}

// ScrubProblem is one corrupt blob that scrub could not repair.
type ScrubProblem struct {
	Blob   string `json:"blob"`
	Object string `json:"object,omitempty"` // "bucket/key" of an object that uses it
	// Offsite is false when the object's upload is still pending: the only
	// good copy was the local one.
	Offsite bool   `json:"offsite"`
	Reason  string `json:"reason"`
}

// Run is what every background pass reports.
type Run struct {
	Trigger  string     `json:"trigger"` // startup, schedule or request
	Reason   string     `json:"reason,omitempty"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"` // nil while running
	Seconds  float64    `json:"duration_seconds"`
	Error    string     `json:"error,omitempty"`
}
