package queue

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestHealthy_OpenThenClosed: an open node is healthy; once closed, it says
// ErrClosed, which is what a readiness probe and the systemd watchdog read.
func TestHealthy_OpenThenClosed(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	if err := n.Healthy(); err != nil {
		t.Fatalf("open node: %v", err)
	}
	closeNode(t, n)
	if err := n.Healthy(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed node: %v, want ErrClosed", err)
	}
}

// TestOnCommit_ToldOfEveryEntry: every committed write reaches OnCommit with
// a positive latency, so that /metrics' commit histogram moves with writes.
func TestOnCommit_ToldOfEveryEntry(t *testing.T) {
	var entries, total atomic.Int64
	cfg := testConfig(t.TempDir())
	cfg.OnCommit = func(d time.Duration) { entries.Add(1); total.Add(int64(d)) }
	n := openNode(t, cfg)
	before := entries.Load()
	mustBucket(t, n, "photos")
	mustPut(t, n, testObject("photos", "a.jpg", "a"))
	if got := entries.Load() - before; got != 2 {
		t.Fatalf("OnCommit told of %d entries for two sequential writes, want 2", got)
	}
	if total.Load() <= 0 {
		t.Fatalf("commit latencies sum to %d", total.Load())
	}
}
