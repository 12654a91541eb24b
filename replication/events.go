package replication

// Events is told what a Replicator does that no status shows as a total,
// for metrics. A nil func is skipped; each must return quickly.
type Events struct {
	// PartRetry is called before a part is sent again after a transient
	// error, within the same attempt of its job.
	PartRetry func()
	// AttemptFailed is called when an attempt of a job failed and the job
	// will be tried again after a backoff.
	AttemptFailed func()
}

// SetEvents installs e. Call it before Run.
func (r *Replicator) SetEvents(e Events) { r.events = e }

func (e Events) partRetry() {
	if e.PartRetry != nil {
		e.PartRetry()
	}
}

func (e Events) attemptFailed() {
	if e.AttemptFailed != nil {
		e.AttemptFailed()
	}
}
