package replication

import (
	"slices"
	"testing"
	"time"
)

// TestJobIndexOrder: ready jobs come out by priority, then age, across the
// lanes; a job only while its lane has room; a deferred job
// once it is due; a failed job after its backoff, a finished one never.
func TestJobIndexOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	type job struct {
		seq   uint64
		prio  int
		lane  int
		delay time.Duration
	}
	tests := []struct {
		name string
		jobs []job
		open [2]bool // small lane, large lane
		at   time.Duration
		want []uint64
	}{
		{"age within a priority", []job{{3, 1, laneSmall, 0}, {1, 1, laneSmall, 0}, {2, 1, laneSmall, 0}}, bothLanes, 0, []uint64{1, 2, 3}},
		{"priority before age", []job{{1, 2, laneSmall, 0}, {2, 0, laneSmall, 0}, {3, 1, laneSmall, 0}}, bothLanes, 0, []uint64{2, 3, 1}},
		{"lanes interleave by priority and age", []job{{1, 1, laneSmall, 0}, {2, 0, laneLarge, 0}, {3, 1, laneLarge, 0}, {4, 1, laneSmall, 0}}, bothLanes, 0, []uint64{2, 1, 3, 4}},
		{"large lane full: small jobs only", []job{{1, 0, laneLarge, 0}, {2, 1, laneSmall, 0}}, [2]bool{true, false}, 0, []uint64{2}},
		{"small lane full: large jobs only", []job{{1, 0, laneSmall, 0}, {2, 1, laneLarge, 0}}, [2]bool{false, true}, 0, []uint64{2}},
		{"deferred until due", []job{{1, 0, laneSmall, time.Minute}, {2, 1, laneSmall, 0}}, bothLanes, 0, []uint64{2}},
		{"due jobs rejoin in age order", []job{{1, 0, laneSmall, time.Minute}, {2, 0, laneSmall, 0}, {3, 0, laneSmall, 0}}, bothLanes, 2 * time.Minute, []uint64{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newJobIndex(100)
			for _, j := range tt.jobs {
				id := string(rune('a' + j.seq))
				x.add(Job{ID: id, Seq: j.seq, Op: OpPut, Size: 10}, j.prio, j.lane, t0.Add(j.delay), t0)
			}
			x.promote(t0.Add(tt.at))
			var got []uint64
			for e := x.next(tt.open); e != nil; e = x.next(tt.open) {
				got = append(got, e.job.Seq)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order %v, want %v", got, tt.want)
			}
			if len(x.entries) != len(tt.jobs) || x.bytes != int64(10*len(tt.jobs)) {
				t.Errorf("entries %d bytes %d: every job stays indexed until done", len(x.entries), x.bytes)
			}
		})
	}
}

// bothLanes lets next take from either lane.
var bothLanes = [2]bool{true, true}

func TestJobIndexOutcomes(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	x := newJobIndex(100)
	for seq := uint64(1); seq <= 3; seq++ {
		x.add(Job{ID: string(rune('a' + seq)), Seq: seq, Op: OpPut, Size: 5}, 0, laneSmall, time.Time{}, t0)
	}
	b, c, d := x.next(bothLanes), x.next(bothLanes), x.next(bothLanes)
	if x.next(bothLanes) != nil {
		t.Fatal("a job in flight was handed out twice")
	}
	x.done(b.job.ID, t0)
	f := c.job
	f.Attempts, f.LastError = 1, "boom"
	x.retry(c.job.ID, &f, t0.Add(time.Second), t0)
	x.quarantine(d.job.ID, "poison")
	if x.next(bothLanes) != nil {
		t.Fatal("a job handed out before its backoff")
	}
	if next := x.promote(t0); !next.Equal(t0.Add(time.Second)) {
		t.Errorf("next due %v, want %v", next, t0.Add(time.Second))
	}
	x.promote(t0.Add(time.Second))
	if e := x.next(bothLanes); e == nil || e.job.ID != c.job.ID {
		t.Fatalf("after its backoff got %v, want the failed job", e)
	}
	if x.next(bothLanes) != nil {
		t.Error("a quarantined or finished job handed out")
	}
	fs := x.failingStatus(t0)
	if len(x.entries) != 2 || x.bytes != 10 || x.quarantined != 1 || len(fs) != 2 ||
		fs[0].Attempts != 1 || fs[0].LastError != "boom" || !fs[1].Quarantined || fs[1].LastError != "poison" {
		t.Errorf("entries %d bytes %d quarantined %d failing %+v", len(x.entries), x.bytes, x.quarantined, fs)
	}

	// A job queued again (same ID, newer Seq) while in flight runs again.
	x.add(Job{ID: c.job.ID, Seq: 9, Op: OpPut, Size: 5}, 0, laneSmall, time.Time{}, t0)
	x.done(c.job.ID, t0)
	if e := x.next(bothLanes); e == nil || e.job.Seq != 9 {
		t.Fatalf("requeued job: got %v, want it again with Seq 9", e)
	}
	if x.horizon != 9 {
		t.Errorf("horizon %d, want 9", x.horizon)
	}
}
