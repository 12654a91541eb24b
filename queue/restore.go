package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// restoredOver finishes a restored put that replaced old: the replaced
// version's own put job, if it still waits, is dropped. Uploading it after
// the restore would put the older bytes back over the newer remote copy.
// Older versions' jobs are not indexed by key and are left alone.
func (a *applier) restoredOver(old *objectHead, hadOld bool) error {
	if !hadOld {
		return nil
	}
	_, _, err := a.removeJob(old.versionID)
	return err
}

// PutRestoredObject makes o, downloaded from the remote, the current version
// of o.Bucket/o.Key, recorded as replicated (o.Replica; its At defaults to
// now) and without a replication job: a restore never queues an upload of
// what it just downloaded. It applies only if the key has no version with a
// later ModTime, so a newer local version is never overwritten; applied
// reports whether it did. Putting the current version again reports true
// and changes nothing. o.ModTime defaults to now.
func (n *Node) PutRestoredObject(ctx context.Context, o Object) (applied bool, err error) {
	err = n.PutRestoredObjects(ctx, []Object{o})[0]
	if errors.Is(err, ErrNewerVersion) {
		return false, nil
	}
	return err == nil, err
}

// PutRestoredObjects is PutRestoredObject for many objects, in whole
// entries: one result per object, ErrNewerVersion for each one that was
// not applied because its key has a newer version.
func (n *Node) PutRestoredObjects(ctx context.Context, objs []Object) []error {
	return n.proposeRestored(ctx, opObjectPut, "restore", objs)
}

// proposeRestored proposes one restored command of op per object, with the
// object's ModTime and Replica.At defaulting to now; one result per object.
func (n *Node) proposeRestored(ctx context.Context, op cmdOp, what string, objs []Object) []error {
	now := time.Now()
	cmds := make([]*command, len(objs))
	for i, o := range objs {
		if o.ModTime.IsZero() {
			o.ModTime = now
		}
		if o.Replica.At.IsZero() {
			o.Replica.At = now
		}
		cmds[i] = &command{Op: op, Time: now, Bucket: o.Bucket, Key: o.Key, Object: o, Restored: true}
	}
	errs := make([]error, len(objs))
	if n.prop == nil {
		for i := range errs {
			errs[i] = ErrClosed
		}
		return errs
	}
	for i, err := range n.prop.proposeAll(ctx, cmds) {
		if err != nil {
			errs[i] = fmt.Errorf("queue: %s %s: %w", what, cmds[i].target(), err)
		}
	}
	return errs
}

// JobReplicated removes a finished put job, like JobDone, and records in
// its version's index record that the version is on the remote: r, with At
// set to now. A version overwritten or deleted meanwhile is left as it is;
// a missing job is not an error.
func (n *Node) JobReplicated(ctx context.Context, id string, r Replica) error {
	now := time.Now()
	r.At = now
	return n.propose(ctx, &command{Op: opJobDone, Time: now, ID: id, Replica: r})
}

// ReplicatedJob names a finished put job and its remote copy (JobsReplicated).
type ReplicatedJob struct {
	ID      string
	Replica Replica
}

// JobsReplicated is JobReplicated for many jobs, proposed together: they
// share raft entries (one when they fit Config.MaxBatchCommands and
// MaxBatchBytes) instead of one commit each. One result per job.
func (n *Node) JobsReplicated(ctx context.Context, done []ReplicatedJob) []error {
	now := time.Now()
	cmds := make([]*command, len(done))
	for i, d := range done {
		r := d.Replica
		r.At = now
		cmds[i] = &command{Op: opJobDone, Time: now, ID: d.ID, Replica: r}
	}
	if n.prop == nil {
		errs := make([]error, len(done))
		for i := range errs {
			errs[i] = ErrClosed
		}
		return errs
	}
	errs := n.prop.proposeAll(ctx, cmds)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("queue: %s %s: %w", cmds[i].Op, cmds[i].target(), err)
		}
	}
	return errs
}
