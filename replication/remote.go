package replication

import (
	"context"
	"errors"
	"io"
	"time"
)

// Remote is the S3 bucket that replication writes to and that restore,
// reconcile and scrub read back. Names are "bucket/key" of the local
// namespace; the implementation maps them to its own layout (for S3:
// prefix/bucket/key) and back. docs/remote-layout.md describes the layout.
//
// Errors are classified with the sentinels below; anything else is treated
// as transient and retried.
type Remote interface {
	// PutObject stores body (size bytes, MD5 md5) as name in one request and
	// returns what the remote answered: its ETag, unquoted, and on a
	// versioned remote the new version's ID.
	PutObject(ctx context.Context, name string, body io.Reader, size int64, md5 []byte, meta ObjectMeta) (RemoteCopy, error)
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
	// HeadObject returns what the remote stores for name, its metadata
	// decoded. An object written by a newer layout returns ErrUnknownFormat
	// along with what could be read (size, ETag, time, format).
	HeadObject(ctx context.Context, name string) (RemoteObject, error)
	// GetObject reads length bytes of name from offset off (length < 0: to
	// the end). The RemoteObject describes the whole object, not the range.
	GetObject(ctx context.Context, name string, off, length int64) (io.ReadCloser, RemoteObject, error)
	// ListObjects calls fn with each page of the objects whose name starts
	// with opts.Prefix, in name order, one LIST request per page, and stops
	// at fn's first error. Only one page is held at a time.
	ListObjects(ctx context.Context, opts ListOptions, fn func([]ListedObject) error) (ListStats, error)
	// DeleteObject removes name; removing a missing name succeeds.
	DeleteObject(ctx context.Context, name string) error
	// PutControlFile stores a file of IPAS's own (an index snapshot) under
	// the remote's control directory, outside the local namespace.
	PutControlFile(ctx context.Context, name string, body io.Reader, size int64, md5 []byte) error
	// GetControlFile reads a file stored by PutControlFile; ErrNotFound if
	// there is none.
	GetControlFile(ctx context.Context, name string) (io.ReadCloser, RemoteObject, error)
	// DeleteControlFile removes a control file; removing a missing one succeeds.
	DeleteControlFile(ctx context.Context, name string) error
	// Probe checks cheaply that the remote accepts writes again, after an
	// error that paused replication.
	Probe(ctx context.Context) error
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

// RemoteObject is what a HEAD or a GET returns.
type RemoteObject struct {
	Size         int64  // bytes of the whole remote object
	ETag         string // the remote's own ETag, unquoted (Meta.ETag is the local one)
	LastModified time.Time
	// VersionID is the remote's own version ID of the object, on a remote
	// bucket with versioning; "" otherwise.
	VersionID string
	// Meta is decoded from the object's headers and metadata; for an object
	// IPAS did not write, only the content headers and User are set.
	Meta ObjectMeta
}

// ListOptions selects what ListObjects returns.
type ListOptions struct {
	// Prefix limits the listing to names that start with it ("docs/" for
	// one local bucket); "" lists everything under the remote's prefix.
	Prefix string
	// StartAfter resumes a listing after this name.
	StartAfter string
}

// ListedObject is one entry of a listing: no metadata, which would take a
// HEAD per object.
type ListedObject struct {
	Name         string // local "bucket/key"
	Size         int64
	ETag         string // the remote's ETag, unquoted
	LastModified time.Time
}

// ListedVersion is a version the remote keeps besides a current object
// (remote.Client.ListKeptVersions): under the versions directory (Name is
// VersionName's), or a noncurrent version of a remote with versioning (Name
// is "bucket/key", VersionID the remote's).
type ListedVersion struct {
	Name         string
	VersionID    string
	Size         int64
	ETag         string
	LastModified time.Time
}

// ListStats counts what a listing cost.
type ListStats struct {
	Requests int // LIST requests sent
	Objects  int // entries handed to the callback
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
	// ErrCopySourceChanged means a server-side copy found its source changed
	// since it was uploaded (RemoteVersions.CopyObject).
	ErrCopySourceChanged = errors.New("replication: remote copy source changed")
	// ErrUnknownFormat means a remote object was written with a layout
	// newer than this program knows (MetaFormat).
	ErrUnknownFormat = errors.New("replication: remote object has an unknown layout format")
)
