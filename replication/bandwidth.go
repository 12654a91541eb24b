package replication

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bandwidth tuning.
const (
	// burstFraction of a second's worth of bytes may go at once: small
	// enough that a 300 KiB/s limit looks smooth to the rest of the home
	// network, large enough to keep syscalls few.
	burstFraction = 20
	// minBurst and maxBurst bound the burst (and the chunk one Wait admits).
	minBurst = 4 << 10
	maxBurst = 256 << 10
	// recheckEvery is how often a blocked writer re-evaluates the timetable.
	recheckEvery = time.Minute
)

// Bandwidth is the one upload limit shared by every stream: a base rate, a
// weekly timetable, a manual pause and an optional monthly budget. All of
// it can change at run time. The zero value is not usable: use NewBandwidth.
type Bandwidth struct {
	mu       sync.Mutex
	lim      *rate.Limiter
	base     int64
	schedule Schedule
	paused   bool
	budget   int64 // bytes per calendar month; 0 = no budget
	used     int64 // bytes counted against the budget this month
	month    int   // year*12+month the budget count belongs to
	changed  chan struct{}
	now      func() time.Time
}

// BandwidthState is a snapshot for status pages.
type BandwidthState struct {
	Limit        int64 // bytes/s in force now; Unlimited for none
	Paused       bool  // by Pause or by a timetable "pause" rule
	ManualPause  bool
	Budget       int64 // monthly budget; 0 = none
	BudgetUsed   int64
	BudgetSpent  bool      // uploads wait for the next month
	BudgetResets time.Time // start of the next budget period
}

// NewBandwidth returns a Bandwidth with base limit bytes/s (Unlimited for none).
func NewBandwidth(limit int64, schedule Schedule) *Bandwidth {
	b := &Bandwidth{
		lim:      rate.NewLimiter(rate.Inf, maxBurst),
		base:     limit,
		schedule: schedule,
		changed:  make(chan struct{}),
		now:      time.Now,
	}
	b.mu.Lock()
	b.apply(b.now())
	b.mu.Unlock()
	return b
}

// SetLimit changes the base limit (bytes/s, Unlimited for none).
func (b *Bandwidth) SetLimit(limit int64) { b.update(func() { b.base = limit }) }

// SetSchedule replaces the weekly timetable.
func (b *Bandwidth) SetSchedule(s Schedule) { b.update(func() { b.schedule = s }) }

// Pause stops all uploads until Resume; requests in flight stall and are
// retried by the stall detector if the pause lasts.
func (b *Bandwidth) Pause() { b.update(func() { b.paused = true }) }

// Resume undoes Pause.
func (b *Bandwidth) Resume() { b.update(func() { b.paused = false }) }

// SetMonthlyBudget sets the bytes that may be uploaded per calendar month
// (0: no budget) and how many were already used this month, which the
// caller persists (see BandwidthState.BudgetUsed) across restarts.
func (b *Bandwidth) SetMonthlyBudget(budget, usedThisMonth int64) {
	b.update(func() {
		b.budget, b.used = budget, usedThisMonth
		b.month = monthOf(b.now())
	})
}

func (b *Bandwidth) update(f func()) {
	b.mu.Lock()
	f()
	b.apply(b.now())
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

func monthOf(t time.Time) int { return t.Year()*12 + int(t.Month()) }

// apply recomputes the limiter for now. Caller holds mu.
func (b *Bandwidth) apply(now time.Time) {
	if m := monthOf(now); m != b.month {
		b.month, b.used = m, 0
	}
	limit := b.base
	if r, ok := b.schedule.At(now); ok {
		limit = r.Limit
	}
	if limit == Unlimited {
		if b.lim.Limit() != rate.Inf {
			b.lim.SetLimitAt(now, rate.Inf)
		}
		return
	}
	burst := int(min(max(limit/burstFraction, minBurst), maxBurst))
	if b.lim.Limit() != rate.Limit(limit) || b.lim.Burst() != burst {
		b.lim.SetLimitAt(now, rate.Limit(limit))
		b.lim.SetBurstAt(now, burst)
	}
}

// blocked says why uploads cannot proceed now, and until when at the latest.
// Caller holds mu.
func (b *Bandwidth) blocked(now time.Time) (string, time.Time) {
	if b.paused {
		return "uploads paused", now.Add(recheckEvery)
	}
	if r, ok := b.schedule.At(now); ok && r.Pause {
		return "uploads paused by the timetable", now.Add(recheckEvery)
	}
	if b.budget > 0 && b.used >= b.budget {
		y, m, _ := now.Date()
		return "monthly upload budget spent", time.Date(y, m+1, 1, 0, 0, 0, 0, now.Location())
	}
	return "", time.Time{}
}

// State returns the limits in force now.
func (b *Bandwidth) State() BandwidthState {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.apply(now)
	s := BandwidthState{ManualPause: b.paused, Budget: b.budget, BudgetUsed: b.used}
	if b.lim.Limit() != rate.Inf {
		s.Limit = int64(b.lim.Limit())
	}
	why, _ := b.blocked(now)
	s.Paused = b.paused || (why != "" && why != "monthly upload budget spent")
	if b.budget > 0 {
		y, m, _ := now.Date()
		s.BudgetResets = time.Date(y, m+1, 1, 0, 0, 0, 0, now.Location())
		s.BudgetSpent = b.used >= b.budget
	}
	return s
}

// take admits up to want bytes, waiting for the limit, a pause or the
// budget. It returns how many bytes may be sent now.
func (b *Bandwidth) take(ctx context.Context, want int) (int, error) {
	for {
		b.mu.Lock()
		now := b.now()
		b.apply(now)
		why, until := b.blocked(now)
		changed := b.changed
		lim := b.lim
		if why == "" {
			n := min(want, lim.Burst())
			if b.budget > 0 {
				n = int(min(int64(n), b.budget-b.used))
			}
			b.used += int64(n)
			b.mu.Unlock()
			if lim.Limit() == rate.Inf {
				return n, nil
			}
			if err := lim.WaitN(ctx, n); err != nil {
				return 0, fmt.Errorf("replication: bandwidth: %w", err)
			}
			return n, nil
		}
		b.mu.Unlock()
		t := time.NewTimer(min(until.Sub(now), recheckEvery))
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, fmt.Errorf("replication: bandwidth: %s: %w", why, ctx.Err())
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

// Reader returns r throttled by b. Bytes are admitted before they are
// handed to the HTTP transport, so the limit applies to what goes on the wire.
func (b *Bandwidth) Reader(ctx context.Context, r io.Reader) io.Reader {
	return &limitedReader{ctx: ctx, b: b, r: r}
}

type limitedReader struct {
	ctx context.Context
	b   *Bandwidth
	r   io.Reader
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := l.b.take(l.ctx, len(p))
	if err != nil {
		return 0, err
	}
	got, err := l.r.Read(p[:n])
	if got < n {
		l.b.refund(int64(n - got))
	}
	return got, err
}

// refund returns budget for bytes admitted but not read (end of body).
func (b *Bandwidth) refund(n int64) {
	b.mu.Lock()
	b.used = max(0, b.used-n)
	b.mu.Unlock()
}
