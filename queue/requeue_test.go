package queue

import (
	"errors"
	"fmt"
	"testing"
)

// TestRequeueObjects: a replicated version gets a put job again, exactly
// once, with its object and blob references (the collector keeps its blob);
// a version that is no longer current is refused with ErrNoSuchKey. The job
// survives a restart and completes like any put job.
func TestRequeueObjects(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	o := mustPut(t, n, testObject("b", "k", "offsite once"))
	old := mustPut(t, n, testObject("b", "old", "replaced"))
	newer := mustPut(t, n, testObject("b", "old", "replacement"))
	for _, v := range []Object{o, old, newer} {
		if err := n.JobReplicated(ctx, v.VersionID, Replica{ETag: "e", Size: v.Size}); err != nil {
			t.Fatal(err)
		}
	}
	errs := n.RequeueObjects(ctx, []Object{o, o, old, {Bucket: "b", Key: "missing", VersionID: "v"}, {Bucket: "nob", Key: "k", VersionID: "v"}})
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("requeue of the current version: %v, %v", errs[0], errs[1])
	}
	for i, err := range errs[2:] {
		if !errors.Is(err, ErrNoSuchKey) {
			t.Fatalf("requeue %d of a version that is not current: %v, want ErrNoSuchKey", i+2, err)
		}
	}
	check := func(when string) {
		jobs, err := n.Jobs(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 1 {
			t.Fatalf("%s: %d jobs, want one put job for b/k", when, len(jobs))
		}
		j := jobs[0]
		if j.ID != o.VersionID || j.Op != JobPut || j.Object.Blob != o.Blob || j.Object.SHA256 != o.SHA256 ||
			j.Object.Metadata["owner"] != "test" || j.Size != o.Size {
			t.Fatalf("%s: job %+v is not the put job of %+v", when, j, o)
		}
		if st := replication(t, n, "b", "k"); st != ReplicationPending {
			t.Fatalf("%s: a requeued version is %v, want PENDING", when, st)
		}
		if off := offsite(t, n); off.PendingObjects != 1 || off.PendingBytes != o.Size {
			t.Fatalf("%s: offsite %+v, want one pending put of %d bytes", when, off, o.Size)
		}
		refs := map[string]int{}
		if err := n.MarkReferenced(ctx, func(b string) { refs[b]++ }); err != nil {
			t.Fatal(err)
		}
		if refs[o.Blob] != 2 {
			t.Fatalf("%s: blob of b/k referenced %d times, want 2 (object and job)", when, refs[o.Blob])
		}
	}
	check("after requeue")
	closeNode(t, n)
	n = openNode(t, cfg)
	check("after a restart")
	if err := n.JobReplicated(ctx, o.VersionID, Replica{ETag: "new-remote", Size: o.Size}); err != nil {
		t.Fatal(err)
	}
	got, err := n.Object("b", "k")
	if err != nil {
		t.Fatal(err)
	}
	if got.Replica.ETag != "new-remote" {
		t.Fatalf("replica after the requeued upload: %+v", got.Replica)
	}
}

// TestRecordReplicas: a version the remote holds is recorded as COMPLETED
// (once: the same answer again changes nothing); a version whose job waits
// keeps PENDING; a replaced version is refused.
func TestRecordReplicas(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	o := mustPut(t, n, testObject("b", "k", "put before records were kept"))
	pending := mustPut(t, n, testObject("b", "p", "still uploading"))
	if err := n.JobDone(ctx, o.VersionID); err != nil { // done without a record
		t.Fatal(err)
	}
	if st := replication(t, n, "b", "k"); st != ReplicationUnknown {
		t.Fatalf("before: %v", st)
	}
	found := o
	found.Replica = Replica{ETag: "remote-etag", Size: o.Size}
	p := pending
	p.Replica = Replica{ETag: "x", Size: p.Size}
	gone := found
	gone.VersionID = "other"
	errs := n.RecordReplicas(ctx, []Object{found, p, gone})
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], ErrNoSuchKey) {
		t.Fatalf("results %v", errs)
	}
	if st := replication(t, n, "b", "k"); st != ReplicationCompleted {
		t.Fatalf("a version found on the remote is %v, want COMPLETED", st)
	}
	if st := replication(t, n, "b", "p"); st != ReplicationPending {
		t.Fatalf("a version whose job waits is %v, want PENDING", st)
	}
	got, _ := n.Object("b", "k")
	if got.Replica.ETag != "remote-etag" || got.Replica.Size != o.Size || got.Replica.At.IsZero() {
		t.Fatalf("record %+v", got.Replica)
	}
	at := got.Replica.At
	n.RecordReplicas(ctx, []Object{found})
	got, _ = n.Object("b", "k")
	if !got.Replica.At.Equal(at) {
		t.Fatal(fmt.Sprint("the same answer rewrote the record: ", at, " -> ", got.Replica.At))
	}
}
