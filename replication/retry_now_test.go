package replication

import (
	"testing"
	"time"
)

// TestJobIndexRelease: an operator's retry makes a quarantined job and one
// waiting for its backoff ready at once, failures forgotten; a job in
// flight runs on.
func TestJobIndexRelease(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	x := newJobIndex(100)
	for seq := uint64(1); seq <= 3; seq++ {
		x.add(Job{ID: string(rune('a' + seq)), Seq: seq, Op: OpPut, Size: 5}, 0, laneSmall, time.Time{}, t0)
	}
	b, c, d := x.next([2]bool{true, true}), x.next([2]bool{true, true}), x.next([2]bool{true, true})
	f := b.job
	f.Attempts, f.LastError = 3, "timeout"
	x.retry(b.job.ID, &f, t0.Add(time.Hour), t0)
	x.quarantine(c.job.ID, "poison")
	if x.next([2]bool{true, true}) != nil || len(x.failing) != 2 || x.quarantined != 1 {
		t.Fatalf("before: failing %d, quarantined %d", len(x.failing), x.quarantined)
	}

	x.release(b.job.ID, t0)
	x.release(c.job.ID, t0)
	x.release(d.job.ID, t0) // in flight
	x.release("unknown", t0)
	got := map[string]bool{}
	for e := x.next([2]bool{true, true}); e != nil; e = x.next([2]bool{true, true}) {
		got[e.job.ID] = true
		if e.job.Attempts != 0 || e.job.LastError != "" || e.job.Quarantined {
			t.Errorf("released job %s keeps its failures: %+v", e.job.ID, e.job)
		}
	}
	if !got[b.job.ID] || !got[c.job.ID] || got[d.job.ID] || len(got) != 2 {
		t.Errorf("ready after release: %v, want the deferred and the quarantined job", got)
	}
	if x.quarantined != 0 || len(x.failing) != 0 || len(x.deferred) != 0 || len(x.failingStatus(t0)) != 0 {
		t.Errorf("after release: quarantined %d, failing %d, deferred %d", x.quarantined, len(x.failing), len(x.deferred))
	}
}
