package queue

import (
	"errors"
	"testing"
	"time"
)

// remoteOnly is o as a metadata-only restore journals it: no blobs, the
// part sizes kept.
func remoteOnly(o Object) Object {
	o.RemoteOnly, o.Blob = true, ""
	parts := o.Parts
	o.Parts = nil
	for _, p := range parts {
		o.Parts = append(o.Parts, ObjectPart{Size: p.Size})
	}
	return o
}

// TestRemoteOnlyVersion: a restored version whose bytes are on the remote
// only is listed with its metadata and part sizes, is replicated, queues no
// upload and references no blob (so the collector keeps nothing for it and
// misses nothing); a restore of the same version with its bytes makes it
// local; a remote-only restore never replaces a local copy of the same
// version; only a restored put makes a remote-only version, and a requeue
// never gives one an upload job. All of it
// survives a restart.
func TestRemoteOnlyVersion(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	single := restoredObject("b", "single", "single", t0)
	multi := restoredObject("b", "multi", "", t0)
	multi.Blob, multi.SHA256, multi.ETag, multi.Size = "", blobOf("p1p2"), "0123456789abcdef0123456789abcdef-2", 4
	multi.Parts = []ObjectPart{{Blob: blobOf("p1"), Size: 2}, {Blob: blobOf("p2"), Size: 2}}
	fetched := restoredObject("b", "fetched", "fetched", t0)
	local := restoredObject("b", "local", "local", t0)
	for _, o := range []Object{remoteOnly(single), remoteOnly(multi), remoteOnly(fetched), local} {
		if ok, err := n.PutRestoredObject(ctx, o); err != nil || !ok {
			t.Fatalf("restore %s: applied %v, %v", o.Key, ok, err)
		}
	}
	// The bytes of one come back: the same version, now with its blob.
	if ok, err := n.PutRestoredObject(ctx, fetched); err != nil || !ok {
		t.Fatalf("restore the bytes of fetched: applied %v, %v", ok, err)
	}
	// A metadata-only restore of a version held locally changes nothing.
	if ok, err := n.PutRestoredObject(ctx, remoteOnly(local)); err != nil || !ok {
		t.Fatalf("metadata-only restore over a local copy: applied %v, %v", ok, err)
	}
	// Only a restore says that bytes are on the remote.
	if err := n.PutObject(ctx, remoteOnly(testObject("b", "put", "put"))); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("PutObject of a remote-only version: %v, want ErrInvalidCommand", err)
	}
	// A reconcile that finds it missing on the remote cannot upload it.
	if errs := n.RequeueObjects(ctx, []Object{remoteOnly(single)}); !errors.Is(errs[0], ErrRemoteOnly) {
		t.Fatalf("requeue a remote-only version: %v, want ErrRemoteOnly", errs[0])
	}
	bad := remoteOnly(single)
	bad.Key, bad.Blob = "bad", blobOf("single")
	if _, err := n.PutRestoredObject(ctx, bad); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("a remote-only version that names a blob: %v, want ErrInvalidCommand", err)
	}

	check := func(when string) {
		t.Helper()
		for key, wantRemote := range map[string]bool{"single": true, "multi": true, "fetched": false, "local": false} {
			o, err := n.Object("b", key)
			if err != nil {
				t.Fatalf("%s: %s: %v", when, key, err)
			}
			if o.RemoteOnly != wantRemote {
				t.Errorf("%s: %s remote-only %v, want %v", when, key, o.RemoteOnly, wantRemote)
			}
			if st := replication(t, n, "b", key); st != ReplicationCompleted {
				t.Errorf("%s: %s is %v, want COMPLETED", when, key, st)
			}
			if o.ContentType != "text/plain" || o.Metadata["owner"] != "test" {
				t.Errorf("%s: %s lost its metadata: %+v", when, key, o)
			}
		}
		m, _ := n.Object("b", "multi")
		if m.Size != 4 || m.ETag != multi.ETag || len(m.Parts) != 2 || m.Parts[0] != (ObjectPart{Size: 2}) || m.Blob != "" {
			t.Errorf("%s: remote-only multipart object %+v", when, m)
		}
		page, _, err := n.ListObjects("b", "", "", 10)
		if err != nil || len(page) != 4 {
			t.Errorf("%s: listing %d objects, %v; want 4", when, len(page), err)
		}
		marked := markedBlobs(t, n)
		for _, b := range []string{blobOf("single"), blobOf("p1"), blobOf("p2"), ""} {
			if marked[b] {
				t.Errorf("%s: blob %q of a remote-only version is referenced", when, b)
			}
		}
		if !marked[blobOf("fetched")] || !marked[blobOf("local")] {
			t.Errorf("%s: the blob of a local version is not referenced: %v", when, marked)
		}
		if jobs, err := n.Jobs(0, 0); err != nil || len(jobs) != 0 {
			t.Errorf("%s: jobs %+v, %v; want none", when, jobs, err)
		}
		if s := stats(t, n); s.Objects != 4 || s.Bytes != 6+4+7+5 {
			t.Errorf("%s: stats %+v", when, s)
		}
	}
	check("after the restores")
	closeNode(t, n)
	n = openNode(t, cfg)
	check("after a restart")
}
