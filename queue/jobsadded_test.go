package queue

import (
	"testing"
	"time"
)

// TestJobsAdded: the signal comes after a put or a delete adds a job (so a
// replicator wakes without polling), not after progress on an existing job
// or a command that adds none.
func TestJobsAdded(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	signalled := func() bool {
		select {
		case <-n.JobsAdded():
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	}
	mustBucket(t, n, "b")
	signalled() // whatever opening did
	if signalled() {
		t.Fatal("signalled with no new job")
	}
	o := mustPut(t, n, testObject("b", "k", "content"))
	if !signalled() {
		t.Fatal("no signal after a put added a job")
	}
	if err := n.JobFailed(ctx, o.VersionID, "boom", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := n.JobStarted(ctx, o.VersionID, "up-1", 8<<20); err != nil {
		t.Fatal(err)
	}
	if signalled() {
		t.Fatal("signalled after progress on an existing job")
	}
	if err := n.DeleteObject(ctx, "b", "k", NewVersionID(time.Now())); err != nil {
		t.Fatal(err)
	}
	if !signalled() {
		t.Fatal("no signal after a delete added a job")
	}
	js, err := n.Jobs(0, 10)
	if err != nil || len(js) != 2 {
		t.Fatalf("jobs %d, %v: want the put and the delete", len(js), err)
	}
}
