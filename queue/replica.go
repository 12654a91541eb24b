package queue

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Which versions are on the remote. A put job that completes with
// JobReplicated records the remote's answer (Replica) in the version's
// index record, and the totals of what is not offsite yet (pending put jobs
// and their bytes) are kept in meta by every apply, so that status and the
// S3 replication-status header never scan the job table.

func (e *encoder) replica(tag int, r Replica) {
	if r.At.IsZero() {
		return
	}
	var re encoder
	re.str(replicaETag, r.ETag)
	re.int(replicaSize, r.Size)
	re.time(replicaAt, r.At)
	e.key(tag, wireBytes)
	e.b = binary.AppendUvarint(e.b, uint64(len(re.b)))
	e.b = append(e.b, re.b...)
}

func (d *decoder) replica() Replica {
	var r Replica
	rd := decoder{b: d.v}
	for rd.next() {
		switch rd.tag {
		case replicaETag:
			r.ETag = rd.str()
		case replicaSize:
			r.Size = rd.int()
		case replicaAt:
			r.At = rd.time()
		}
	}
	if rd.err != nil {
		d.err = rd.err
	}
	return r
}

// withReplica returns the object record raw with its replica set to r. Every
// other field is copied as it is, including fields this version does not
// know, so that the record keeps what a newer version wrote.
func withReplica(raw []byte, r Replica) ([]byte, error) {
	out := make([]byte, 0, len(raw)+48)
	d := decoder{b: raw}
	for start := raw; d.next(); start = d.b {
		if d.tag != objReplica {
			out = append(out, start[:len(start)-len(d.b)]...)
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("decode object: %w", d.err)
	}
	e := encoder{b: out}
	e.replica(objReplica, r)
	return e.b, nil
}

// jobDone removes a finished job. With a replica (JobReplicated) it also
// records that the put job's version is on the remote, if that version is
// still the key's current one.
func (a *applier) jobDone(c *command) error {
	j, found, err := a.removeJob(c.ID)
	if err != nil || !found || c.Replica.At.IsZero() || j.Op != JobPut {
		return err
	}
	if err := a.meta.Put(keyLastRepl, u64Key(uint64(c.Time.UnixNano()))); err != nil {
		return err
	}
	ob := a.objects.Bucket([]byte(j.Bucket))
	if ob == nil {
		return nil
	}
	key := []byte(j.Key)
	v := ob.Get(key)
	if v == nil {
		return a.replicatedNoncurrent(j.Bucket, j.Key, j.VersionID, c.Replica)
	}
	var h objectHead
	if err := h.decode(v); err != nil {
		return err
	}
	if h.versionID != j.VersionID {
		// Overwritten since: the newer version has its own job; the
		// replaced one may be kept as a noncurrent version.
		return a.replicatedNoncurrent(j.Bucket, j.Key, j.VersionID, c.Replica)
	}
	rec, err := withReplica(v, c.Replica)
	if err != nil {
		return err
	}
	ob.FillPercent = objectsFillPercent
	return ob.Put(key, rec)
}

// removeJob deletes the job with this ID, if there is one, and returns it.
func (a *applier) removeJob(id string) (Job, bool, error) {
	seq := a.ids.Get([]byte(id))
	if seq == nil {
		return Job{}, false, nil
	}
	seq = append([]byte(nil), seq...) // seq aliases the page; deletes may move it
	var j Job
	if v := a.jobs.Get(seq); v != nil {
		if err := decodeJob(v, &j); err != nil {
			return Job{}, false, err
		}
	}
	if err := a.ids.Delete([]byte(id)); err != nil {
		return Job{}, false, err
	}
	if err := deleteJobParts(a.tx, seq); err != nil {
		return Job{}, false, err
	}
	if err := a.jobs.Delete(seq); err != nil {
		return Job{}, false, err
	}
	a.nJobs--
	if j.Op == JobPut {
		a.nPendPuts--
		a.nPendBytes -= j.Size
	}
	return j, true, nil
}

// ReplicationState says whether an object version is on the remote, as
// x-amz-replication-status reports it.
type ReplicationState uint8

// Replication states.
const (
	// ReplicationUnknown: no job and no record (a version journaled before
	// records were kept, until a reconcile proves it is on the remote).
	ReplicationUnknown ReplicationState = iota
	// ReplicationPending: its put job waits or is uploading.
	ReplicationPending
	// ReplicationFailed: its put job's last attempt failed, or the job is
	// quarantined.
	ReplicationFailed
	// ReplicationCompleted: the version is recorded as on the remote.
	ReplicationCompleted
)

func (s ReplicationState) String() string {
	switch s {
	case ReplicationPending:
		return "PENDING"
	case ReplicationFailed:
		return "FAILED"
	case ReplicationCompleted:
		return "COMPLETED"
	}
	return ""
}

// Replication returns the replication state of o (as returned by Object):
// one lookup of the job that o.VersionID created, none when there is no
// such job.
func (n *Node) Replication(o Object) (ReplicationState, error) {
	st := ReplicationUnknown
	err := n.fsm.view(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bktJobIDs).Get([]byte(o.VersionID))
		if seq == nil {
			if o.Replicated() {
				st = ReplicationCompleted
			}
			return nil
		}
		v := tx.Bucket(bktJobs).Get(seq)
		if v == nil {
			return fmt.Errorf("job %s: %w: jobids names sequence %d, which jobs lacks", o.VersionID, errCorrupt, jobSeq(seq))
		}
		failing, err := jobFailing(v)
		st = ReplicationPending
		if failing {
			st = ReplicationFailed
		}
		return err
	})
	if err != nil {
		return ReplicationUnknown, fmt.Errorf("queue: replication of %s/%s: %w", o.Bucket, o.Key, err)
	}
	return st, nil
}

// jobFailing decodes only a job's state and quarantine flag.
func jobFailing(v []byte) (bool, error) {
	d := decoder{b: v}
	failing := false
	for d.next() {
		switch d.tag {
		case jobState:
			failing = failing || JobState(d.uint()) == JobFailing
		case jobQuarantined:
			failing = failing || d.uint() == 1
		}
	}
	if d.err != nil {
		return false, fmt.Errorf("decode job: %w", d.err)
	}
	return failing, nil
}

// Offsite is how much of the archive is not on the remote yet.
type Offsite struct {
	// PendingObjects and PendingBytes count put jobs (quarantined ones
	// included) and their sizes.
	PendingObjects int64
	PendingBytes   int64
	// OldestPending is when the oldest version still waiting for its upload
	// was put; zero when nothing is pending.
	OldestPending time.Time
	// LastReplicated is when the last upload was confirmed (JobReplicated);
	// zero if none since the records were kept.
	LastReplicated time.Time
}

// Offsite returns the running totals and the oldest pending put job: jobs
// are walked oldest first only past leading delete jobs.
func (n *Node) Offsite() (Offsite, error) {
	var s Offsite
	err := n.fsm.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		s.PendingObjects = int64(getU64(m, keyPendPuts))
		s.PendingBytes = int64(getU64(m, keyPendBytes))
		if t := getU64(m, keyLastRepl); t != 0 {
			s.LastReplicated = time.Unix(0, int64(t)).UTC()
		}
		if s.PendingObjects == 0 {
			return nil
		}
		c := tx.Bucket(bktJobs).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			op, created, err := jobOpCreated(v)
			if err != nil {
				return fmt.Errorf("job %d: %w", jobSeq(k), err)
			}
			if op == JobPut {
				s.OldestPending = created
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return Offsite{}, fmt.Errorf("queue: offsite totals: %w", err)
	}
	return s, nil
}

func jobOpCreated(v []byte) (JobOp, time.Time, error) {
	d := decoder{b: v}
	var op JobOp
	var created time.Time
	for d.next() {
		switch d.tag {
		case jobOp:
			op = JobOp(d.uint())
		case jobCreated:
			created = d.time()
		}
	}
	if d.err != nil {
		return 0, time.Time{}, fmt.Errorf("decode job: %w", d.err)
	}
	return op, created, nil
}

// initPendingTotals counts the put jobs of a database written before the
// totals were kept. It runs once, in the upgrade transaction.
func initPendingTotals(tx *bolt.Tx) error {
	m := tx.Bucket(bktMeta)
	if m.Get(keyPendPuts) != nil {
		return nil
	}
	var puts, bytes uint64
	err := tx.Bucket(bktJobs).ForEach(func(k, v []byte) error {
		var j Job
		if err := decodeJob(v, &j); err != nil {
			return fmt.Errorf("job %d: %w", jobSeq(k), err)
		}
		if j.Op == JobPut {
			puts++
			bytes += uint64(j.Size)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count pending jobs: %w", err)
	}
	if err := putU64(m, keyPendPuts, puts); err != nil {
		return err
	}
	return putU64(m, keyPendBytes, bytes)
}
