package replication

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// bwTimeout bounds every wait in these tests.
const bwTimeout = 20 * time.Second

// endless is a reader of zeros that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// readAsync starts one Read of n bytes through b and reports when it returns.
func readAsync(ctx context.Context, b *Bandwidth, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := b.Reader(ctx, endless{}).Read(make([]byte, n))
		done <- err
	}()
	return done
}

// blocked says whether a read is still waiting after a moment; it can
// only err towards "not blocked" on a slow machine, never the other way.
func blocked(done <-chan error) bool {
	select {
	case <-done:
		return false
	case <-time.After(200 * time.Millisecond):
		return true
	}
}

func wait(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(bwTimeout):
		t.Fatalf("%s: still blocked after %s", what, bwTimeout)
		return nil
	}
}

func TestBandwidthPauseResume(t *testing.T) {
	b := NewBandwidth(Unlimited, nil)
	b.Pause()
	if st := b.State(); !st.Paused || !st.ManualPause {
		t.Errorf("state after Pause: %+v", st)
	}
	done := readAsync(context.Background(), b, 1000)
	if !blocked(done) {
		t.Fatal("a read went through while paused")
	}
	b.Resume()
	if err := wait(t, "read after Resume", done); err != nil {
		t.Fatal(err)
	}
	if st := b.State(); st.Paused || st.ManualPause {
		t.Errorf("state after Resume: %+v", st)
	}

	// A paused read gives up with its context and says why it waited.
	b.Pause()
	ctx, cancel := context.WithCancel(context.Background())
	done = readAsync(ctx, b, 1000)
	cancel()
	if err := wait(t, "paused read after cancel", done); !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "uploads paused") {
		t.Errorf("cancelled paused read: %v", err)
	}
}

// TestBandwidthSetLimitAtRunTime: a read held back by a very low limit
// goes on as soon as the limit is raised, without waiting out the old rate.
func TestBandwidthSetLimitAtRunTime(t *testing.T) {
	b := NewBandwidth(100, nil) // 100 B/s: the second burst would wait about 40 s
	if st := b.State(); st.Limit != 100 {
		t.Fatalf("limit %d, want 100", st.Limit)
	}
	r := b.Reader(context.Background(), endless{})
	if _, err := r.Read(make([]byte, minBurst)); err != nil { // the first burst is free
		t.Fatal(err)
	}
	done := readAsync(context.Background(), b, minBurst)
	if !blocked(done) {
		t.Fatal("a second burst went through at 100 B/s")
	}
	b.SetLimit(Unlimited)
	if err := wait(t, "read after raising the limit", done); err != nil {
		t.Fatal(err)
	}
	if st := b.State(); st.Limit != Unlimited {
		t.Errorf("limit %d after SetLimit(Unlimited)", st.Limit)
	}

	// A timetable change takes effect at once too.
	b.SetLimit(100)
	_, _ = b.Reader(context.Background(), endless{}).Read(make([]byte, minBurst))
	done = readAsync(context.Background(), b, minBurst)
	if !blocked(done) {
		t.Fatal("a second burst went through at 100 B/s")
	}
	b.SetSchedule(Schedule{{Days: [7]bool{true, true, true, true, true, true, true}, From: 0, To: 24 * 60, Limit: 1 << 30}})
	if err := wait(t, "read after a faster timetable", done); err != nil {
		t.Fatal(err)
	}
	if st := b.State(); st.Limit != 1<<30 {
		t.Errorf("limit %d under the timetable, want %d", st.Limit, 1<<30)
	}
}

// TestBandwidthTimetablePause: a "pause" rule blocks, and the state says it
// is the timetable, not the operator.
func TestBandwidthTimetablePause(t *testing.T) {
	sch, err := ParseSchedule("daily 00:00-24:00 pause")
	if err != nil {
		t.Fatal(err)
	}
	b := NewBandwidth(Unlimited, sch)
	if st := b.State(); !st.Paused || st.ManualPause {
		t.Errorf("state under a pause rule: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := b.Reader(ctx, endless{}).Read(make([]byte, 10)); err == nil || !strings.Contains(err.Error(), "paused by the timetable") {
		t.Errorf("read under a pause rule: %v", err)
	}
	done := readAsync(context.Background(), b, 10)
	b.SetSchedule(nil)
	if err := wait(t, "read after the pause rule is removed", done); err != nil {
		t.Fatal(err)
	}
}

// TestBandwidthMonthlyBudget runs on an injected clock: the budget stops
// uploads when spent, says so and when it resets, and the next calendar
// month starts afresh.
func TestBandwidthMonthlyBudget(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 31, 23, 0, 0, 0, time.Local)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := NewBandwidth(Unlimited, nil)
	b.mu.Lock()
	b.now = clock
	b.mu.Unlock()
	const budget = 10000
	b.SetMonthlyBudget(budget, 4000)

	var sent bytes.Buffer
	n, err := io.CopyN(&sent, b.Reader(context.Background(), endless{}), 6000)
	if err != nil || n != 6000 {
		t.Fatalf("sending the budget's last 6000 bytes: %d, %v", n, err)
	}
	st := b.State()
	wantReset := time.Date(2026, 2, 1, 0, 0, 0, 0, time.Local)
	if !st.BudgetSpent || st.BudgetUsed != budget || st.Budget != budget || !st.BudgetResets.Equal(wantReset) || st.Paused {
		t.Errorf("state with the budget spent: %+v; want spent, used %d, resets %s, not paused", st, budget, wantReset)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := b.Reader(ctx, endless{}).Read(make([]byte, 1)); err == nil || !strings.Contains(err.Error(), "monthly upload budget spent") {
		t.Fatalf("read with the budget spent: %v", err)
	}

	mu.Lock()
	now = wantReset.Add(time.Second)
	mu.Unlock()
	st = b.State()
	if st.BudgetSpent || st.BudgetUsed != 0 || !st.BudgetResets.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)) {
		t.Errorf("state in the next month: %+v", st)
	}
	done := readAsync(context.Background(), b, 100)
	if err := wait(t, "read in the next month", done); err != nil {
		t.Fatal(err)
	}
	if st := b.State(); st.BudgetUsed != 100 {
		t.Errorf("budget used %d after 100 bytes in the new month", st.BudgetUsed)
	}
}

// TestBandwidthSmooth reads as fast as a limiter at R bytes/s allows for
// about 2 s and checks that no 100 ms window carried much more than
// R/10 plus one burst. The bound is generous: a slow machine only sends
// less, which never fails it.
func TestBandwidthSmooth(t *testing.T) {
	const (
		R      = 400 << 10
		window = 100 * time.Millisecond
		run    = 2 * time.Second
	)
	b := NewBandwidth(R, nil)
	burst := b.State().Limit / burstFraction
	type event struct {
		at time.Time
		n  int
	}
	var events []event
	r := b.Reader(context.Background(), endless{})
	buf := make([]byte, 64<<10)
	start := time.Now()
	for time.Since(start) < run {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, event{time.Now(), n})
	}
	elapsed := time.Since(start)
	var total int64
	worst := int64(0)
	for i := range events {
		var inWindow int64
		for k := i; k < len(events) && events[k].at.Sub(events[i].at) < window; k++ {
			inWindow += int64(events[k].n)
		}
		worst = max(worst, inWindow)
		total += int64(events[i].n)
	}
	limit := 2 * (R*int64(window)/int64(time.Second) + burst)
	avg := float64(total) / elapsed.Seconds()
	t.Logf("%d reads, %d bytes in %s (%.0f B/s for a %d B/s limit); worst 100 ms window %d bytes (bound %d)",
		len(events), total, elapsed.Round(time.Millisecond), avg, R, worst, limit)
	if worst > limit {
		t.Errorf("a 100 ms window carried %d bytes at %d B/s: bursty (bound %d)", worst, R, limit)
	}
	if avg > 1.2*R {
		t.Errorf("average %.0f B/s over a %d B/s limit", avg, R)
	}
}
