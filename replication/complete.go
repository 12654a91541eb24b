package replication

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// completion is a small object on the remote whose job is not yet
// journaled as done. Its index entry stays in flight meanwhile, so that it
// is not dispatched again, but its worker has moved on.
type completion struct {
	job  Job
	p    *progress
	copy RemoteCopy
	log  zerolog.Logger
}

// completeLater queues c for the next JobsReplicated.
func (r *Replicator) completeLater(c completion) {
	r.mu.Lock()
	r.completing = append(r.completing, c)
	r.mu.Unlock()
	select {
	case r.completeWake <- struct{}{}:
	default:
	}
}

// completeLoop journals the completions that gathered while the previous
// batch was being committed, all in one JobsReplicated, and records each
// outcome as a worker would have.
func (r *Replicator) completeLoop(ctx context.Context, x *jobIndex) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.completeWake:
		}
		for {
			r.mu.Lock()
			batch := r.completing
			r.completing = nil
			r.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			done := make([]Replicated, len(batch))
			for i, c := range batch {
				done[i] = Replicated{JobID: c.job.ID, Copy: c.copy}
			}
			errs := r.batch.JobsReplicated(ctx, done)
			for i, c := range batch {
				var err error
				if errs[i] != nil {
					err = jobError("journal done", c.job, errs[i])
				}
				s := r.outcome(ctx, c.job, c.p, err, c.log)
				r.mu.Lock()
				s(x, r.now())
				r.mu.Unlock()
			}
			r.Notify()
		}
	}
}

// settled is the settle of a job whose completion the completer owns.
func settled(*jobIndex, time.Time) {}
