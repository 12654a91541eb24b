package restore

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/remoteindex"
	"github.com/ipas/ipas/store"
)

// Listed is one remote object as a listing shows it.
type Listed struct {
	Name         string // local "bucket/key"
	Size         int64
	ETag         string // the remote's own ETag, unquoted
	LastModified time.Time
}

// Remote is the remote copy as restore reads it (RemoteAdapter over
// replication.Remote). Errors wrap replication.ErrRemoteRefused when the
// remote refuses us (credentials, bucket) and replication.ErrNotFound when
// the object or file does not exist.
type Remote interface {
	// List calls fn with each page of remote objects whose name starts with
	// prefix, in name order.
	List(ctx context.Context, prefix string, fn func([]Listed) error) error
	// Head returns what a listing shows of name and its metadata as an
	// index entry; SHA256 is empty for an object IPAS did not write.
	Head(ctx context.Context, name string) (Listed, remoteindex.Object, error)
	// Get reads length bytes of name (its remote version versionID, "" for
	// the latest) from off, and the remote ETag of the object version it
	// reads.
	Get(ctx context.Context, name, versionID string, off, length int64) (io.ReadCloser, string, error)
	// GetControlFile reads one of IPAS's own files (the index snapshot).
	GetControlFile(ctx context.Context, name string) (io.ReadCloser, error)
}

// Index is the local journal as restore reads and writes it (queue.Node).
type Index interface {
	Buckets() ([]queue.Bucket, error)
	CreateBucket(ctx context.Context, name string, created time.Time) error
	// CreateOwnedBucket, SetBucketPolicy and AddUser bring back the users,
	// bucket owners and policies a snapshot carries.
	CreateOwnedBucket(ctx context.Context, name, owner string, created time.Time) error
	SetBucketPolicy(ctx context.Context, bucket, policy string) error
	AddUser(ctx context.Context, u queue.User) error
	// AddAccessKey brings back a key whose secret the snapshot carries.
	AddAccessKey(ctx context.Context, k queue.AccessKey, replaces string) error
	Object(bucket, key string) (queue.Object, error)
	Stats() (queue.Stats, error)
	// PutRestoredObject makes o current, recorded as replicated and without
	// an upload job, unless the key has a newer version (applied false).
	PutRestoredObject(ctx context.Context, o queue.Object) (applied bool, err error)
	// PutRestoredObjects is PutRestoredObject for many objects in one
	// entry: one result each, queue.ErrNewerVersion where not applied.
	PutRestoredObjects(ctx context.Context, objs []queue.Object) []error
	// PutRestoredVersions files noncurrent versions and delete markers of
	// versioned buckets, in the order of their times.
	PutRestoredVersions(ctx context.Context, objs []queue.Object) []error
	// ObjectVersion returns one version of a key; SetBucketSetting brings
	// back a bucket's versioning.
	ObjectVersion(bucket, key, versionID string) (queue.ObjectVersion, error)
	SetBucketSetting(ctx context.Context, bucket, name, value string) error
}

// Blobs stores downloaded bytes (archive.Archive).
type Blobs interface {
	Put(ctx context.Context, r io.Reader) (store.Blob, error)
	PutVerified(ctx context.Context, r io.Reader, want store.Digest) (store.Blob, error)
	// Adopt makes a file the caller has hashed the blob b by rename, pinned;
	// store.ErrCrossDevice if it is on another filesystem.
	Adopt(ctx context.Context, path string, b store.Blob) error
	// StageVerified stores a small blob without waiting for the disk;
	// SyncStaged makes every blob staged before it durable.
	StageVerified(ctx context.Context, data []byte, want store.Digest) (store.Blob, []byte, error)
	SyncStaged(ctx context.Context) error
	Unpin(d store.Digest)
}

// Limiter applies the bandwidth rules to a download (replication.Bandwidth).
type Limiter interface {
	Reader(ctx context.Context, r io.Reader) io.Reader
}

// Errors that stop a whole restore; what was restored stays, and a re-run
// continues.
var (
	// ErrNotEmpty means the data directory already holds an archive that
	// no restore started: restoring into it needs Options.Merge.
	ErrNotEmpty = errors.New("restore: the data directory is not empty")
	// ErrFailed means some objects could not be restored (see Result).
	ErrFailed = errors.New("restore: some objects were not restored")
)

// Status is what happened to one object.
type Status string

// Object outcomes.
const (
	Restored Status = "restored"
	Skipped  Status = "skipped"
	Failed   Status = "failed"
)

// Outcome is the result of one object, as reported to Progress.
type Outcome struct {
	Name string `json:"name"`
	// Version is the S3 version ID of a noncurrent version or a delete
	// marker (versions.go); absent for a current object.
	Version string `json:"version,omitempty"`
	Size    int64  `json:"size"`
	Status  Status `json:"status"`
	// Fetched is the bytes downloaded for it by this run.
	Fetched int64  `json:"fetched,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Fix     string `json:"fix,omitempty"`
	// Lacking names what the remote copy's metadata did not hold (S3's 2 KiB
	// metadata limit), so the restored object lacks it too.
	Lacking []string `json:"lacking,omitempty"`
	// RemoteOnly says a restored object's bytes stayed on the remote
	// (Options.MetadataOnly).
	RemoteOnly bool `json:"remote_only,omitempty"`
}

// Result sums up a restore.
type Result struct {
	// Source says where the object list came from: the snapshot's name, or
	// why the listing had to be used instead.
	Source       string
	UsedSnapshot bool
	// ArchiveID is the archive the snapshot describes ("" without one).
	ArchiveID     string
	Buckets       []remoteindex.Bucket
	Restored      int64
	RestoredBytes int64
	// RemoteOnly counts the restored objects whose bytes stayed on the
	// remote (Options.MetadataOnly), RemoteOnlyBytes their size; both are
	// part of Restored and RestoredBytes.
	RemoteOnly      int64
	RemoteOnlyBytes int64
	Skipped         int64
	Failed          int64
	// Failures holds the first maxFailures failures in full.
	Failures []Outcome
	// Lacking counts restored objects whose remote metadata was incomplete.
	Lacking int64
	// Fetched is every byte downloaded by this run.
	Fetched int64
	// Heads counts HEAD requests (the snapshot saves them).
	Heads int64
	// VersionedBuckets are the buckets whose versions a restore without
	// the snapshot found on the remote: restored with versioning Enabled.
	VersionedBuckets []string
	// Users are the users the snapshot brought back.
	Users []string
	// Keys counts the access keys brought back with their secrets (a
	// snapshot sealed under a passphrase, Options.Secrets).
	Keys int
	// KeysNote says why access keys were not brought back, when a snapshot
	// or Options.Secrets could have brought some.
	KeysNote string
}

// maxFailures bounds the failures kept in full for the summary.
const maxFailures = 100
