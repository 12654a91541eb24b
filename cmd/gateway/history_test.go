package main

import (
	"slices"
	"testing"
	"time"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/replication"
)

// TestRateHistory: per-interval rates from the running total, the limit of
// each interval, oldest first, and a ring that keeps only the last points.
func TestRateHistory(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := newRateHistory(time.Minute, 3)
	if s := h.snapshot(t0, 0, 0); len(s.Rates) != 0 || s.IntervalSeconds != 60 {
		t.Fatalf("empty history: %+v", s)
	}
	h.sample(t0, 1000, 0)
	sent := int64(1000)
	for i, perSecond := range []int64{100, 200, 300, 400} {
		sent += perSecond * 60
		h.sample(t0.Add(time.Duration(i+1)*time.Minute), sent, perSecond*2)
	}
	// Half a minute into the next interval, at 50 bytes/s so far.
	s := h.snapshot(t0.Add(4*time.Minute+30*time.Second), sent+1500, admin.LimitPaused)
	if !slices.Equal(s.Rates, []int64{300, 400, 50}) || !slices.Equal(s.Limits, []int64{600, 800, admin.LimitPaused}) ||
		!s.End.Equal(t0.Add(4*time.Minute+30*time.Second)) {
		t.Errorf("history %+v, want the last two minutes and the one in progress", s)
	}
	for _, tc := range []struct {
		st   replication.BandwidthState
		want int64
	}{
		{replication.BandwidthState{Limit: replication.Unlimited}, 0},
		{replication.BandwidthState{Limit: 300 << 10}, 300 << 10},
		{replication.BandwidthState{Limit: 300 << 10, ManualPause: true}, admin.LimitPaused},
		{replication.BandwidthState{Limit: replication.Unlimited, Paused: true}, admin.LimitPaused},
		{replication.BandwidthState{Limit: 300 << 10, BudgetSpent: true}, admin.LimitPaused},
	} {
		if got := limitNow(tc.st); got != tc.want {
			t.Errorf("limitNow(%+v) = %d, want %d", tc.st, got, tc.want)
		}
	}
}
