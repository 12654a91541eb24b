package replication

import (
	"context"
	"errors"
	"io"
	"time"
)

// Remote is the S3 bucket that replication writes to. Names are
// "bucket/key" of the local namespace; the implementation maps them to its
// own layout (for S3: prefix/bucket/key) and back.
//
// Errors are classified with the sentinels below; anything else is treated
// as transient and retried.
type Remote interface {
	// PutObject stores body (size bytes, MD5 md5) as name in one request.
	PutObject(ctx context.Context, name string, body io.Reader, size int64, md5 []byte, meta ObjectMeta) error
	// CreateMultipartUpload starts a multipart upload for name.
	CreateMultipartUpload(ctx context.Context, name string, meta ObjectMeta) (uploadID string, err error)
	// UploadPart sends one part and returns its ETag.
	UploadPart(ctx context.Context, name, uploadID string, number int, body io.Reader, size int64, md5 []byte) (etag string, err error)
	// ListParts returns the parts the remote holds for the upload.
	ListParts(ctx context.Context, name, uploadID string) ([]RemotePart, error)
	// CompleteMultipartUpload assembles the parts, in number order.
	CompleteMultipartUpload(ctx context.Context, name, uploadID string, parts []Part) error
	// AbortMultipartUpload discards an upload and its parts.
	AbortMultipartUpload(ctx context.Context, name, uploadID string) error
	// ListMultipartUploads returns every unfinished upload under the remote's prefix.
	ListMultipartUploads(ctx context.Context) ([]RemoteUpload, error)
	// HeadObject returns what the remote stores for name.
	HeadObject(ctx context.Context, name string) (RemoteObject, error)
	// DeleteObject removes name; removing a missing name succeeds.
	DeleteObject(ctx context.Context, name string) error
	// Probe checks cheaply that the remote accepts writes again, after an
	// error that paused replication.
	Probe(ctx context.Context) error
}

// ObjectMeta is what the remote object carries besides its bytes, so that
// the remote alone can rebuild the local archive.
type ObjectMeta struct {
	SHA256      string // lowercase hex of the whole object
	ModTime     time.Time
	ContentType string
	User        map[string]string // user metadata, without the x-amz-meta- prefix
}

// RemotePart is a part the remote holds for an unfinished upload.
type RemotePart struct {
	Number int
	ETag   string
	Size   int64
}

// RemoteUpload is an unfinished multipart upload on the remote.
type RemoteUpload struct {
	Name      string
	UploadID  string
	Initiated time.Time
}

// RemoteObject is what a HEAD returns.
type RemoteObject struct {
	Size   int64
	SHA256 string // from our metadata; empty if absent
	ETag   string
}

// Remote error classes. Implementations wrap them (errors.Is) around the
// remote's own error so that the message keeps the S3 code.
var (
	// ErrRemoteRefused means the remote refuses the request for a reason only
	// a human can fix (AccessDenied, NoSuchBucket, InvalidAccessKeyId...):
	// replication pauses and probes until it works again.
	ErrRemoteRefused = errors.New("replication: remote refused")
	// ErrNoSuchUpload means the remote no longer knows the UploadId.
	ErrNoSuchUpload = errors.New("replication: remote has no such upload")
	// ErrNotFound means the remote object does not exist.
	ErrNotFound = errors.New("replication: remote object not found")
	// ErrRejected means the remote rejects this object for good (key too
	// long, metadata too large, entity too large): the job is quarantined.
	ErrRejected = errors.New("replication: remote rejected the object")
)
