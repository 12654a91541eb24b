package queue

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// applyEntry applies every command of one raft entry inside tx and returns
// one result per command (nil or a sentinel such as ErrBucketExists). A
// non-nil error means the transaction must not commit: the entry is corrupt,
// written by a newer version, or the database failed.
//
// inline restores the blob of an ObjectPut that carries its bytes; it also
// returns how many such bytes it applied. It depends on nothing but tx, data
// and inline, so tests replay logs without raft.
func applyEntry(tx *bolt.Tx, data []byte, inline func(blob string, data []byte) error) ([]error, int64, error) {
	a := newApplier(tx)
	a.inline = inline
	var results []error
	err := splitEntry(data, func(b []byte) error {
		var c command
		if err := decodeCommand(b, &c); err != nil {
			return err
		}
		res, err := a.apply(&c)
		if err != nil {
			return fmt.Errorf("apply %s: %w", c.Op, err)
		}
		results = append(results, res)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return results, a.inlineBytes, a.flush()
}

// applyCommand applies a single command (see applier.apply).
func applyCommand(tx *bolt.Tx, c *command) (result, err error) {
	a := newApplier(tx)
	if result, err = a.apply(c); err != nil {
		return nil, err
	}
	return result, a.flush()
}

// applier applies the commands of one entry. It keeps the totals and the
// job sequence in memory and writes them once, in flush: the meta bucket
// would otherwise be rewritten four times per command.
type applier struct {
	tx                                *bolt.Tx
	meta, buckets, objects, jobs, ids *bolt.Bucket
	uploads, upParts, upKeys          *bolt.Bucket
	nextSeq                           uint64
	nBuckets, nObjects, nBytes, nJobs int64
	nPendPuts, nPendBytes             int64 // put jobs and their bytes
	verSeq, verSeqLoaded              uint64
	nVersions, nVerBytes              int64                   // noncurrent versions and delete markers
	vstate                            map[string]string       // bucket -> versioning state
	vbuckets                          map[string]*bolt.Bucket // bucket -> its versions bucket

	// inline restores the blob of an ObjectPut that carries its bytes
	// (nil: no blob store, and such a command fails the entry).
	inline      func(blob string, data []byte) error
	inlineBytes int64 // inline bytes applied
}

func newApplier(tx *bolt.Tx) *applier {
	a := &applier{
		tx: tx, meta: tx.Bucket(bktMeta), buckets: tx.Bucket(bktBuckets), objects: tx.Bucket(bktObjects),
		jobs: tx.Bucket(bktJobs), ids: tx.Bucket(bktJobIDs),
		uploads: tx.Bucket(bktUploads), upParts: tx.Bucket(bktUpParts), upKeys: tx.Bucket(bktUpKeys),
	}
	a.jobs.FillPercent = jobsFillPercent
	a.ids.FillPercent = jobsFillPercent // version IDs grow with time
	a.nextSeq = getU64(a.meta, keyNextSeq)
	a.verSeq = getU64(a.meta, keyVerSeq)
	a.verSeqLoaded = a.verSeq
	return a
}

func (a *applier) flush() error {
	if err := putU64(a.meta, keyNextSeq, a.nextSeq); err != nil {
		return err
	}
	if a.verSeq != a.verSeqLoaded {
		if err := putU64(a.meta, keyVerSeq, a.verSeq); err != nil {
			return err
		}
		a.verSeqLoaded = a.verSeq
	}
	for _, d := range []struct {
		key   []byte
		delta int64
	}{{keyNBucket, a.nBuckets}, {keyNObject, a.nObjects}, {keyNBytes, a.nBytes}, {keyNJob, a.nJobs},
		{keyPendPuts, a.nPendPuts}, {keyPendBytes, a.nPendBytes}, {keyNVersion, a.nVersions}, {keyNVerBytes, a.nVerBytes}} {
		if err := addU64(a.tx, d.key, d.delta); err != nil {
			return err
		}
	}
	a.nBuckets, a.nObjects, a.nBytes, a.nJobs, a.nPendPuts, a.nPendBytes = 0, 0, 0, 0, 0, 0
	a.nVersions, a.nVerBytes = 0, 0
	return nil
}

// apply applies one command. The first return value is the command's
// result as its proposer sees it; the second is a failure that aborts the
// transaction.
func (a *applier) apply(c *command) (result, err error) {
	if err := c.validate(); err != nil {
		if c.Op < opBucketCreate || c.Op > opLast {
			// An op this version does not know: skipping it would make this
			// node's state diverge from the log.
			return nil, fmt.Errorf("%s: written by a newer ipas version", c.Op)
		}
		return err, nil
	}
	switch c.Op {
	case opBucketCreate:
		return a.bucketCreate(c)
	case opBucketDelete:
		return a.bucketDelete(c)
	case opObjectPut:
		res, err := a.objectPut(c)
		if err == nil && res == nil && c.Inline != nil {
			// Also for a retry that changed nothing: its job may still
			// reference the blob.
			err = a.restoreInline(c)
		}
		return res, err
	case opObjectDelete:
		return a.objectDelete(c)
	case opJobDone:
		return nil, a.jobDone(c)
	case opUploadCreate:
		return a.uploadCreate(c)
	case opUploadPart:
		return a.uploadPart(c)
	case opUploadAbort:
		return a.uploadAbort(c.ID)
	case opUploadComplete:
		return a.uploadComplete(c)
	case opJobStarted, opJobPartDone, opJobFailed, opJobQuarantined, opJobReset, opJobRetry:
		return a.jobUpdate(c)
	case opRemoteSet:
		return nil, a.remoteSet(c)
	case opObjectRequeue:
		return a.objectRequeue(c)
	case opReplicaFound:
		return a.replicaFound(c)
	case opUserPut, opUserDelete, opKeyPut, opKeyDelete, opBucketPolicy:
		return a.applyAuth(c)
	case opBucketSet:
		return a.bucketSet(c)
	case opObjectEvict:
		return a.objectEvict(c)
	case opObjectDeleteVersion:
		return a.objectDeleteVersion(c)
	case opObjectRetag:
		return a.objectRetag(c)
	}
	return nil, fmt.Errorf("%s: not implemented", c.Op)
}

func (a *applier) bucketCreate(c *command) (error, error) {
	name := []byte(c.Bucket)
	if a.buckets.Get(name) != nil {
		return ErrBucketExists, nil
	}
	if err := a.buckets.Put(name, encodeBucket(&Bucket{Created: c.Time, Owner: c.Owner})); err != nil {
		return nil, err
	}
	if err := a.authChanged(); err != nil {
		return nil, err
	}
	if _, err := a.objects.CreateBucketIfNotExists(name); err != nil {
		return nil, err
	}
	a.nBuckets++
	return nil, nil
}

func (a *applier) bucketDelete(c *command) (error, error) {
	name := []byte(c.Bucket)
	if a.buckets.Get(name) == nil {
		return ErrNoSuchBucket, nil
	}
	versions := a.tx.Bucket(bktVersions)
	vb := versions.Bucket(name)
	if vb != nil {
		if k, _ := vb.Cursor().First(); k != nil {
			return ErrBucketNotEmpty, nil
		}
	}
	if ob := a.objects.Bucket(name); ob != nil {
		if k, _ := ob.Cursor().First(); k != nil {
			return ErrBucketNotEmpty, nil
		}
		if err := a.objects.DeleteBucket(name); err != nil {
			return nil, err
		}
	}
	if vb != nil {
		if err := versions.DeleteBucket(name); err != nil {
			return nil, err
		}
	}
	delete(a.vstate, c.Bucket)
	delete(a.vbuckets, c.Bucket)
	// Uploads in progress go with the bucket (their part blobs would
	// otherwise stay referenced by uploads nobody can list).
	if err := a.abortBucketUploads(c.Bucket); err != nil {
		return nil, err
	}
	if err := a.buckets.Delete(name); err != nil {
		return nil, err
	}
	if err := a.tx.Bucket(bktPolicies).Delete(name); err != nil {
		return nil, err
	}
	if err := a.authChanged(); err != nil {
		return nil, err
	}
	a.nBuckets--
	return nil, nil
}

func (a *applier) objectPut(c *command) (error, error) {
	o := &c.Object
	ob := a.objects.Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	ob.FillPercent = objectsFillPercent
	key := []byte(c.Key)
	var old objectHead
	hadOld := false
	if v := ob.Get(key); v != nil {
		if err := old.decode(v); err != nil {
			return nil, err
		}
		if old.versionID == o.VersionID && !(c.Restored && old.remoteOnly && !o.RemoteOnly) {
			// A retry of the put that is current: nothing to do. Only the
			// bytes of a remote-only version coming back change it.
			return nil, nil
		}
		hadOld = true
		if c.Restored && old.modTime.After(o.ModTime) {
			return ErrNewerVersion, nil
		}
	}
	if a.ids.Get([]byte(o.VersionID)) != nil {
		// A retry of a put whose job is still pending but which a newer
		// version already replaced: replaying it would resurrect old data.
		return nil, nil
	}
	if res := c.Cond.check(hadOld, old.etag); res != nil {
		return res, nil
	}
	state := ""
	if !c.Restored {
		var err error
		if state, err = a.versioning(c.Bucket); err != nil {
			return nil, err
		}
	}
	value := c.objectRaw
	if state == VersioningEnabled {
		if value == nil {
			o.Versioned = true
			value = encodeObject(o)
		} else {
			value = withVersioned(value)
		}
	} else if value == nil {
		value = encodeObject(o)
	}
	if state != "" {
		if err := a.keepReplaced(c.Bucket, c.Key, state, ob.Get(key), &old); err != nil {
			return nil, err
		}
	}
	// A restored version that replaces another one in a versioned bucket
	// keeps it, as a noncurrent version with its job.
	keptOld := false
	if c.Restored && hadOld && old.versionID != o.VersionID {
		rs, err := a.versioning(c.Bucket)
		if err != nil {
			return nil, err
		}
		if rs != "" {
			if err := a.keepReplaced(c.Bucket, c.Key, VersioningEnabled, ob.Get(key), &old); err != nil {
				return nil, err
			}
			keptOld = true
		}
	}
	if err := ob.Put(key, value); err != nil {
		return nil, err
	}
	if !hadOld {
		a.nObjects++
	}
	a.nBytes += o.Size - old.size
	if c.Restored {
		return nil, a.restoredOver(&old, hadOld && !keptOld)
	}
	return nil, a.addJob(&Job{
		ID: o.VersionID, Op: JobPut, Bucket: c.Bucket, Key: c.Key, VersionID: o.VersionID,
		Blob: o.Blob, Size: o.Size, Created: c.Time,
	}, value)
}

func (a *applier) objectDelete(c *command) (error, error) {
	ob := a.objects.Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	state, err := a.versioning(c.Bucket)
	if err != nil {
		return nil, err
	}
	if state != "" {
		return a.addDeleteMarker(c, ob, state)
	}
	key := []byte(c.Key)
	v := ob.Get(key)
	if v == nil {
		return nil, nil // S3 deletes of a missing key succeed
	}
	if a.ids.Get([]byte(c.ID)) != nil {
		return nil, nil // a retry; the key was put again since
	}
	var old objectHead
	if err := old.decode(v); err != nil {
		return nil, err
	}
	if err := ob.Delete(key); err != nil {
		return nil, err
	}
	a.nObjects--
	a.nBytes -= old.size
	return nil, a.addJob(&Job{
		ID: c.ID, Op: JobDelete, Bucket: c.Bucket, Key: c.Key, VersionID: old.versionID,
		Created: c.Time,
	}, nil)
}

// addJob assigns the next Seq and stores j; objRaw is a put job's object
// as stored. The caller takes the job's blob references.
func (a *applier) addJob(j *Job, objRaw []byte) error {
	a.nextSeq++
	j.Seq = a.nextSeq
	seq := u64Key(j.Seq)
	if err := a.jobs.Put(seq, encodeJob(j, objRaw)); err != nil {
		return err
	}
	if err := a.ids.Put([]byte(j.ID), seq); err != nil {
		return err
	}
	a.nJobs++
	if j.Op == JobPut {
		a.nPendPuts++
		a.nPendBytes += j.Size
	}
	return nil
}

// jobSeq decodes a jobs key.
func jobSeq(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
