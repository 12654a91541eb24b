package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// Defaults of the Reconciler's tunables.
const (
	// DefaultSampleSize is how many names of each kind a Result keeps.
	DefaultSampleSize = 10
	// DefaultQueueBatch is how many put jobs are proposed to the journal at
	// once.
	DefaultQueueBatch = 256
	// pageSize is the index page read at a time, S3's LIST page size.
	pageSize = 1000
)

// Remote is the remote copy, read with LIST requests only
// (replication.Remote).
type Remote interface {
	// ListObjects calls fn with each page of the objects whose local name
	// starts with opts.Prefix, in byte order, one LIST request per page.
	ListObjects(ctx context.Context, opts replication.ListOptions, fn func([]replication.ListedObject) error) (replication.ListStats, error)
}

// Index is the local object index and its replication jobs (queue.Node).
type Index interface {
	Buckets() ([]queue.Bucket, error)
	ListObjects(bucket, prefix, startAfter string, limit int) ([]queue.Object, bool, error)
	// Job returns the job with this ID; an error wrapping
	// queue.ErrNoSuchJob when there is none.
	Job(id string) (queue.Job, error)
	// RequeueObjects queues a put job for each object's version (Bucket,
	// Key, VersionID), one result per object: nil when a job is queued or
	// was pending already, queue.ErrNoSuchKey when the version is no
	// longer current (a newer one has its own job).
	RequeueObjects(ctx context.Context, objs []queue.Object) []error
	// RecordReplicas records that the remote holds each object's version
	// as o.Replica says; results as for RequeueObjects.
	RecordReplicas(ctx context.Context, objs []queue.Object) []error
}

// Expect returns the ETag that the remote copy of o must have, or "" when
// only its size can be checked.
type Expect func(o *queue.Object) string

// RecordedETag expects the ETag the remote returned when the version's
// upload was confirmed (or a reconcile found it), as the journal recorded
// it. Without a record, and when md5ETags says that the remote's ETag of a
// single PutObject is the MD5 of the bytes (true of S3 except with
// SSE-KMS), an object smaller than multipartThreshold is expected to have
// its local ETag, unless it was itself assembled from parts ("-N"); larger
// objects went up in parts of the replicator's choosing, so only their
// size is checked.
func RecordedETag(multipartThreshold int64, md5ETags bool) Expect {
	return func(o *queue.Object) string {
		switch {
		case o.Replica.ETag != "":
			return o.Replica.ETag
		case !md5ETags || o.Size >= multipartThreshold || strings.Contains(o.ETag, "-"):
			return ""
		}
		return o.ETag
	}
}

// Result counts what a pass found.
type Result struct {
	Buckets int64 `json:"buckets"` // local buckets compared
	Checked int64 `json:"checked"` // local objects compared
	// Missing objects have no remote copy; Different ones have a remote
	// copy of another size or ETag.
	Missing   int64 `json:"missing"`
	Different int64 `json:"different"`
	// Pending is how many of those were not queued again because their
	// upload is queued already.
	Pending int64 `json:"pending"`
	Queued  int64 `json:"queued"` // put jobs queued by the pass
	// Recorded counts versions found on the remote that the journal did not
	// record as being there (put before records were kept, or uploaded to
	// an earlier remote): they are recorded now.
	Recorded int64 `json:"recorded"`
	// QueuedSample names some of the queued objects ("bucket/key").
	QueuedSample []string `json:"queued_sample,omitempty"`
	// RemoteOnly counts remote objects the index does not hold (deleted
	// locally, or written there by something else); RemoteOnlySample
	// names some of them.
	RemoteOnly       int64    `json:"remote_only"`
	RemoteOnlySample []string `json:"remote_only_sample,omitempty"`
	// Lost counts objects whose bytes were on the remote only (restored
	// with --metadata-only) and that the remote no longer holds as they
	// were: no copy of them is left to upload. LostSample names some.
	Lost       int64    `json:"lost"`
	LostSample []string `json:"lost_sample,omitempty"`
	// ListRequests is the number of LIST requests the pass sent.
	ListRequests int64 `json:"list_requests"`
}

// clone copies r with its own samples, for a progress report.
func (r Result) clone() Result {
	r.QueuedSample = append([]string(nil), r.QueuedSample...)
	r.RemoteOnlySample = append([]string(nil), r.RemoteOnlySample...)
	r.LostSample = append([]string(nil), r.LostSample...)
	return r
}

// Reconciler runs passes. Create it with New; adjust the exported fields
// before the first Run.
type Reconciler struct {
	// SampleSize bounds each sample of names in a Result.
	SampleSize int
	// QueueBatch is how many put jobs are proposed at once.
	QueueBatch int

	index  Index
	remote Remote
	expect Expect
	log    zerolog.Logger
}

// New returns a Reconciler of index against remote; expect says what each
// remote copy must look like.
func New(index Index, remote Remote, expect Expect, log zerolog.Logger) *Reconciler {
	return &Reconciler{
		SampleSize: DefaultSampleSize,
		QueueBatch: DefaultQueueBatch,
		index:      index,
		remote:     remote,
		expect:     expect,
		log:        log.With().Str("component", "reconcile").Logger(),
	}
}

// Run makes one pass over every bucket and queues what the remote lacks.
// progress, when not nil, gets the counts so far after every page. The
// Result counts what was done, also when Run fails midway.
func (r *Reconciler) Run(ctx context.Context, progress func(Result)) (Result, error) {
	p := &passState{r: r, progress: progress}
	err := p.run(ctx)
	if err == nil {
		// After a failure the batch is dropped: a listing that failed its
		// order check may have made its objects look missing.
		err = p.flush(ctx)
	}
	return p.res, err
}

// passState is one pass in progress.
type passState struct {
	r        *Reconciler
	progress func(Result)
	res      Result
	batch    []queue.Object // objects to queue, not yet proposed
	found    []queue.Object // replicas to record, not yet proposed
}

func (p *passState) run(ctx context.Context) error {
	buckets, err := p.r.index.Buckets()
	if err != nil {
		return fmt.Errorf("reconcile: list local buckets: %w", err)
	}
	local := make([]string, len(buckets))
	for i, b := range buckets {
		local[i] = b.Name
	}
	for _, b := range local {
		if err := p.bucket(ctx, b); err != nil {
			return err
		}
		p.res.Buckets++
	}
	return p.remoteOnlyBuckets(ctx, local)
}
