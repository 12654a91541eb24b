package queue

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"time"
)

// Writes go through the batching proposer. Each returns the command's own
// result: nil, a sentinel (ErrNoSuchBucket, ErrBucketExists, ...), or
// ErrNotLeader / ErrClosed / ctx's error when it could not be committed.
// Times are stamped here, before the command enters the log, never in Apply.

// CreateBucket creates a bucket; ErrBucketExists if it exists (no change).
func (n *Node) CreateBucket(ctx context.Context, name string, created time.Time) error {
	if created.IsZero() {
		created = time.Now()
	}
	return n.propose(ctx, &command{Op: opBucketCreate, Time: created, Bucket: name})
}

// DeleteBucket deletes an empty bucket: ErrNoSuchBucket, ErrBucketNotEmpty.
func (n *Node) DeleteBucket(ctx context.Context, name string) error {
	return n.propose(ctx, &command{Op: opBucketDelete, Time: time.Now(), Bucket: name})
}

// PutObject makes o the current version of o.Bucket/o.Key and queues its
// replication (a JobPut with ID o.VersionID). Putting the current version
// again changes nothing. o.ModTime defaults to now. o may be composite
// (o.Parts, o.Blob empty; a copy of a completed multipart upload): each
// part occurrence then takes a reference.
func (n *Node) PutObject(ctx context.Context, o Object) error {
	now := time.Now()
	if o.ModTime.IsZero() {
		o.ModTime = now
	}
	return n.propose(ctx, &command{Op: opObjectPut, Time: now, Bucket: o.Bucket, Key: o.Key, Object: o})
}

// PutObjects puts many objects at once (an ingest scan, a restore): they
// fill whole entries in order. It returns one result per object.
func (n *Node) PutObjects(ctx context.Context, objs []Object) []error {
	now := time.Now()
	cmds := make([]*command, len(objs))
	for i, o := range objs {
		if o.ModTime.IsZero() {
			o.ModTime = now
		}
		cmds[i] = &command{Op: opObjectPut, Time: now, Bucket: o.Bucket, Key: o.Key, Object: o}
	}
	return n.proposeEach(ctx, cmds, false)
}

// proposeEach proposes cmds in order, in one entry when together (see
// proposer.proposeCmds), and returns one result per command.
func (n *Node) proposeEach(ctx context.Context, cmds []*command, together bool) []error {
	if n.prop == nil {
		errs := make([]error, len(cmds))
		for i := range errs {
			errs[i] = ErrClosed
		}
		return errs
	}
	errs := n.prop.proposeCmds(ctx, cmds, together)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("queue: %s %s: %w", cmds[i].Op, cmds[i].target(), err)
		}
	}
	return errs
}

// DeleteObject removes bucket/key from the index and queues a JobDelete
// with ID deleteID (a new version ID, minted by the caller so that a retry
// is recognised; empty mints one). Deleting a missing key succeeds.
func (n *Node) DeleteObject(ctx context.Context, bucket, key, deleteID string) error {
	now := time.Now()
	if deleteID == "" {
		deleteID = NewVersionID(now)
	}
	return n.propose(ctx, &command{Op: opObjectDelete, Time: now, Bucket: bucket, Key: key, ID: deleteID})
}

// ObjectDeletion names one key of DeleteObjects and the version ID its delete
// is journaled with (as DeleteObject's deleteID; empty mints one).
type ObjectDeletion struct {
	Key, DeleteID string
	// VersionID, when set, removes that version for good instead
	// (DeleteObjectVersion; its result may be ErrNoSuchVersion).
	VersionID string
}

// DeleteObjects is DeleteObject for many keys of bucket (S3's DeleteObjects),
// journaled in one raft entry, and so one fsync, unless the keys together
// exceed Config.MaxBatchBytes. One result per key.
func (n *Node) DeleteObjects(ctx context.Context, bucket string, dels []ObjectDeletion) []error {
	now := time.Now()
	cmds := make([]*command, len(dels))
	for i, d := range dels {
		if d.DeleteID == "" {
			d.DeleteID = NewVersionID(now)
		}
		cmds[i] = &command{Op: opObjectDelete, Time: now, Bucket: bucket, Key: d.Key, ID: d.DeleteID}
		if d.VersionID != "" {
			cmds[i].Op, cmds[i].ID = opObjectDeleteVersion, d.VersionID
		}
	}
	return n.proposeEach(ctx, cmds, true)
}

// JobDone removes a finished job and drops its blob reference; a missing
// job is not an error.
func (n *Node) JobDone(ctx context.Context, id string) error {
	return n.propose(ctx, &command{Op: opJobDone, Time: time.Now(), ID: id})
}

func (n *Node) propose(ctx context.Context, c *command) error {
	if n.prop == nil {
		return ErrClosed
	}
	if err := n.prop.propose(ctx, c); err != nil {
		return fmt.Errorf("queue: %s %s: %w", c.Op, c.target(), err)
	}
	return nil
}

func (c *command) target() string {
	switch c.Op {
	case opRemoteSet:
		return "remote " + c.Remote.String()
	case opJobDone, opJobStarted, opJobPartDone, opJobFailed, opJobQuarantined, opJobReset, opJobRetry:
		return "job " + c.ID
	case opUploadPart, opUploadAbort:
		return "upload " + c.ID
	case opUploadCreate, opUploadComplete:
		return c.Bucket + "/" + c.Key + " upload " + c.ID
	case opObjectRequeue, opReplicaFound, opObjectEvict, opObjectDeleteVersion, opObjectRetag:
		return c.Bucket + "/" + c.Key + " version " + c.ID
	}
	if c.Key != "" {
		return c.Bucket + "/" + c.Key
	}
	return c.Bucket
}

// versionEncoding is Crockford's base32 alphabet, which sorts like the
// bytes it encodes.
var versionEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewVersionID returns a 26-character ID that sorts by t (milliseconds)
// and is unique by 80 random bits.
func NewVersionID(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	rand.Read(b[6:])
	return versionEncoding.EncodeToString(b[:])
}
