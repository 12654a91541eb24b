package queue

import (
	"errors"
	"testing"
	"time"
)

// TestJobRetry: an operator's retry releases a quarantined job and clears a
// failing one's backoff, keeps its remote upload, survives a restart, and
// changes nothing when repeated.
func TestJobRetry(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	q := mustPut(t, n, testObject("b", "poison", "refused for good"))
	f := mustPut(t, n, testObject("b", "failing", "waits for its backoff"))

	if err := n.JobFailed(ctx, q.VersionID, "EntityTooLarge", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := n.JobQuarantined(ctx, q.VersionID, "EntityTooLarge: refused for good"); err != nil {
		t.Fatal(err)
	}
	if err := n.JobStarted(ctx, f.VersionID, "remote-upload", 8<<20); err != nil {
		t.Fatal(err)
	}
	if err := n.JobFailed(ctx, f.VersionID, "timeout", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if j := mustJob(t, n, q.VersionID); !j.Quarantined {
		t.Fatalf("quarantined job: %+v", j)
	}

	for range 2 { // the second time is a no-op
		if err := n.JobRetry(ctx, q.VersionID); err != nil {
			t.Fatal(err)
		}
		if err := n.JobRetry(ctx, f.VersionID); err != nil {
			t.Fatal(err)
		}
	}
	check := func(n *Node) {
		t.Helper()
		if j := mustJob(t, n, q.VersionID); j.Quarantined || j.Attempts != 0 || j.LastError != "" || j.State != JobPending {
			t.Errorf("released job: quarantined %v, attempts %d, error %q, state %v", j.Quarantined, j.Attempts, j.LastError, j.State)
		}
		j := mustJob(t, n, f.VersionID)
		if !j.NotBefore.IsZero() || j.Attempts != 0 || j.State != JobPending || j.UploadID != "remote-upload" {
			t.Errorf("retried job: not before %v, attempts %d, state %v, upload %q", j.NotBefore, j.Attempts, j.State, j.UploadID)
		}
	}
	check(n)
	closeNode(t, n)
	n = openNode(t, cfg)
	check(n)

	if err := n.JobRetry(ctx, "no-such-job"); !errors.Is(err, ErrNoSuchJob) {
		t.Errorf("retry of an unknown job: %v, want ErrNoSuchJob", err)
	}
}
