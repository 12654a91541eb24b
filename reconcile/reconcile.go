package reconcile

import (
	"context"
	"errors"
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
	// ListRequests is the number of LIST requests the pass sent.
	ListRequests int64 `json:"list_requests"`
}

// clone copies r with its own samples, for a progress report.
func (r Result) clone() Result {
	r.QueuedSample = append([]string(nil), r.QueuedSample...)
	r.RemoteOnlySample = append([]string(nil), r.RemoteOnlySample...)
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

// remoteOnlyBuckets counts the objects of remote buckets that the index
// does not have at all (deleted locally with everything in them). The
// remote is listed from its start; after each bucket the listing skips to
// the next one: "BUCKET0" sorts right after every "BUCKET/KEY" ('0' follows
// '/'), and before any name of a longer bucket "BUCKET0...".
func (p *passState) remoteOnlyBuckets(ctx context.Context, local []string) error {
	known := make(map[string]bool, len(local))
	for _, b := range local {
		known[b] = true
	}
	after := ""
	for {
		bucket := ""
		st, err := p.r.remote.ListObjects(ctx, replication.ListOptions{StartAfter: after}, func(page []replication.ListedObject) error {
			bucket, _, _ = strings.Cut(page[0].Name, "/")
			return errFirstPage
		})
		p.res.ListRequests += int64(st.Requests)
		if err != nil && !errors.Is(err, errFirstPage) {
			return fmt.Errorf("reconcile: list the remote's buckets after %q: %w", after, err)
		}
		if bucket == "" {
			return nil
		}
		if !known[bucket] {
			if err := p.remoteOnlyBucket(ctx, bucket); err != nil {
				return err
			}
		}
		after = bucket + "0"
	}
}

// errFirstPage stops a listing after its first page.
var errFirstPage = errors.New("reconcile: first page read")

func (p *passState) remoteOnlyBucket(ctx context.Context, bucket string) error {
	st, err := p.r.remote.ListObjects(ctx, replication.ListOptions{Prefix: bucket + "/"}, func(page []replication.ListedObject) error {
		for i := range page {
			p.remoteOnly(&page[i])
		}
		p.report()
		return nil
	})
	p.res.ListRequests += int64(st.Requests)
	if err != nil {
		return fmt.Errorf("reconcile: list the remote's %s/: %w", bucket, err)
	}
	return nil
}

func (p *passState) remoteOnly(e *replication.ListedObject) {
	p.res.RemoteOnly++
	if len(p.res.RemoteOnlySample) < p.r.SampleSize {
		p.res.RemoteOnlySample = append(p.res.RemoteOnlySample, e.Name)
	}
}

// bucket merges the remote listing of PREFIX/BUCKET/ with the index's, as
// the remote's pages arrive.
func (p *passState) bucket(ctx context.Context, bucket string) error {
	ll := localListing{index: p.r.index, bucket: bucket}
	prefix := bucket + "/"
	o, lok, err := ll.next()
	if err != nil {
		return err
	}
	last := ""
	st, err := p.r.remote.ListObjects(ctx, replication.ListOptions{Prefix: prefix}, func(page []replication.ListedObject) error {
		for i := range page {
			e := &page[i]
			key, ok := strings.CutPrefix(e.Name, prefix)
			if !ok || (last != "" && e.Name <= last) {
				return fmt.Errorf("the remote listed %q after %q under %q: its listing is not in byte order, "+
					"so it cannot be compared with the index; use an S3 service that lists keys in UTF-8 byte order, as S3 does",
					e.Name, last, prefix)
			}
			last = e.Name
			for lok && o.Key < key {
				if err := p.missing(ctx, o); err != nil {
					return err
				}
				if o, lok, err = ll.next(); err != nil {
					return err
				}
			}
			if !lok || o.Key != key {
				p.remoteOnly(e)
				continue
			}
			if err := p.compare(ctx, o, e); err != nil {
				return err
			}
			if o, lok, err = ll.next(); err != nil {
				return err
			}
		}
		p.report()
		return nil
	})
	p.res.ListRequests += int64(st.Requests)
	if err != nil {
		return fmt.Errorf("reconcile: list the remote's %s: %w", prefix, err)
	}
	for lok {
		if err := p.missing(ctx, o); err != nil {
			return err
		}
		if o, lok, err = ll.next(); err != nil {
			return err
		}
	}
	return nil
}

func (p *passState) missing(ctx context.Context, o queue.Object) error {
	p.res.Checked++
	p.res.Missing++
	return p.queue(ctx, o)
}

// compare checks the remote copy e of o: another size or ETag queues o
// again; a match not recorded yet is recorded.
func (p *passState) compare(ctx context.Context, o queue.Object, e *replication.ListedObject) error {
	p.res.Checked++
	want := p.r.expect(&o)
	if e.Size != o.Size || (want != "" && !strings.EqualFold(want, e.ETag)) {
		p.res.Different++
		p.r.log.Warn().Str("bucket", o.Bucket).Str("key", o.Key).
			Int64("size", o.Size).Int64("remote_size", e.Size).Str("etag", want).Str("remote_etag", e.ETag).
			Msg("the remote copy differs from the local object (changed behind IPAS's back?): uploading it again")
		return p.queue(ctx, o)
	}
	if !o.Replicated() || o.Replica.ETag != e.ETag || o.Replica.Size != e.Size {
		return p.record(ctx, o, e)
	}
	return nil
}

// queue adds o to the batch of put jobs, unless its upload is pending.
func (p *passState) queue(ctx context.Context, o queue.Object) error {
	_, err := p.r.index.Job(o.VersionID)
	switch {
	case err == nil:
		p.res.Pending++
		return nil
	case !errors.Is(err, queue.ErrNoSuchJob):
		return fmt.Errorf("reconcile: look up the job of %s/%s: %w", o.Bucket, o.Key, err)
	}
	p.batch = append(p.batch, o)
	if len(p.batch) >= p.r.QueueBatch {
		return p.flush(ctx)
	}
	return nil
}

// record adds o, found on the remote as e, to the batch of replicas to
// record.
func (p *passState) record(ctx context.Context, o queue.Object, e *replication.ListedObject) error {
	o.Replica = queue.Replica{ETag: e.ETag, Size: e.Size}
	p.found = append(p.found, o)
	if len(p.found) >= p.r.QueueBatch {
		return p.flush(ctx)
	}
	return nil
}

// flush proposes the batches of put jobs and replica records.
func (p *passState) flush(ctx context.Context) error {
	err := p.propose(ctx, "queue", &p.batch, p.r.index.RequeueObjects, func(o *queue.Object) {
		p.res.Queued++
		if len(p.res.QueuedSample) < p.r.SampleSize {
			p.res.QueuedSample = append(p.res.QueuedSample, o.Bucket+"/"+o.Key)
		}
	})
	if err != nil {
		return err
	}
	return p.propose(ctx, "record the replica of", &p.found, p.r.index.RecordReplicas, func(*queue.Object) { p.res.Recorded++ })
}

// propose journals a batch with fn and empties it; done is called for
// each object whose command applied.
func (p *passState) propose(ctx context.Context, what string, batch *[]queue.Object,
	fn func(context.Context, []queue.Object) []error, done func(*queue.Object)) error {
	objs := *batch
	if len(objs) == 0 {
		return nil
	}
	*batch = objs[:0]
	var errs []error
	for i, err := range fn(ctx, objs) {
		o := &objs[i]
		switch {
		case err == nil:
			done(o)
		case errors.Is(err, queue.ErrNoSuchKey):
			// Replaced or deleted since it was listed: the newer version
			// has its own job.
		default:
			errs = append(errs, fmt.Errorf("reconcile: %s %s/%s: %w", what, o.Bucket, o.Key, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w (and %d more of %d)", errs[0], len(errs)-1, len(objs))
	}
	return nil
}

func (p *passState) report() {
	if p.progress != nil {
		p.progress(p.res.clone())
	}
}
