package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipas/ipas/queue"
)

// QueueJournal adapts a queue.Node to Journal and Leadership.
type QueueJournal struct{ Node *queue.Node }

var (
	_ Journal        = QueueJournal{}
	_ JobSignal      = QueueJournal{}
	_ BatchCompleter = QueueJournal{}
	_ Leadership     = QueueJournal{}
	_ Versions       = QueueJournal{}
)

// Current implements Versions.
func (q QueueJournal) Current(bucket, key string) (Version, RemoteCopy, error) {
	o, err := q.Node.Object(bucket, key)
	if errors.Is(err, queue.ErrNoSuchKey) || errors.Is(err, queue.ErrNoSuchBucket) {
		return Version{}, RemoteCopy{}, nil
	}
	if err != nil {
		return Version{}, RemoteCopy{}, err
	}
	m := MetaFromObject(&o)
	if o.Versioned {
		m.VersionID = o.VersionID
	}
	v := Version{VersionID: o.VersionID, Size: o.Size, Meta: m}
	null, err := q.Node.ObjectVersion(bucket, key, queue.NullVersionID)
	switch {
	case err == nil:
		v.HasNull = true
		nj, err := q.Node.Job(null.VersionID)
		v.NullPending = err == nil && !nj.Quarantined
	case !errors.Is(err, queue.ErrNoSuchVersion) && !errors.Is(err, queue.ErrNoSuchKey):
		return Version{}, RemoteCopy{}, err
	}
	return v, remoteCopy(o.Replica), nil
}

func remoteCopy(r queue.Replica) RemoteCopy {
	return RemoteCopy{ETag: r.ETag, Size: r.Size, VersionID: r.VersionID}
}

func replica(c RemoteCopy) queue.Replica {
	return queue.Replica{ETag: c.ETag, Size: c.Size, VersionID: c.VersionID}
}

// JobsAdded implements JobSignal.
func (q QueueJournal) JobsAdded() <-chan struct{} { return q.Node.JobsAdded() }

// Jobs implements Journal.
func (q QueueJournal) Jobs(afterSeq uint64, limit int) ([]Job, error) {
	js, err := q.Node.Jobs(afterSeq, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(js))
	for i := range js {
		out[i] = fromQueue(&js[i])
	}
	return out, nil
}

// Job implements Journal.
func (q QueueJournal) Job(id string) (Job, error) {
	j, err := q.Node.Job(id)
	if errors.Is(err, queue.ErrNoSuchJob) {
		return Job{}, fmt.Errorf("replication: job %s: %w", id, ErrNoSuchJob)
	}
	if err != nil {
		return Job{}, err
	}
	return fromQueue(&j), nil
}

// JobStarted implements Journal.
func (q QueueJournal) JobStarted(ctx context.Context, jobID, uploadID string, partSize int64) error {
	return q.Node.JobStarted(ctx, jobID, uploadID, partSize)
}

// JobPartDone implements Journal.
func (q QueueJournal) JobPartDone(ctx context.Context, jobID, uploadID string, p Part) error {
	return q.Node.JobPartDone(ctx, jobID, uploadID, queue.Part{Number: p.Number, ETag: p.ETag, Size: p.Size, Checksum: p.Checksum})
}

// JobFailed implements Journal.
func (q QueueJournal) JobFailed(ctx context.Context, jobID, lastError string, retryAt time.Time) error {
	return ignoreGone(q.Node.JobFailed(ctx, jobID, lastError, retryAt))
}

// JobQuarantined implements Journal.
func (q QueueJournal) JobQuarantined(ctx context.Context, jobID, reason string) error {
	return ignoreGone(q.Node.JobQuarantined(ctx, jobID, reason))
}

// JobReset implements Journal.
func (q QueueJournal) JobReset(ctx context.Context, jobID string) error {
	return q.Node.JobReset(ctx, jobID)
}

// JobDone implements Journal.
func (q QueueJournal) JobDone(ctx context.Context, jobID string) error {
	return q.Node.JobDone(ctx, jobID)
}

// JobReplicated implements Journal.
func (q QueueJournal) JobReplicated(ctx context.Context, jobID string, c RemoteCopy) error {
	return q.Node.JobReplicated(ctx, jobID, replica(c))
}

// JobsReplicated implements BatchCompleter.
func (q QueueJournal) JobsReplicated(ctx context.Context, done []Replicated) []error {
	rs := make([]queue.ReplicatedJob, len(done))
	for i, d := range done {
		rs[i] = queue.ReplicatedJob{ID: d.JobID, Replica: replica(d.Copy)}
	}
	return q.Node.JobsReplicated(ctx, rs)
}

// RunAsLeader implements Leadership.
func (q QueueJournal) RunAsLeader(ctx context.Context, fn func(ctx context.Context)) {
	q.Node.RunAsLeader(ctx, fn)
}

// ignoreGone: a job that disappeared meanwhile (replicated by an earlier
// attempt) needs no failure record.
func ignoreGone(err error) error {
	if errors.Is(err, queue.ErrNoSuchJob) {
		return nil
	}
	return err
}

func fromQueue(q *queue.Job) Job {
	j := Job{
		ID: q.ID, Seq: q.Seq, Op: Op(q.Op), Bucket: q.Bucket, Key: q.Key, VersionID: q.VersionID, Size: q.Size,
		Meta:     MetaFromObject(&q.Object),
		UploadID: q.UploadID, PartSize: q.PartSize, Attempts: q.Attempts, LastError: q.LastError,
		NotBefore: q.NotBefore, Quarantined: q.Quarantined, Versioned: q.Object.Versioned,
	}
	switch {
	case len(q.Object.Parts) > 0:
		for _, p := range q.Object.Parts {
			j.Pieces = append(j.Pieces, Piece{Blob: p.Blob, Size: p.Size})
		}
	case q.Blob != "":
		j.Pieces = []Piece{{Blob: q.Blob, Size: q.Size}}
	case q.Object.Blob != "":
		j.Pieces = []Piece{{Blob: q.Object.Blob, Size: q.Object.Size}}
	}
	for _, p := range q.PartsDone {
		j.PartsDone = append(j.PartsDone, Part{Number: p.Number, ETag: p.ETag, Size: p.Size, Checksum: p.Checksum})
	}
	return j
}
