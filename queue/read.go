package queue

import (
	"bytes"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// DefaultListLimit is the page size of ListObjects and Jobs when the caller
// passes limit <= 0; it is S3's max-keys default.
const DefaultListLimit = 1000

// Reads come from the local state machine, each from one consistent view
// (fsm.view): on the leader they see every committed command whose proposer
// has returned, including those applied into the write transaction that has
// not committed yet.

// Object returns the current version of bucket/key.
func (n *Node) Object(bucket, key string) (Object, error) {
	o := Object{Bucket: bucket, Key: key}
	err := n.fsm.view(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bktObjects).Bucket([]byte(bucket))
		if ob == nil {
			return ErrNoSuchBucket
		}
		v := ob.Get([]byte(key))
		if v == nil {
			return ErrNoSuchKey
		}
		return decodeObject(v, &o)
	})
	if err != nil {
		return Object{}, fmt.Errorf("queue: object %s/%s: %w", bucket, key, err)
	}
	return o, nil
}

// ListObjects returns up to limit objects of bucket whose keys start with
// prefix and sort after startAfter, in key order, and whether more follow.
// Each page is a cursor seek, so paging through a large bucket stays cheap.
func (n *Node) ListObjects(bucket, prefix, startAfter string, limit int) ([]Object, bool, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	var out []Object
	truncated := false
	err := n.fsm.view(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bktObjects).Bucket([]byte(bucket))
		if ob == nil {
			return ErrNoSuchBucket
		}
		c := ob.Cursor()
		pre := []byte(prefix)
		var k, v []byte
		if startAfter >= prefix {
			k, v = c.Seek([]byte(startAfter))
			if k != nil && string(k) == startAfter {
				k, v = c.Next()
			}
		} else {
			k, v = c.Seek(pre)
		}
		for ; k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
			if len(out) == limit {
				truncated = true
				break
			}
			o := Object{Bucket: bucket, Key: string(k)}
			if err := decodeObject(v, &o); err != nil {
				return fmt.Errorf("key %s: %w", k, err)
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("queue: list %s: %w", bucket, err)
	}
	return out, truncated, nil
}

// Buckets returns every bucket in name order.
func (n *Node) Buckets() ([]Bucket, error) {
	var out []Bucket
	err := n.fsm.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bktBuckets).ForEach(func(k, v []byte) error {
			b, err := decodeBucket(string(k), v)
			out = append(out, b)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("queue: list buckets: %w", err)
	}
	return out, nil
}

// BucketExists reports whether the bucket exists.
func (n *Node) BucketExists(name string) (bool, error) {
	var ok bool
	err := n.fsm.view(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bktBuckets).Get([]byte(name)) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queue: bucket %s: %w", name, err)
	}
	return ok, nil
}

// Jobs returns up to limit jobs with Seq > afterSeq, oldest first. Pass the
// last Seq seen to get the next page.
func (n *Node) Jobs(afterSeq uint64, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	var out []Job
	err := n.fsm.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktJobs).Cursor()
		for k, v := c.Seek(u64Key(afterSeq + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			j := Job{Seq: jobSeq(k)}
			if err := decodeJob(v, &j); err != nil {
				return fmt.Errorf("job %d: %w", j.Seq, err)
			}
			if err := loadJobParts(tx, k, &j); err != nil {
				return err
			}
			out = append(out, j)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue: list jobs: %w", err)
	}
	return out, nil
}

// JobsAdded is signalled (it holds at most one pending signal) after a
// command that added a job is applied, and after a snapshot replaced the
// state. A reader that remembers the last Seq it listed finds the new jobs
// with Jobs(lastSeq, limit) instead of polling the whole list. It has one
// receiver: the replicator.
func (n *Node) JobsAdded() <-chan struct{} {
	if n.fsm == nil {
		return nil // not open: never signalled
	}
	return n.fsm.jobsAdded
}

// Job returns the job with this ID.
func (n *Node) Job(id string) (Job, error) {
	var j Job
	err := n.fsm.view(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bktJobIDs).Get([]byte(id))
		if seq == nil {
			return ErrNoSuchJob
		}
		v := tx.Bucket(bktJobs).Get(seq)
		if v == nil {
			return ErrNoSuchJob
		}
		j.Seq = jobSeq(seq)
		if err := decodeJob(v, &j); err != nil {
			return err
		}
		return loadJobParts(tx, seq, &j)
	})
	if err != nil {
		return Job{}, fmt.Errorf("queue: job %s: %w", id, err)
	}
	return j, nil
}

// Stats returns the totals kept in fsm.db.
func (n *Node) Stats() (Stats, error) {
	var s Stats
	err := n.fsm.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		s = Stats{
			Buckets:      int64(getU64(m, keyNBucket)),
			Objects:      int64(getU64(m, keyNObject)),
			Bytes:        int64(getU64(m, keyNBytes)),
			Jobs:         int64(getU64(m, keyNJob)),
			Versions:     int64(getU64(m, keyNVersion)),
			VersionBytes: int64(getU64(m, keyNVerBytes)),
			AppliedIndex: getU64(m, keyApplied),
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	return s, nil
}
