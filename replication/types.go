package replication

import (
	"time"

	"github.com/ipas/ipas/archive"
)

// Op is what a job does to the remote.
type Op uint8

// Job operations, the same values as queue.JobOp.
const (
	OpPut    Op = 1
	OpDelete Op = 2
)

// Part is one finished part of a multipart upload, as journaled.
type Part struct {
	Number   int
	ETag     string
	Size     int64
	Checksum string // base64 of the Content-MD5 sent with the part
}

// Piece is one stretch of an object's bytes: a whole local blob. An object
// is the concatenation of its pieces (one for a plain PUT, several for a
// multipart upload stored as a composite object).
type Piece = archive.Piece

// Job is the replication's view of one journaled job.
type Job struct {
	ID          string
	Seq         uint64
	Op          Op
	Bucket, Key string
	// VersionID is the local version a put job uploads; Versioned says it
	// was put while its bucket's versioning was Enabled (queue.Object's):
	// it goes to the remote as one of the key's versions (versions.go).
	VersionID string
	Versioned bool
	Size      int64
	Pieces    []Piece
	Meta      ObjectMeta
	// Remote, when set, is the remote name to write instead of
	// BUCKET/KEY (a version's name on a remote without versioning).
	Remote string

	UploadID    string
	PartSize    int64
	PartsDone   []Part
	Attempts    int
	LastError   string
	NotBefore   time.Time
	Quarantined bool
}

// RemoteCopy is what the remote reported for an uploaded object version:
// a reconcile compares a remote listing with it, a restore relies on it.
type RemoteCopy struct {
	// ETag is the remote's ETag, unquoted: from the PutObject response, or
	// for a multipart upload from the HEAD that verifies it.
	ETag string
	Size int64
	// VersionID is the remote's version ID of the copy, on a remote bucket
	// with versioning (RemoteVersions); "" otherwise.
	VersionID string
}

// Name is the job's object name as the Remote sees it.
func (j *Job) Name() string {
	if j.Remote != "" {
		return j.Remote
	}
	return j.Bucket + "/" + j.Key
}
