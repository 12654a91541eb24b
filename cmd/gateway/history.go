package main

import (
	"context"
	"sync"
	"time"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/replication"
)

// Upload history: the console's chart of the upload rate against the limit.
const (
	// historyInterval is one point of the chart.
	historyInterval = time.Minute
	// historyPoints is a day of them.
	historyPoints = 24 * 60
)

// rateHistory is a ring of per-interval upload rates and the limit in force,
// filled by sample; about 20 KiB for a day.
type rateHistory struct {
	mu       sync.Mutex
	interval time.Duration
	rates    []int64 // ring, oldest at head once full
	limits   []int64
	head     int
	full     bool
	end      time.Time // the end of the newest interval
	lastSent int64
	lastAt   time.Time
}

func newRateHistory(interval time.Duration, points int) *rateHistory {
	return &rateHistory{interval: interval, rates: make([]int64, points), limits: make([]int64, points)}
}

// sample records the interval that ends at now: the bytes sent since the
// last sample (sent is the running total) and the limit in force now
// (admin.LimitPaused while paused). The first call only sets the start.
func (h *rateHistory) sample(now time.Time, sent, limit int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lastAt.IsZero() {
		h.lastSent, h.lastAt = sent, now
		return
	}
	secs := now.Sub(h.lastAt).Seconds()
	if secs <= 0 {
		return
	}
	h.rates[h.head] = int64(float64(max(0, sent-h.lastSent)) / secs)
	h.limits[h.head] = limit
	h.head++
	if h.head == len(h.rates) {
		h.head, h.full = 0, true
	}
	h.lastSent, h.lastAt, h.end = sent, now, now
}

// snapshot returns the history, oldest first, and the interval in
// progress up to now as its last point (sent bytes so far, limit now), so
// that the chart reaches the present from the daemon's first minute on.
func (h *rateHistory) snapshot(now time.Time, sent, limit int64) admin.RateHistory {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := admin.RateHistory{End: h.end, IntervalSeconds: int(h.interval / time.Second), Rates: []int64{}, Limits: []int64{}}
	if h.full {
		out.Rates = append(out.Rates, h.rates[h.head+1:]...) // the oldest gives way to the partial one
		out.Limits = append(out.Limits, h.limits[h.head+1:]...)
	}
	out.Rates = append(out.Rates, h.rates[:h.head]...)
	out.Limits = append(out.Limits, h.limits[:h.head]...)
	if secs := now.Sub(h.lastAt).Seconds(); !h.lastAt.IsZero() && secs > 0 {
		out.Rates = append(out.Rates, int64(float64(max(0, sent-h.lastSent))/secs))
		out.Limits = append(out.Limits, limit)
		out.End = now
	}
	return out
}

// limitNow is the limit a chart shows for bw's state.
func limitNow(s replication.BandwidthState) int64 {
	switch {
	case s.Paused || s.ManualPause || s.BudgetSpent:
		return admin.LimitPaused
	case s.Limit == replication.Unlimited:
		return 0
	}
	return s.Limit
}

// record samples the replicator every interval until ctx ends.
func (h *rateHistory) record(ctx context.Context, rep *replicator) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		sent, limit := current(rep)
		h.sample(time.Now(), sent, limit)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// current is the replicator's running total of bytes sent, and the limit
// in force.
func current(rep *replicator) (sent, limit int64) {
	st := rep.rep.Status()
	limit = limitNow(rep.bw.State())
	if st.Paused {
		limit = admin.LimitPaused // by an error only a human can fix
	}
	return st.SentBytes, limit
}

// RateHistory implements admin.History.
func (c *control) RateHistory(context.Context) (admin.RateHistory, error) {
	sent, limit := current(c.rep)
	return c.history.snapshot(time.Now(), sent, limit), nil
}
