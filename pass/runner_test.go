package pass

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

type count struct{ N int }

// A request while a pass runs joins it: one pass, one report for both callers.
func TestRunner_RequestJoinsRunningPass(t *testing.T) {
	release := make(chan struct{})
	var passes atomic.Int32
	r := New("test", func(ctx context.Context, progress func(count)) (count, error) {
		passes.Add(1)
		progress(count{N: 1})
		<-release
		return count{N: 2}, nil
	}, nil, zerolog.Nop())
	var done []Report[count]
	r.OnDone = func(rep Report[count]) { done = append(done, rep) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	term := make(chan struct{})
	go func() { r.RunTerm(ctx, "", ""); close(term) }()
	waitFor(t, func() bool { _, _, err := r.Start(TriggerRequest, "first"); return err == nil })
	_, started, err := r.Start(TriggerRequest, "second")
	if err != nil || started {
		t.Fatalf("second Start: started %v, err %v; want it to join the running pass", started, err)
	}
	waitFor(t, func() bool { st := r.State(); return st.Running != nil && st.Running.Result.N == 1 })
	close(release)
	rep, err := r.Run(ctx, TriggerRequest, "after")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Result.N != 2 || rep.Finished.IsZero() {
		t.Fatalf("report %+v, want the final count and a finish time", rep)
	}
	if st := r.State(); st.Running != nil || st.Last == nil || st.Last.Result.N != 2 {
		t.Fatalf("state %+v after the pass", st)
	}
	cancel()
	<-term
	if len(done) < 1 || passes.Load() != int32(len(done)) {
		t.Fatalf("%d passes ran, OnDone saw %d", passes.Load(), len(done))
	}
}

// The schedule counts from the last pass, also one from before a restart, and
// a failing pass keeps its error and its counts.
func TestRunner_ScheduleFromLastPass(t *testing.T) {
	var passes atomic.Int32
	fail := errors.New("remote unreachable")
	r := New("test", func(ctx context.Context, _ func(count)) (count, error) {
		passes.Add(1)
		return count{N: 7}, fail
	}, &Report[count]{Started: time.Now().Add(-time.Hour)}, zerolog.Nop())
	r.Interval = 24 * time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	term := make(chan struct{})
	go func() { r.RunTerm(ctx, "", ""); close(term) }()
	time.Sleep(100 * time.Millisecond)
	if n := passes.Load(); n != 0 {
		t.Fatalf("%d passes ran an hour after the last one, with a daily schedule", n)
	}
	cancel()
	<-term
	if _, _, err := r.Start(TriggerRequest, ""); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Start outside a term: %v, want ErrNotRunning", err)
	}

	r.last = &Report[count]{Started: time.Now().Add(-25 * time.Hour)}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go r.RunTerm(ctx, "", "")
	waitFor(t, func() bool { st := r.State(); return st.Last != nil && st.Last.Trigger == TriggerSchedule })
	last := r.State().Last
	if last.Error != fail.Error() || last.Result.N != 7 {
		t.Fatalf("last report %+v, want the error and the counts", last)
	}
	if n := passes.Load(); n != 1 {
		t.Fatalf("%d passes ran, want 1 (the overdue one)", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
	}
}

// A failed start-up pass is tried again after Retry, even with the schedule
// off; a successful one is not repeated.
func TestRunner_StartupRetry(t *testing.T) {
	var passes atomic.Int32
	r := New("test", func(ctx context.Context, _ func(count)) (count, error) {
		if passes.Add(1) < 3 {
			return count{}, errors.New("remote unreachable")
		}
		return count{N: 1}, nil
	}, nil, zerolog.Nop())
	r.Retry = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.RunTerm(ctx, TriggerStartup, "remote changed")
	waitFor(t, func() bool { st := r.State(); return st.Last != nil && st.Last.Error == "" })
	time.Sleep(100 * time.Millisecond)
	if n := passes.Load(); n != 3 {
		t.Fatalf("%d passes, want 3 (two failures, then one success)", n)
	}
	if st := r.State(); st.Last.Trigger != TriggerSchedule || !strings.HasPrefix(st.Last.Reason, "retry") {
		t.Fatalf("last pass %+v, want a retry", st.Last)
	}
}
