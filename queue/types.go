package queue

import "time"

// Object is one object version in the index: what a GET or a listing shows.
type Object struct {
	Bucket, Key string
	VersionID   string
	// Blob is the lowercase hex SHA-256 of the bytes in the local blob store;
	// "" for a composite object (Parts).
	Blob string
	// Parts, when not empty, make a composite object: its bytes are the
	// concatenation of the part blobs in order. A completed multipart upload
	// keeps its part blobs as they are, so completing it never needs the
	// disk space twice. Each occurrence holds its own blob reference.
	Parts       []ObjectPart
	Size        int64
	ETag        string // as S3 shows it, unquoted: md5 hex or md5hex-N
	SHA256      string // lowercase hex
	ContentType string
	Metadata    map[string]string
	Checksums   map[string]string // algorithm ("CRC32") -> base64 value
	ModTime     time.Time
	// Replica records that this version is on the remote; zero until its
	// put job completes (or when it was put by a version of IPAS that did
	// not record it). Only the journal sets it: PutObject ignores it.
	Replica Replica
	// RemoteOnly marks a version whose bytes are on the remote only (a
	// restore with --metadata-only): it names no blob, its Parts keep only
	// their sizes, and Replica says it is on the remote. Only a restored put
	// (PutRestoredObject) makes one; a restored put of the same version
	// with its blobs makes it local again.
	RemoteOnly bool
	// DeleteMarker marks a version that says "deleted" (a DELETE in a
	// versioned bucket): it has no bytes, no blob and no ETag.
	DeleteMarker bool
	// Versioned marks a version put (or a delete marker added) while its
	// bucket's versioning was Enabled: S3 shows it with its VersionID. Every
	// other version is the bucket's null version, shown as "null" (its
	// VersionID stays unique, as jobs are named by it). Only the journal
	// sets it: PutObject ignores it.
	Versioned bool
}

// PartSizes are the sizes of o's parts in order; nil for an object in one
// piece.
func (o *Object) PartSizes() []int64 {
	if len(o.Parts) == 0 {
		return nil
	}
	sizes := make([]int64, len(o.Parts))
	for i, p := range o.Parts {
		sizes[i] = p.Size
	}
	return sizes
}

// NullVersionID is the S3 version ID of a bucket's null version.
const NullVersionID = "null"

// S3VersionID is the version ID S3 clients see: NullVersionID for the null
// version, else VersionID.
func (o *Object) S3VersionID() string {
	if !o.Versioned {
		return NullVersionID
	}
	return o.VersionID
}

// Replica is what the remote reported for an object version once its
// upload was confirmed, so that a reconcile can compare a remote listing
// with the index without downloading anything.
type Replica struct {
	// ETag is the remote object's ETag, unquoted; "" when the upload did not
	// report one (single PUTs, until replication.Remote returns it).
	ETag string
	Size int64
	// VersionID is the remote's version ID of the copy, on a remote bucket
	// with versioning; "" otherwise (the copy is then found by its name).
	VersionID string
	// At is when the upload was confirmed, or the version restored from
	// the remote; a zero At means "not recorded as replicated".
	At time.Time
}

// Replicated reports whether the version is recorded as being on the remote.
func (o *Object) Replicated() bool { return !o.Replica.At.IsZero() }

// ObjectPart is one blob of a composite object.
type ObjectPart struct {
	Blob string // lowercase hex SHA-256
	Size int64
}

// Upload is a multipart upload in progress: created by CreateUpload, gone
// after CompleteUpload or AbortUpload. Each part holds a reference on its
// blob until then.
type Upload struct {
	ID, Bucket, Key   string
	Created           time.Time
	ContentType       string
	Metadata          map[string]string
	ChecksumAlgorithm string
	// ChecksumType is how the object's checksum derives from the parts'
	// ("COMPOSITE" or "FULL_OBJECT"); "" when ChecksumAlgorithm is "".
	ChecksumType string
	Parts        []UploadPart // sorted by Number; empty in ListUploads
}

// UploadPart is one part of an Upload.
type UploadPart struct {
	Number    int
	Blob      string // lowercase hex SHA-256
	Size      int64
	ETag      string            // md5 hex of the part
	Checksums map[string]string // algorithm ("CRC32") -> base64 value
	ModTime   time.Time
}

// Bucket is one bucket of the local S3 namespace.
type Bucket struct {
	Name    string
	Created time.Time
	// Owner is the user who created the bucket; "" for a bucket created
	// before users existed, or by the daemon itself, which admins own.
	Owner string
	// Settings are the bucket's S3 configurations by name (BucketSetting).
	Settings map[string]string
}

// JobOp says what a replication job does to the remote.
type JobOp uint8

// Job operations. Values are stored; never renumber.
const (
	JobPut    JobOp = 1
	JobDelete JobOp = 2
)

func (o JobOp) String() string {
	switch o {
	case JobPut:
		return "put"
	case JobDelete:
		return "delete"
	}
	return "unknown"
}

// JobState is a job's replication progress.
type JobState uint8

// Job states. Values are stored; never renumber.
const (
	JobPending   JobState = 0
	JobUploading JobState = 1
	JobFailing   JobState = 2
)

func (s JobState) String() string {
	switch s {
	case JobPending:
		return "pending"
	case JobUploading:
		return "uploading"
	case JobFailing:
		return "failing"
	}
	return "unknown"
}

// Part is one finished part of a multipart upload to the remote.
type Part struct {
	Number   int
	ETag     string
	Size     int64
	Checksum string // base64 of the part checksum sent with it, if any
}

// Job is one change waiting to reach the remote. A pending put job holds a
// reference on its blob (or on each of its part blobs), so the blobs outlive
// overwrites until they are uploaded.
//
// Jobs lists every job, quarantined or waiting for NotBefore too: the
// replicator skips those itself.
type Job struct {
	ID string // the version ID that created it
	// Seq orders jobs oldest first; it is assigned by the state machine from
	// a counter, so it is the same on every node.
	Seq                    uint64
	Op                     JobOp
	Bucket, Key, VersionID string
	Blob                   string // "" for a composite object: see Object.Parts
	Size                   int64
	// Object is the version to upload, as it was put (put jobs only): its
	// metadata, checksums and parts, whatever happened to the key since.
	Object  Object
	Created time.Time
	State   JobState
	// UploadID and PartSize are the remote multipart upload, journaled once
	// by JobStarted; PartsDone are its finished parts, sorted by Number.
	UploadID  string
	PartSize  int64
	PartsDone []Part
	Attempts  int
	LastError string
	// LastFailure is the time JobFailed was issued; it also makes a retried
	// JobFailed count once.
	LastFailure time.Time
	// NotBefore is when the job may be tried again after a failure.
	NotBefore time.Time
	// Quarantined jobs (poison: the remote refuses them for good) are never
	// tried again automatically; they keep their blob references.
	Quarantined bool
}

// Stats are cheap totals kept up to date by every transaction.
type Stats struct {
	Buckets int64
	Objects int64
	Bytes   int64 // sum of Object.Size over the current versions
	// Versions counts noncurrent versions and delete markers (versions.go);
	// VersionBytes is their size.
	Versions     int64
	VersionBytes int64
	Jobs         int64
	AppliedIndex uint64 // last raft index applied to fsm.db
}
