package replication

import (
	"testing"
	"time"
)

func TestRateMeter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	var m rateMeter
	if r := m.rate(t0, 0); r != 0 {
		t.Fatalf("rate without samples: %v", r)
	}
	// 100 KB/s for a minute, sampled on every read (many per second).
	for ms := 0; ms <= 60000; ms += 50 {
		m.add(at(float64(ms)/1000), int64(ms)*100)
	}
	if len(m.samples) > 62 {
		t.Fatalf("%d samples kept for a minute: one per second expected", len(m.samples))
	}
	if r := m.rate(at(60), 6_000_000); r < 99_000 || r > 101_000 {
		t.Fatalf("rate after a minute at 100 KB/s: %v", r)
	}
	if r := m.rate(at(2), 200_000); r != 0 {
		t.Fatalf("a rate over less than %s: %v", rateMinSpan, r)
	}
	if r := m.rateOver(at(2), 200_000, statusMinSpan); r < 99_000 || r > 101_000 {
		t.Fatalf("status rate after %s at 100 KB/s: %v", statusMinSpan, r)
	}
	// The uplink stops: the rate decays, then is unknown once the window
	// holds nothing.
	if r := m.rate(at(240), 6_000_000); r <= 0 || r >= 30_000 {
		t.Fatalf("rate three minutes after sending stopped: %v", r)
	}
	if r := m.rate(at(60).Add(rateWindow+time.Second), 6_000_000); r != 0 {
		t.Fatalf("rate with no sample in the window: %v", r)
	}
	if len(m.samples) != 0 {
		t.Fatalf("%d old samples kept", len(m.samples))
	}
}
