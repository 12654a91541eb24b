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
	// 1/burstFraction of a second's worth of bytes may go at once: small
	// enough that a 300 KiB/s limit looks smooth to the rest of the home
	// network, large enough to keep syscalls few.
	burstFraction = 50
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

// admit waits while uploads are paused or the budget is spent, and
// returns how many bytes may be read next: at most a burst, and no more
// than the budget has left.
func (b *Bandwidth) admit(ctx context.Context) (int, error) {
	for {
		b.mu.Lock()
		now := b.now()
		b.apply(now)
		why, until := b.blocked(now)
		changed := b.changed
		if why == "" {
			n := b.lim.Burst()
			if b.lim.Limit() == rate.Inf {
				n = maxBurst
			}
			if b.budget > 0 {
				n = int(min(int64(n), b.budget-b.used))
			}
			b.mu.Unlock()
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

// charge counts n bytes that were read and waits until the limit lets them
// go: bytes are charged after the read, so a short read (a small object)
// pays only for what it sends. A change of limit or timetable ends the wait
// and the bytes are charged again at the new rate: at a low limit one burst
// can take seconds, which a switch to "unlimited" must not wait out.
func (b *Bandwidth) charge(ctx context.Context, n int) error {
	b.mu.Lock()
	b.used += int64(n)
	b.mu.Unlock()
	if n == 0 {
		return nil
	}
	for {
		b.mu.Lock()
		lim, changed := b.lim, b.changed
		b.mu.Unlock()
		if lim.Limit() == rate.Inf {
			return nil
		}
		res := lim.ReserveN(time.Now(), min(n, lim.Burst()))
		if !res.OK() {
			return nil
		}
		d := res.Delay()
		if d == 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			t.Stop()
			res.Cancel()
			return fmt.Errorf("replication: bandwidth: %w", ctx.Err())
		case <-changed:
			t.Stop()
			res.Cancel()
		}
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
	n, err := l.b.admit(l.ctx)
	if err != nil {
		return 0, err
	}
	got, rerr := l.r.Read(p[:min(n, len(p))])
	if err := l.b.charge(l.ctx, got); err != nil {
		return 0, err
	}
	return got, rerr
}
