package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// queue adds o to the batch of put jobs, unless its upload is pending or
// there is nothing local to upload: an object whose bytes were on the remote
// only is lost with the remote copy, and is counted as such.
func (p *passState) queue(ctx context.Context, o queue.Object) error {
	if o.RemoteOnly {
		p.res.Lost++
		if len(p.res.LostSample) < p.r.SampleSize {
			p.res.LostSample = append(p.res.LostSample, o.Bucket+"/"+o.Key)
		}
		return nil
	}
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
