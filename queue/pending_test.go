package queue

import (
	"testing"
	"time"
)

// holdPending keeps applied commands in the open write transaction until
// something commits it explicitly, so that a test can see what does.
func holdPending(t *testing.T, n *Node) {
	t.Helper()
	n.fsm.pendMu.Lock()
	n.fsm.pendAge = time.Hour
	n.fsm.pendMu.Unlock()
	if err := n.fsm.commitPending(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func TestReadsSeeAppliedCommandsWithoutCommitting(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testConfig(dir))
	mustBucket(t, n, "b")
	holdPending(t, n)
	commits := n.fsm.commits.Load()

	o := mustPut(t, n, testObject("b", "k", "hello"))
	got, err := n.Object("b", "k")
	if err != nil || got.VersionID != o.VersionID || got.Blob != o.Blob {
		t.Fatalf("object after put = %+v, %v; want version %s", got, err, o.VersionID)
	}
	list, _, err := n.ListObjects("b", "", "", 0)
	if err != nil || len(list) != 1 || list[0].Key != "k" {
		t.Fatalf("list after put = %+v, %v; want k", list, err)
	}
	if ok, err := n.BucketExists("b"); !ok || err != nil {
		t.Fatalf("bucket exists = %v, %v", ok, err)
	}
	if c := n.fsm.commits.Load(); c != commits {
		t.Fatalf("reads committed the state machine %d times; want 0", c-commits)
	}

	// The collector's mark is a long scan: it commits first, then reads
	// without holding up applies.
	if !referenced(t, n, o.Blob) {
		t.Fatalf("mark does not report %s", o.Blob)
	}
	if c := n.fsm.commits.Load(); c == commits {
		t.Fatal("mark read without committing first")
	}

	// What reads saw in the open transaction is what a restart finds.
	mustPut(t, n, testObject("b", "k2", "world"))
	closeNode(t, n)
	n = openNode(t, testConfig(dir))
	for _, key := range []string{"k", "k2"} {
		if _, err := n.Object("b", key); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	}
}
