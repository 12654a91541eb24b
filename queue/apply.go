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
// It depends on nothing but tx and data, so tests replay logs without raft.
func applyEntry(tx *bolt.Tx, data []byte) ([]error, error) {
	tx.Bucket(bktJobs).FillPercent = jobsFillPercent
	var results []error
	err := splitEntry(data, func(b []byte) error {
		var c command
		if err := decodeCommand(b, &c); err != nil {
			return err
		}
		res, err := applyCommand(tx, &c)
		if err != nil {
			return fmt.Errorf("apply %s: %w", c.Op, err)
		}
		results = append(results, res)
		return nil
	})
	return results, err
}

// applyCommand applies one command. The first return value is the
// command's result as its proposer sees it; the second is a failure that
// aborts the transaction.
func applyCommand(tx *bolt.Tx, c *command) (result, err error) {
	if err := c.validate(); err != nil {
		if c.Op < opBucketCreate || c.Op > opJobDone {
			// An op this version does not know: skipping it would make this
			// node's state diverge from the log.
			return nil, fmt.Errorf("%s: written by a newer ipas version", c.Op)
		}
		return err, nil
	}
	switch c.Op {
	case opBucketCreate:
		return applyBucketCreate(tx, c)
	case opBucketDelete:
		return applyBucketDelete(tx, c)
	case opObjectPut:
		return applyObjectPut(tx, c)
	case opObjectDelete:
		return applyObjectDelete(tx, c)
	case opJobDone:
		return nil, applyJobDone(tx, c.ID)
	}
	return nil, fmt.Errorf("%s: not implemented", c.Op)
}

func applyBucketCreate(tx *bolt.Tx, c *command) (error, error) {
	name := []byte(c.Bucket)
	buckets := tx.Bucket(bktBuckets)
	if buckets.Get(name) != nil {
		return ErrBucketExists, nil
	}
	if err := buckets.Put(name, encodeBucket(&Bucket{Created: c.Time})); err != nil {
		return nil, err
	}
	if _, err := tx.Bucket(bktObjects).CreateBucketIfNotExists(name); err != nil {
		return nil, err
	}
	return nil, addU64(tx, keyNBucket, 1)
}

func applyBucketDelete(tx *bolt.Tx, c *command) (error, error) {
	name := []byte(c.Bucket)
	buckets := tx.Bucket(bktBuckets)
	if buckets.Get(name) == nil {
		return ErrNoSuchBucket, nil
	}
	objects := tx.Bucket(bktObjects)
	if ob := objects.Bucket(name); ob != nil {
		if k, _ := ob.Cursor().First(); k != nil {
			return ErrBucketNotEmpty, nil
		}
		if err := objects.DeleteBucket(name); err != nil {
			return nil, err
		}
	}
	if err := buckets.Delete(name); err != nil {
		return nil, err
	}
	return nil, addU64(tx, keyNBucket, -1)
}

func applyObjectPut(tx *bolt.Tx, c *command) (error, error) {
	o := &c.Object
	ob := tx.Bucket(bktObjects).Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	key := []byte(c.Key)
	var old Object
	hadOld := false
	if v := ob.Get(key); v != nil {
		if err := decodeObject(v, &old); err != nil {
			return nil, err
		}
		if old.VersionID == o.VersionID {
			return nil, nil // a retry of the put that is current: nothing to do
		}
		hadOld = true
	}
	if tx.Bucket(bktJobIDs).Get([]byte(o.VersionID)) != nil {
		// A retry of a put whose job is still pending but which a newer
		// version already replaced: replaying it would resurrect old data.
		return nil, nil
	}
	if err := ob.Put(key, encodeObject(o)); err != nil {
		return nil, err
	}
	if err := addRef(tx, o.Blob, 1); err != nil {
		return nil, err
	}
	if hadOld {
		if err := addRef(tx, old.Blob, -1); err != nil {
			return nil, err
		}
	} else if err := addU64(tx, keyNObject, 1); err != nil {
		return nil, err
	}
	if err := addU64(tx, keyNBytes, o.Size-old.Size); err != nil {
		return nil, err
	}
	return nil, addJob(tx, &Job{
		ID: o.VersionID, Op: JobPut, Bucket: c.Bucket, Key: c.Key, VersionID: o.VersionID,
		Blob: o.Blob, Size: o.Size, Created: c.Time,
	})
}

func applyObjectDelete(tx *bolt.Tx, c *command) (error, error) {
	ob := tx.Bucket(bktObjects).Bucket([]byte(c.Bucket))
	if ob == nil {
		return ErrNoSuchBucket, nil
	}
	key := []byte(c.Key)
	v := ob.Get(key)
	if v == nil {
		return nil, nil // S3 deletes of a missing key succeed
	}
	if tx.Bucket(bktJobIDs).Get([]byte(c.ID)) != nil {
		return nil, nil // a retry; the key was put again since
	}
	var old Object
	if err := decodeObject(v, &old); err != nil {
		return nil, err
	}
	if err := ob.Delete(key); err != nil {
		return nil, err
	}
	if err := addRef(tx, old.Blob, -1); err != nil {
		return nil, err
	}
	if err := addU64(tx, keyNObject, -1); err != nil {
		return nil, err
	}
	if err := addU64(tx, keyNBytes, -old.Size); err != nil {
		return nil, err
	}
	return nil, addJob(tx, &Job{
		ID: c.ID, Op: JobDelete, Bucket: c.Bucket, Key: c.Key, VersionID: old.VersionID,
		Created: c.Time,
	})
}

// addJob assigns the next Seq, stores j and takes a reference on its blob.
func addJob(tx *bolt.Tx, j *Job) error {
	meta := tx.Bucket(bktMeta)
	j.Seq = getU64(meta, keyNextSeq) + 1
	if err := putU64(meta, keyNextSeq, j.Seq); err != nil {
		return err
	}
	seq := u64Key(j.Seq)
	if err := tx.Bucket(bktJobs).Put(seq, encodeJob(j)); err != nil {
		return err
	}
	if err := tx.Bucket(bktJobIDs).Put([]byte(j.ID), seq); err != nil {
		return err
	}
	if err := addRef(tx, j.Blob, 1); err != nil {
		return err
	}
	return addU64(tx, keyNJob, 1)
}

func applyJobDone(tx *bolt.Tx, id string) error {
	ids := tx.Bucket(bktJobIDs)
	seq := ids.Get([]byte(id))
	if seq == nil {
		return nil
	}
	jobs := tx.Bucket(bktJobs)
	var j Job
	if v := jobs.Get(seq); v != nil {
		if err := decodeJob(v, &j); err != nil {
			return err
		}
	}
	seq = append([]byte(nil), seq...) // seq aliases the page; deletes may move it
	if err := ids.Delete([]byte(id)); err != nil {
		return err
	}
	if err := jobs.Delete(seq); err != nil {
		return err
	}
	if err := addRef(tx, j.Blob, -1); err != nil {
		return err
	}
	return addU64(tx, keyNJob, -1)
}

// jobSeq decodes a jobs key.
func jobSeq(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
