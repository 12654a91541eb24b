package queue

import "time"

// Object is one object version in the index: what a GET or a listing shows.
type Object struct {
	Bucket, Key string
	VersionID   string
	// Blob is the lowercase hex SHA-256 of the bytes in the local blob store.
	Blob        string
	Size        int64
	ETag        string // as S3 shows it, unquoted: md5 hex or md5hex-N
	SHA256      string // lowercase hex
	ContentType string
	Metadata    map[string]string
	Checksums   map[string]string // algorithm ("CRC32") -> base64 value
	ModTime     time.Time
}

// Bucket is one bucket of the local S3 namespace.
type Bucket struct {
	Name    string
	Created time.Time
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
	Number int
	ETag   string
	Size   int64
}

// Job is one change waiting to reach the remote. A pending put job holds a
// reference on its blob, so the blob outlives overwrites until it is uploaded.
type Job struct {
	ID string // the version ID that created it
	// Seq orders jobs oldest first; it is assigned by the state machine from
	// a counter, so it is the same on every node.
	Seq                    uint64
	Op                     JobOp
	Bucket, Key, VersionID string
	Blob                   string
	Size                   int64
	Created                time.Time
	State                  JobState
	UploadID               string
	PartSize               int64
	PartsDone              []Part
	Attempts               int
	LastError              string
}

// Stats are cheap totals kept up to date by every transaction.
type Stats struct {
	Buckets      int64
	Objects      int64
	Bytes        int64 // sum of Object.Size over the index
	Jobs         int64
	AppliedIndex uint64 // last raft index applied to fsm.db
}
