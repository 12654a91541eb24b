package replication

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/ipas/ipas/store"
)

// Journal is the part of the queue that replication reads and writes. Every
// write is a journaled (raft) command, so progress survives a restart.
type Journal interface {
	// Jobs returns up to limit jobs with Seq > afterSeq, oldest first.
	Jobs(afterSeq uint64, limit int) ([]Job, error)
	// Job returns one job; an error wrapping ErrNoSuchJob if it is gone.
	Job(id string) (Job, error)
	// JobStarted journals a multipart upload's UploadId and part size.
	JobStarted(ctx context.Context, jobID, uploadID string, partSize int64) error
	// JobPartDone journals a finished part; ignored if uploadID is stale.
	JobPartDone(ctx context.Context, jobID, uploadID string, p Part) error
	// JobFailed counts an attempt and defers the job until retryAt.
	JobFailed(ctx context.Context, jobID, lastError string, retryAt time.Time) error
	// JobQuarantined marks a poison job: never retried automatically.
	JobQuarantined(ctx context.Context, jobID, reason string) error
	// JobReset forgets the UploadId and parts.
	JobReset(ctx context.Context, jobID string) error
	// JobDone removes a finished job that uploaded nothing (a delete).
	JobDone(ctx context.Context, jobID string) error
	// JobReplicated removes a finished put job and records that its version
	// is on the remote, as c describes it.
	JobReplicated(ctx context.Context, jobID string, c RemoteCopy) error
}

// ErrNoSuchJob is what Journal.Job wraps when the job is gone.
var ErrNoSuchJob = errors.New("replication: no such job")

// JobSignal is implemented by a Journal that signals new jobs (queue.Node's
// JobsAdded): the replicator then reads only the jobs past the last Seq it
// has seen when signalled, instead of asking every Config.PollInterval.
type JobSignal interface {
	JobsAdded() <-chan struct{}
}

// BatchCompleter is implemented by a Journal that journals the completion
// of many put jobs together (queue.Node's JobsReplicated): the replicator
// then hands a finished small object over and starts the next one while
// the completions that gathered meanwhile share one commit.
type BatchCompleter interface {
	// JobsReplicated is JobReplicated for each job; one result per job.
	JobsReplicated(ctx context.Context, done []Replicated) []error
}

// Replicated is a finished put job and its remote copy.
type Replicated struct {
	JobID string
	Copy  RemoteCopy
}

// Leadership runs fn while this node is the raft leader (queue.Node).
type Leadership interface {
	RunAsLeader(ctx context.Context, fn func(ctx context.Context))
}

// Blobs opens local blob bytes (store.Store).
type Blobs interface {
	OpenBlob(ctx context.Context, d store.Digest, size, off, length int64) (io.ReadCloser, error)
}
