package admin

import (
	"context"
	"errors"
	"io"
	"time"
)

// Paths of the archive and diagnostics endpoints (Archive, Diagnostics).
const (
	// PathBuckets lists the buckets (GET) or creates one (POST CreateBucketRequest).
	PathBuckets = "/_ipas/v1/buckets"
	// PathObjects lists a bucket one level at a time (GET ?bucket=&prefix=&after=&limit=).
	PathObjects = "/_ipas/v1/objects"
	// PathDeleteObject deletes an object (POST ObjectRef).
	PathDeleteObject = "/_ipas/v1/objects/delete"
	// PathRemoteTest runs the checks of `gateway remote test` (POST).
	PathRemoteTest = "/_ipas/v1/remote/test"
	// PathDrop reports the drop folders (GET).
	PathDrop = "/_ipas/v1/drop"
	// PathLog returns the recent log (GET ?level=&after=&limit=).
	PathLog = "/_ipas/v1/log"
)

// Listing limits.
const (
	// DefaultListLimit is the entries of a listing page when none is asked.
	DefaultListLimit = 100
	// MaxListLimit bounds a listing page.
	MaxListLimit = 1000
	// ListDelimiter rolls keys up into prefixes, as a file browser shows folders.
	ListDelimiter = "/"
)

// Errors a Controller's archive and diagnostics methods wrap, so that the
// API answers with the right status.
var (
	// ErrNotFound: no such bucket or key (404).
	ErrNotFound = errors.New("admin: not found")
	// ErrConflict: the request cannot be done in the current state, e.g. the
	// bucket exists or the object's bytes are on the remote only (409).
	ErrConflict = errors.New("admin: conflict")
)

// Archive is what the daemon offers to browse and change the archive. It is
// optional: a Controller that also implements it gets the endpoints above.
type Archive interface {
	Buckets(ctx context.Context) (BucketList, error)
	// CreateBucket creates a bucket; an invalid name wraps ErrInvalid, an
	// existing one ErrConflict.
	CreateBucket(ctx context.Context, name string) error
	// ListObjects returns one page of a bucket, keys rolled up at "/".
	ListObjects(ctx context.Context, req ListRequest) (Listing, error)
	// DeleteObject deletes the current version of bucket/key; the remote
	// copy stays unless the bucket's policy is mirror.
	DeleteObject(ctx context.Context, ref ObjectRef) error
	// OpenObject returns the bytes of an object, which the caller closes;
	// an object whose bytes are on the remote only wraps ErrConflict.
	OpenObject(ctx context.Context, ref ObjectRef) (ObjectEntry, io.ReadCloser, error)
	// PutObject stores body as bucket/key through the archive, as an S3 PUT
	// does, and returns the new entry once it is durable.
	PutObject(ctx context.Context, ref ObjectRef, contentType string, body io.Reader) (ObjectEntry, error)
}

// Diagnostics is what the daemon offers to check the remote and read its
// drop folders and log. Optional, like Archive.
type Diagnostics interface {
	// TestRemote runs the checks of `gateway remote test` against the
	// configured remote.
	TestRemote(ctx context.Context) (RemoteTest, error)
	DropFolders(ctx context.Context) (DropFolders, error)
	// Log returns the recent log lines after q.After at q.Level or above.
	Log(ctx context.Context, q LogQuery) (LogPage, error)
}

// BucketList is the body of GET PathBuckets.
type BucketList struct {
	Buckets []Bucket `json:"buckets"`
}

// Bucket is one bucket.
type Bucket struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// CreateBucketRequest is the body of POST PathBuckets.
type CreateBucketRequest struct {
	Name string `json:"name"`
}

// ObjectRef names an object: the body of POST PathDeleteObject.
type ObjectRef struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// ListRequest is the query of GET PathObjects.
type ListRequest struct {
	Bucket string
	Prefix string // ends with "/" to list a folder
	After  string // Listing.Next of the previous page
	Limit  int    // 0 is DefaultListLimit
}

// Listing is the body of GET PathObjects: the prefixes ("folders") and
// objects directly under Prefix, in key order.
type Listing struct {
	Bucket   string        `json:"bucket"`
	Prefix   string        `json:"prefix"`
	Prefixes []string      `json:"prefixes"`
	Objects  []ObjectEntry `json:"objects"`
	// Next, when not empty, is the After of the next page.
	Next string `json:"next,omitempty"`
}

// Replication states of an object, as S3's x-amz-replication-status.
const (
	ReplicationPending   = "PENDING"
	ReplicationFailed    = "FAILED"
	ReplicationCompleted = "COMPLETED"
)

// ObjectEntry is one object in a listing.
type ObjectEntry struct {
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	Modified    time.Time `json:"modified"`
	ETag        string    `json:"etag"`
	ContentType string    `json:"content_type,omitempty"`
	// Replication is PENDING, FAILED or COMPLETED; "" when unknown (put
	// before IPAS recorded it).
	Replication string `json:"replication,omitempty"`
	// RemoteOnly: the bytes are on the remote only (restored with
	// --metadata-only, or evicted); the object cannot be downloaded here.
	RemoteOnly bool `json:"remote_only,omitempty"`
}

// RemoteTest is the body of POST PathRemoteTest: the steps of the check, in
// order, stopping at the first failure.
type RemoteTest struct {
	Remote  string           `json:"remote"`
	Local   bool             `json:"local"` // the built-in local copy: not offsite
	OK      bool             `json:"ok"`
	Verdict string           `json:"verdict"`
	Steps   []RemoteTestStep `json:"steps"`
	Time    time.Time        `json:"time"`
	Seconds float64          `json:"duration_seconds"`
}

// RemoteTestStep is one check.
type RemoteTestStep struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Warn   bool   `json:"warn,omitempty"`
	Detail string `json:"detail"`
}

// DropFolders is the body of GET PathDrop.
type DropFolders struct {
	Folders []DropFolder `json:"folders"`
	// Pending counts files seen and not ingested yet; the other counts are
	// since the daemon started.
	Pending  int64 `json:"files_pending"`
	Ingested int64 `json:"versions_ingested"`
	Skipped  int64 `json:"files_skipped"`
	Errors   int64 `json:"errors"`
	Scans    int64 `json:"scans"`
	Degraded int64 `json:"degraded_folders"` // folders watched by scans only
	// SkippedDirs are the directories not archived, with the reason.
	SkippedDirs []SkippedDir `json:"skipped_dirs"`
}

// DropFolder is one configured drop folder.
type DropFolder struct {
	Path string `json:"path"`
	// Bucket is "" when each first-level directory is a bucket.
	Bucket      string `json:"bucket"`
	Prefix      string `json:"prefix,omitempty"`
	AfterIngest string `json:"after_ingest"`
}

// Log levels of LogQuery.Level, as zerolog names them.
var LogLevels = []string{"debug", "info", "warn", "error"}

// LogQuery is the query of GET PathLog.
type LogQuery struct {
	Level string // the lowest level shown; "" is every level
	After uint64 // LogPage.Last of the previous call
	Limit int    // 0 is every line kept
}

// LogPage is the body of GET PathLog: lines oldest first.
type LogPage struct {
	Lines []LogLine `json:"lines"`
	// Last is the sequence number of the newest line kept (whatever the
	// level): the After of the next call.
	Last uint64 `json:"last"`
}

// LogLine is one log line.
type LogLine struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
	// Fields are the line's other keys (component, bucket, error...).
	Fields map[string]any `json:"fields,omitempty"`
}
