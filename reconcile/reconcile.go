package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
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

// Entry is one remote object, as a LIST page shows it.
type Entry struct {
	Name         string // local name: "bucket/key"
	Size         int64
	ETag         string // unquoted
	LastModified time.Time
}

// Remote is the remote copy, read with LIST requests only: every call is
// one request.
type Remote interface {
	// ListObjects returns one page of the remote objects whose local names
	// start with prefix and sort after startAfter, in byte order, and
	// whether more follow.
	ListObjects(ctx context.Context, prefix, startAfter string) (page []Entry, truncated bool, err error)
	// ListBuckets returns one page of the local bucket names the remote has
	// objects for (the first level under the remote prefix) that sort after
	// startAfter, in byte order, and whether more follow.
	ListBuckets(ctx context.Context, startAfter string) (names []string, truncated bool, err error)
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
}

// Expect returns the ETag that the remote copy of o must have, or "" when
// only its size can be checked.
type Expect func(o *queue.Object) string

// SinglePutETag is the expectation of the replicator's uploads when
// nothing better is known: an object smaller than multipartThreshold went
// up in one PutObject, whose ETag is the MD5 of its bytes, which is the
// local ETag unless the object was itself assembled from parts ("-N").
// Larger objects went up in parts of the replicator's choosing: their
// remote ETag cannot be derived, so only their size is checked.
func SinglePutETag(multipartThreshold int64) Expect {
	return func(o *queue.Object) string {
		if o.Size >= multipartThreshold || strings.Contains(o.ETag, "-") {
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
// does not have at all (deleted locally with everything in them).
func (p *passState) remoteOnlyBuckets(ctx context.Context, local []string) error {
	known := make(map[string]bool, len(local))
	for _, b := range local {
		known[b] = true
	}
	after := ""
	for {
		names, more, err := p.r.remote.ListBuckets(ctx, after)
		p.res.ListRequests++
		if err != nil {
			return fmt.Errorf("reconcile: list the remote's buckets: %w", err)
		}
		for _, b := range names {
			// The remote prefix also holds IPAS's own files (.ipas/), which
			// no bucket name can start with.
			if known[b] || strings.HasPrefix(b, ".") {
				continue
			}
			if err := p.remoteOnlyBucket(ctx, b); err != nil {
				return err
			}
		}
		if !more || len(names) == 0 {
			return nil
		}
		after = names[len(names)-1]
	}
}

func (p *passState) remoteOnlyBucket(ctx context.Context, bucket string) error {
	rl := remoteListing{remote: p.r.remote, prefix: bucket + "/", res: &p.res}
	for {
		e, ok, err := rl.next(ctx)
		if err != nil || !ok {
			return err
		}
		p.remoteOnly(e)
	}
}

func (p *passState) remoteOnly(e Entry) {
	p.res.RemoteOnly++
	if len(p.res.RemoteOnlySample) < p.r.SampleSize {
		p.res.RemoteOnlySample = append(p.res.RemoteOnlySample, e.Name)
	}
}

// bucket merges the remote listing of PREFIX/BUCKET/ with the index's.
func (p *passState) bucket(ctx context.Context, bucket string) error {
	ll := localListing{index: p.r.index, bucket: bucket}
	rl := remoteListing{remote: p.r.remote, prefix: bucket + "/", res: &p.res, onPage: p.report}
	o, lok, err := ll.next()
	if err != nil {
		return err
	}
	e, rok, err := rl.next(ctx)
	if err != nil {
		return err
	}
	for lok || rok {
		switch {
		case lok && (!rok || o.Key < e.Name[len(rl.prefix):]):
			p.res.Checked++
			p.res.Missing++
			if err := p.queue(ctx, o); err != nil {
				return err
			}
			o, lok, err = ll.next()
		case rok && (!lok || o.Key > e.Name[len(rl.prefix):]):
			p.remoteOnly(e)
			e, rok, err = rl.next(ctx)
		default:
			p.res.Checked++
			if want := p.r.expect(&o); e.Size != o.Size || (want != "" && !strings.EqualFold(want, e.ETag)) {
				p.res.Different++
				p.r.log.Warn().Str("bucket", bucket).Str("key", o.Key).
					Int64("size", o.Size).Int64("remote_size", e.Size).Str("etag", want).Str("remote_etag", e.ETag).
					Msg("the remote copy differs from the local object (changed behind IPAS's back?): uploading it again")
				if err := p.queue(ctx, o); err != nil {
					return err
				}
			}
			if o, lok, err = ll.next(); err != nil {
				return err
			}
			e, rok, err = rl.next(ctx)
		}
		if err != nil {
			return err
		}
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

// flush proposes the batch of put jobs.
func (p *passState) flush(ctx context.Context) error {
	if len(p.batch) == 0 {
		return nil
	}
	batch := p.batch
	p.batch = p.batch[:0]
	var errs []error
	for i, err := range p.r.index.RequeueObjects(ctx, batch) {
		o := &batch[i]
		switch {
		case err == nil:
			p.res.Queued++
			if len(p.res.QueuedSample) < p.r.SampleSize {
				p.res.QueuedSample = append(p.res.QueuedSample, o.Bucket+"/"+o.Key)
			}
		case errors.Is(err, queue.ErrNoSuchKey):
			// Replaced or deleted since it was listed: the newer version
			// has its own job.
		default:
			errs = append(errs, fmt.Errorf("reconcile: queue %s/%s: %w", o.Bucket, o.Key, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs[0], fmt.Errorf("reconcile: %d of %d put jobs not queued", len(errs), len(batch)))
	}
	return nil
}

func (p *passState) report() {
	if p.progress != nil {
		p.progress(p.res.clone())
	}
}
