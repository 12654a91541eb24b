package admin

import (
	"context"
	"errors"
	"time"
)

// Paths of the API. PathPrefix cannot be a bucket: bucket names have no '_'.
const (
	PathPrefix    = "/_ipas/"
	PathStatus    = "/_ipas/v1/status"
	PathPause     = "/_ipas/v1/replication/pause"
	PathResume    = "/_ipas/v1/replication/resume"
	PathBandwidth = "/_ipas/v1/replication/bandwidth"
	// PathReconcile reports the remote reconcile (GET) or starts a pass
	// (POST; a pass in progress is joined, not started twice).
	PathReconcile = "/_ipas/v1/remote/reconcile"
	// PathScrub reports the scrub of local blobs (GET) or starts a pass
	// (POST), likewise.
	PathScrub = "/_ipas/v1/scrub"
)

// MaxBodySize bounds a request body: a timetable is a line or two.
const MaxBodySize = 16 << 10

// Replication states reported in Replication.State.
const (
	StateRunning     = "running"             // uploading
	StateIdle        = "idle"                // nothing to upload
	StatePaused      = "paused"              // paused by an operator (API, CLI or config)
	StateError       = "paused-by-error"     // the remote refuses our requests; see Error
	StateTimetable   = "paused-by-timetable" // a timetable "pause" rule is in force
	StateBudgetSpent = "budget-spent"        // the monthly budget is spent until BudgetResets
	StateStandby     = "standby"             // this node does not lead the journal
	// StateUnreachable: every attempt has failed for a while (see
	// Replication.UnreachableSince and LastError).
	StateUnreachable = "remote-unreachable"
)

// ErrInvalid marks a request the Controller refuses as malformed (a bandwidth
// that does not parse): the client gets 400 and the message.
var ErrInvalid = errors.New("admin: invalid request")

// Controller is what the daemon offers the API.
type Controller interface {
	Status(ctx context.Context) (Status, error)
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	// SetBandwidth applies a rate ("300KiB/s", "unlimited") or a weekly timetable
	// at once; a spec that does not parse wraps ErrInvalid.
	SetBandwidth(ctx context.Context, spec string) error
	// Reconcile reports the remote reconcile, after starting a pass if
	// start is true (joining the one in progress, if any).
	Reconcile(ctx context.Context, start bool) (Reconcile, error)
	// Scrub reports the scrub of local blobs, after starting a pass if
	// start is true (joining the one in progress, if any).
	Scrub(ctx context.Context, start bool) (Scrub, error)
}

// Status is the body of GET PathStatus.
type Status struct {
	Time        time.Time   `json:"time"`
	Replication Replication `json:"replication"`
	Remote      Remote      `json:"remote"`
	Totals      Totals      `json:"totals"`
	Offsite     Offsite     `json:"offsite"`
	Active      []Job       `json:"active"`  // jobs in flight
	Failing     []Job       `json:"failing"` // jobs with failed attempts, or quarantined
	Journal     Journal     `json:"journal"`
	Drop        Drop        `json:"drop"`
	Reconcile   *Reconcile  `json:"reconcile,omitempty"`
	Scrub       *Scrub      `json:"scrub,omitempty"`
	// Lifecycle is the pass that applies the buckets' lifecycle rules; nil
	// when not reported.
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`
	// Disk is nil when the daemon could not read it.
	Disk *Disk `json:"disk,omitempty"`
	// PublicBuckets are the buckets whose policy lets anonymous requests in.
	PublicBuckets []string `json:"public_buckets,omitempty"`
	// Alerts are the conditions that need a human, oldest first.
	Alerts []Alert `json:"alerts,omitempty"`
	// Cache is the disk as a cache of the remote; nil when not reported.
	Cache *CacheStatus `json:"cache,omitempty"`
}

// Replication is the state of the upload pipeline and its limits.
type Replication struct {
	State       string     `json:"state"`           // one of the State* constants
	Error       string     `json:"error,omitempty"` // why, for StateError
	PausedSince *time.Time `json:"paused_since,omitempty"`
	// UnreachableSince is when the failures of StateUnreachable began;
	// LastError is the last failed attempt's message.
	UnreachableSince *time.Time `json:"unreachable_since,omitempty"`
	LastError        string     `json:"last_error,omitempty"`
	// Bandwidth is the rate or timetable as last set (config, API or SIGHUP).
	Bandwidth string `json:"bandwidth"`
	// Limit is the rate in force now in bytes/s; 0 means unlimited.
	Limit       int64  `json:"limit_bytes_per_second"`
	ManualPause bool   `json:"manual_pause"`
	Budget      Budget `json:"budget"`
}

// Budget is the monthly upload budget; Bytes 0 means none. Used counts this
// calendar month's uploads even without a budget.
type Budget struct {
	Bytes  int64      `json:"bytes"`
	Used   int64      `json:"used"`
	Spent  bool       `json:"spent"`
	Resets *time.Time `json:"resets,omitempty"`
}

// Remote says where the copy goes, and whether it is offsite.
type Remote struct {
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	Prefix   string `json:"prefix,omitempty"`
	// Local is true for the embedded default: a copy on this machine, not offsite.
	Local bool `json:"local"`
}

// Totals are the queue and the work done since the daemon started.
type Totals struct {
	QueueJobs         int64   `json:"queue_jobs"`
	QueueBytes        int64   `json:"queue_bytes"`
	QueueTruncated    bool    `json:"queue_truncated,omitempty"` // counts are lower bounds
	Quarantined       int64   `json:"quarantined"`
	ReplicatedObjects int64   `json:"replicated_objects"`
	ReplicatedBytes   int64   `json:"replicated_bytes"`
	SentBytes         int64   `json:"sent_bytes"` // including resent parts
	Rate              float64 `json:"bytes_per_second"`
	// ObjectRate is the jobs done per second over the last few minutes.
	ObjectRate float64 `json:"objects_per_second"`
}

// Offsite is the proof that the archive is offsite, or how far it is from it.
type Offsite struct {
	// PendingObjects and PendingBytes are the object versions not on the
	// remote yet (quarantined ones included).
	PendingObjects int64 `json:"pending_objects"`
	PendingBytes   int64 `json:"pending_bytes"`
	// OldestPending is when the oldest object not yet offsite was put.
	OldestPending *time.Time `json:"oldest_pending,omitempty"`
	// LastUpload is when the remote last confirmed an object.
	LastUpload *time.Time `json:"last_upload,omitempty"`
	// RecentRate is the upload rate over the last few minutes, bytes/s.
	RecentRate float64 `json:"recent_bytes_per_second"`
	// ETASeconds is PendingBytes over RecentRate; null when unknown (no
	// recent rate, or uploads are not running).
	ETASeconds *float64 `json:"eta_seconds"`
}

// Job is one replication job's progress.
type Job struct {
	ID          string     `json:"id"`
	Op          string     `json:"op"` // put or delete
	Bucket      string     `json:"bucket"`
	Key         string     `json:"key"`
	Size        int64      `json:"size"`
	BytesDone   int64      `json:"bytes_done"`
	Parts       int        `json:"parts"`
	PartsDone   int        `json:"parts_done"`
	Rate        float64    `json:"bytes_per_second"`
	ETASeconds  float64    `json:"eta_seconds,omitempty"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	Quarantined bool       `json:"quarantined,omitempty"`
	NotBefore   *time.Time `json:"not_before,omitempty"`
}

// Journal is the archive's index, from the journal's statistics.
type Journal struct {
	Buckets      int64  `json:"buckets"`
	Objects      int64  `json:"objects"`
	Bytes        int64  `json:"bytes"`
	Jobs         int64  `json:"jobs"`
	AppliedIndex uint64 `json:"applied_index"`
	// Versions counts noncurrent versions and delete markers (versioned
	// buckets); VersionBytes is their size.
	Versions     int64 `json:"versions"`
	VersionBytes int64 `json:"version_bytes"`
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the error: an S3 code for authentication failures
// (AccessDenied, SignatureDoesNotMatch...), else InvalidRequest,
// MethodNotAllowed, NotFound or InternalError.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
