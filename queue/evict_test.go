package queue

import (
	"errors"
	"testing"
)

// TestEvictObjects: only a current version whose upload was confirmed
// becomes remote-only; it keeps what clients see (size, ETag, SHA-256,
// metadata), names no blob, so the collector's mark no longer reports its
// bytes, and all of it survives a restart. A version still waiting for its
// upload, requeued by a reconcile, or replaced meanwhile is left alone.
func TestEvictObjects(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	offsite := mustPut(t, n, testObject("b", "offsite", "offsite bytes"))
	waiting := mustPut(t, n, testObject("b", "waiting", "waiting bytes"))
	replaced := mustPut(t, n, testObject("b", "replaced", "old bytes"))
	requeued := mustPut(t, n, testObject("b", "requeued", "requeued bytes"))
	for _, o := range []Object{offsite, replaced, requeued} {
		if err := n.JobReplicated(ctx, o.VersionID, Replica{ETag: o.ETag, Size: o.Size}); err != nil {
			t.Fatal(err)
		}
	}
	newer := mustPut(t, n, testObject("b", "replaced", "new bytes"))
	if errs := n.RequeueObjects(ctx, []Object{requeued}); errs[0] != nil {
		t.Fatal(errs[0])
	}

	errs := n.EvictObjects(ctx, []Object{offsite, waiting, replaced, requeued, offsite})
	for i, want := range []error{nil, ErrNotOffsite, ErrNoSuchKey, ErrNotOffsite, nil} {
		if !errors.Is(errs[i], want) {
			t.Errorf("evict %d: %v, want %v", i, errs[i], want)
		}
	}
	check := func(when string) {
		t.Helper()
		o, err := n.Object("b", "offsite")
		if err != nil {
			t.Fatal(err)
		}
		if !o.RemoteOnly || o.Blob != "" || o.SHA256 != offsite.SHA256 || o.ETag != offsite.ETag ||
			o.Size != offsite.Size || o.ContentType != offsite.ContentType || !o.Replicated() {
			t.Errorf("%s: evicted object %+v, was %+v", when, o, offsite)
		}
		if st := replication(t, n, "b", "offsite"); st != ReplicationCompleted {
			t.Errorf("%s: evicted object is %v, want COMPLETED", when, st)
		}
		marked := markedBlobs(t, n)
		if marked[offsite.Blob] {
			t.Errorf("%s: the evicted object's blob is still referenced", when)
		}
		for _, o := range []Object{waiting, newer, requeued} {
			if !marked[o.Blob] {
				t.Errorf("%s: %s's blob is no longer referenced", when, o.Key)
			}
			if got, _ := n.Object("b", o.Key); got.RemoteOnly {
				t.Errorf("%s: %s was evicted", when, o.Key)
			}
		}
	}
	check("after the evictions")
	closeNode(t, n)
	n = openNode(t, cfg)
	check("after a restart")
}
