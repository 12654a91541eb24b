package queue

import (
	"fmt"
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

// TestJobsReplicatedOneEntry: the completions of many jobs share one raft
// entry, and each job is gone with its version recorded as replicated.
func TestJobsReplicatedOneEntry(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	var done []ReplicatedJob
	var objs []Object
	for i := range 50 {
		o := mustPut(t, n, testObject("b", fmt.Sprintf("k%02d", i), fmt.Sprintf("content %d", i)))
		objs = append(objs, o)
		done = append(done, ReplicatedJob{ID: o.VersionID, Replica: Replica{ETag: fmt.Sprintf("etag%d", i), Size: o.Size}})
	}
	entries := n.fsm.appliedCommands.Load()
	for i, err := range n.JobsReplicated(ctxT(t), done) {
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	if got := n.fsm.appliedCommands.Load() - entries; got != 1 {
		t.Errorf("50 completions took %d raft entries, want 1", got)
	}
	if js, err := n.Jobs(0, 100); err != nil || len(js) != 0 {
		t.Fatalf("%d jobs left (%v), want none", len(js), err)
	}
	for _, o := range objs {
		cur, err := n.Object(o.Bucket, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		st, err := n.Replication(cur)
		if err != nil || st != ReplicationCompleted {
			t.Fatalf("%s/%s: %v %v, want replicated", o.Bucket, o.Key, st, err)
		}
	}
}
