package replication

import (
	"container/heap"
	"time"
)

// Retried tells the replicator that an operator retried a job (after the
// journal recorded it: queue.Node.JobRetry): a quarantined job is released
// and a failing one may start at once, its failures forgotten. A job the
// replicator has not loaded yet is read as the journal has it.
func (r *Replicator) Retried(jobID string) {
	r.mu.Lock()
	delete(r.failures, jobID)
	delete(r.retryAt, jobID)
	if r.idx != nil {
		r.idx.release(jobID, r.now())
	}
	r.mu.Unlock()
	r.Notify()
}

// release makes a quarantined or deferred job ready, and forgets the
// failures of any job; one in flight runs on.
func (x *jobIndex) release(id string, now time.Time) {
	e, ok := x.entries[id]
	if !ok {
		return
	}
	delete(x.failing, id)
	e.job.Quarantined, e.job.Attempts, e.job.LastError, e.job.NotBefore = false, 0, "", time.Time{}
	e.due = time.Time{}
	switch e.state {
	case entryQuarantined:
		x.quarantined--
		x.schedule(e, now)
	case entryDeferred:
		for i, d := range x.deferred {
			if d == e {
				heap.Remove(&x.deferred, i)
				break
			}
		}
		x.schedule(e, now)
	}
}
