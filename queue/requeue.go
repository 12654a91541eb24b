package queue

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// A reconcile with the remote (package reconcile) journals what it found:
// ObjectRequeue gives a version that the remote lacks a put job again, and
// ReplicaFound records that the remote holds a version that had no record
// of it (put before records were kept, or uploaded to an earlier remote).

// RequeueObjects queues a put job again for each object's version
// (o.Bucket, o.Key, o.VersionID; the rest of o is ignored), exactly as the
// put did: the job carries the version as stored and takes its blob
// references. One result per object: nil when a job is queued or one is
// waiting already, ErrNoSuchKey when the version is no longer the key's
// current one (deleted, or replaced by a newer version with its own job),
// ErrRemoteOnly when its bytes are on the remote only: no job can upload
// them, so none is queued.
func (n *Node) RequeueObjects(ctx context.Context, objs []Object) []error {
	return n.proposeVersions(ctx, opObjectRequeue, objs)
}

// RecordReplicas records that the remote holds each object's version
// (o.Bucket, o.Key, o.VersionID) as o.Replica describes it (ETag and
// Size; At is the time of the call), as if its upload had just been
// confirmed. A version whose put job is waiting keeps the record that job
// will write. One result per object: nil, or ErrNoSuchKey when the version
// is no longer current.
func (n *Node) RecordReplicas(ctx context.Context, objs []Object) []error {
	return n.proposeVersions(ctx, opReplicaFound, objs)
}

func (n *Node) proposeVersions(ctx context.Context, op cmdOp, objs []Object) []error {
	now := time.Now()
	cmds := make([]*command, len(objs))
	for i, o := range objs {
		c := &command{Op: op, Time: now, Bucket: o.Bucket, Key: o.Key, ID: o.VersionID}
		if op == opReplicaFound {
			c.Replica = Replica{ETag: o.Replica.ETag, Size: o.Replica.Size, At: now}
		}
		cmds[i] = c
	}
	errs := make([]error, len(objs))
	if n.prop == nil {
		for i := range errs {
			errs[i] = ErrClosed
		}
		return errs
	}
	errs = n.prop.proposeAll(ctx, cmds)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("queue: %s %s: %w", op, cmds[i].target(), err)
		}
	}
	return errs
}

// currentVersion returns the stored record of bucket/key if its current
// version is id (ErrNoSuchKey otherwise), and its head.
func (a *applier) currentVersion(bucket, key, id string) ([]byte, objectHead, error) {
	var h objectHead
	ob := a.objects.Bucket([]byte(bucket))
	if ob == nil {
		return nil, h, ErrNoSuchKey
	}
	v := ob.Get([]byte(key))
	if v == nil {
		return nil, h, ErrNoSuchKey
	}
	if err := h.decode(v); err != nil {
		return nil, h, err
	}
	if h.versionID != id {
		return nil, h, ErrNoSuchKey
	}
	return v, h, nil
}

// objectRequeue adds a put job for the current version c.ID, unless it has
// one. Applying it twice adds one job.
func (a *applier) objectRequeue(c *command) (error, error) {
	v, h, err := a.currentVersion(c.Bucket, c.Key, c.ID)
	if err == ErrNoSuchKey {
		return err, nil
	}
	if err != nil {
		return nil, err
	}
	if a.ids.Get([]byte(c.ID)) != nil {
		return nil, nil // its job is waiting already
	}
	if h.remoteOnly {
		return ErrRemoteOnly, nil
	}
	return nil, a.addJob(&Job{
		ID: c.ID, Op: JobPut, Bucket: c.Bucket, Key: c.Key, VersionID: c.ID,
		Blob: h.blob, Size: h.size, Created: c.Time,
	}, bytes.Clone(v))
}

// replicaFound records c.Replica in the current version c.ID, unless a put
// job of that version waits (its completion records the replica) or the
// same ETag and size are recorded already.
func (a *applier) replicaFound(c *command) (error, error) {
	v, _, err := a.currentVersion(c.Bucket, c.Key, c.ID)
	if err == ErrNoSuchKey {
		return err, nil
	}
	if err != nil {
		return nil, err
	}
	if a.ids.Get([]byte(c.ID)) != nil {
		return nil, nil
	}
	var o Object
	if err := decodeObject(v, &o); err != nil {
		return nil, err
	}
	if o.Replicated() && o.Replica.ETag == c.Replica.ETag && o.Replica.Size == c.Replica.Size {
		return nil, nil
	}
	rec, err := withReplica(v, c.Replica)
	if err != nil {
		return nil, err
	}
	ob := a.objects.Bucket([]byte(c.Bucket))
	ob.FillPercent = objectsFillPercent
	return nil, ob.Put([]byte(c.Key), rec)
}
