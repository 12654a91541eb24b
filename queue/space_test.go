package queue

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestFailureKinds: a state machine paused by a full disk stays healthy,
// calls no OnFailure and resumes (replaying what it lost) once it can
// commit; any other commit failure (an I/O error) calls OnFailure once,
// which is the daemon's cue to exit, and is unhealthy.
func TestFailureKinds(t *testing.T) {
	cfg := testConfig(t.TempDir())
	failures := make(chan error, 2)
	cfg.OnFailure = func(err error) { failures <- err }
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	before := mustPut(t, n, testObject("b", "before", "before"))

	n.fsm.pendMu.Lock()
	n.fsm.rollbackLocked() // the transaction a failed commit rolls back
	n.fsm.pendMu.Unlock()
	n.fsm.fail(fmt.Errorf("commit fsm.db: %w", syscall.ENOSPC))
	if err := n.Healthy(); err != nil {
		t.Fatalf("Healthy while paused for space: %v", err)
	}
	// The next entry replays what the rolled-back transaction held, then applies.
	after := mustPut(t, n, testObject("b", "after", "after"))
	for _, o := range []Object{before, after} {
		if got, err := n.Object("b", o.Key); err != nil || got.VersionID != o.VersionID {
			t.Fatalf("%s after resuming: %+v, %v", o.Key, got, err)
		}
	}
	select {
	case err := <-failures:
		t.Fatalf("OnFailure for a full disk: %v", err)
	case <-time.After(50 * time.Millisecond):
	}

	n.fsm.fail(fmt.Errorf("commit fsm.db: %w", syscall.EIO))
	select {
	case err := <-failures:
		if !errors.Is(err, ErrFSMFailed) || !errors.Is(err, syscall.EIO) {
			t.Fatalf("OnFailure got %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("OnFailure was not called for an I/O error")
	}
	if err := n.Healthy(); !errors.Is(err, ErrFSMFailed) {
		t.Fatalf("Healthy after an I/O error: %v", err)
	}
}
