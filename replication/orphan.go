package replication

import (
	"context"
	"time"
)

// orphanLoop aborts multipart uploads under our prefix that no job owns:
// uploads whose start was never journaled, or whose job was reset or done.
func (r *Replicator) orphanLoop(ctx context.Context) {
	for {
		if err := r.sweepOrphans(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn().Err(err).Msg("orphan upload sweep")
		}
		t := time.NewTimer(r.cfg.OrphanInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// SweepOrphans runs one orphan sweep now and returns how many uploads it aborted.
func (r *Replicator) SweepOrphans(ctx context.Context) (int, error) {
	return r.sweep(ctx)
}

func (r *Replicator) sweepOrphans(ctx context.Context) error {
	n, err := r.sweep(ctx)
	if n > 0 {
		r.log.Info().Int("aborted", n).Msg("aborted multipart uploads that no job owns")
	}
	return err
}

func (r *Replicator) sweep(ctx context.Context) (int, error) {
	uploads, err := r.remote.ListMultipartUploads(ctx)
	if err != nil || len(uploads) == 0 {
		return 0, err
	}
	owned := map[string]bool{}
	after := uint64(0)
	for {
		page, err := r.journal.Jobs(after, 1000)
		if err != nil {
			return 0, err
		}
		if len(page) == 0 {
			break
		}
		for _, j := range page {
			if j.UploadID != "" {
				owned[j.UploadID] = true
			}
		}
		after = page[len(page)-1].Seq
	}
	busy := map[string]bool{}
	r.mu.Lock()
	for _, p := range r.active {
		busy[p.job.Name()] = true
	}
	r.mu.Unlock()
	cutoff := r.now().Add(-r.cfg.OrphanMinAge)
	aborted := 0
	for _, u := range uploads {
		if owned[u.UploadID] || busy[u.Name] || u.Initiated.After(cutoff) {
			continue
		}
		if err := r.remote.AbortMultipartUpload(ctx, u.Name, u.UploadID); err != nil {
			return aborted, err
		}
		aborted++
	}
	return aborted, nil
}
