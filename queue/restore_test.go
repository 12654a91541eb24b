package queue

import (
	"errors"
	"testing"
	"time"
)

func restoredObject(bucket, key, content string, mod time.Time) Object {
	o := testObject(bucket, key, content)
	o.ModTime = mod
	o.Replica = Replica{ETag: "remote-etag", Size: o.Size}
	return o
}

// TestPutRestoredObject: a restored version is recorded as replicated and
// queues no upload; it never replaces a newer local version; replacing an
// older one drops that version's waiting upload; all of it survives a
// restart.
func TestPutRestoredObject(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	// A key the Pi does not have.
	fresh := restoredObject("b", "fresh", "fresh", t0)
	if ok, err := n.PutRestoredObject(ctx, fresh); err != nil || !ok {
		t.Fatalf("restore into an empty key: applied %v, %v", ok, err)
	}
	// A key whose local version is newer than the remote's.
	local := testObject("b", "newer", "local")
	local.ModTime = t0.Add(time.Hour)
	mustPut(t, n, local)
	if ok, err := n.PutRestoredObject(ctx, restoredObject("b", "newer", "remote", t0)); err != nil || ok {
		t.Fatalf("restore over a newer local version: applied %v, %v; want skipped", ok, err)
	}
	// A key whose local version is older and still waits for its upload.
	old := testObject("b", "older", "old")
	old.ModTime = t0.Add(-time.Hour)
	mustPut(t, n, old)
	over := restoredObject("b", "older", "remote", t0)
	if ok, err := n.PutRestoredObject(ctx, over); err != nil || !ok {
		t.Fatalf("restore over an older local version: applied %v, %v", ok, err)
	}
	// A retry of an applied restore.
	if ok, err := n.PutRestoredObject(ctx, fresh); err != nil || !ok {
		t.Fatalf("retry: applied %v, %v", ok, err)
	}
	// A batch reports per object.
	errs := n.PutRestoredObjects(ctx, []Object{
		restoredObject("b", "batch", "batch", t0), restoredObject("b", "newer", "remote", t0),
	})
	if errs[0] != nil || !errors.Is(errs[1], ErrNewerVersion) {
		t.Fatalf("batch results: %v", errs)
	}

	check := func(when string) {
		t.Helper()
		for key, want := range map[string]Object{"fresh": fresh, "older": over, "newer": local} {
			o, err := n.Object("b", key)
			if err != nil || o.VersionID != want.VersionID {
				t.Fatalf("%s: %s is %+v, %v; want version %s", when, key, o, err, want.VersionID)
			}
		}
		for _, key := range []string{"fresh", "older", "batch"} {
			o, _ := n.Object("b", key)
			if o.Replica.ETag != "remote-etag" || o.Replica.At.IsZero() {
				t.Fatalf("%s: restored %s has replica %+v", when, key, o.Replica)
			}
			if st := replication(t, n, "b", key); st != ReplicationCompleted {
				t.Fatalf("%s: restored %s is %v, want COMPLETED", when, key, st)
			}
		}
		if st := replication(t, n, "b", "newer"); st != ReplicationPending {
			t.Fatalf("%s: the newer local version is %v, want PENDING", when, st)
		}
		// Only the newer local version waits for an upload: the restores
		// queued none, and the older local version's upload is gone.
		jobs, err := n.Jobs(0, 0)
		if err != nil || len(jobs) != 1 || jobs[0].ID != local.VersionID {
			t.Fatalf("%s: jobs %+v, %v; want only %s", when, jobs, err, local.VersionID)
		}
		if off := offsite(t, n); off.PendingObjects != 1 || off.PendingBytes != local.Size {
			t.Fatalf("%s: offsite %+v", when, off)
		}
		if s := stats(t, n); s.Objects != 4 {
			t.Fatalf("%s: %d objects, want 4", when, s.Objects)
		}
		if !referenced(t, n, blobOf("fresh")) || !referenced(t, n, blobOf("remote")) {
			t.Fatalf("%s: a restored version's blob is not referenced", when)
		}
	}
	check("after the restore")
	closeNode(t, n)
	n = openNode(t, cfg)
	check("after a restart")
}

// TestRemoteIdentity: the remote's identity is journaled; setting the same
// one again keeps the time it was first recorded.
func TestRemoteIdentity(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	if r, err := n.Remote(); err != nil || !r.IsZero() {
		t.Fatalf("a new journal's remote: %+v, %v", r, err)
	}
	a := RemoteIdentity{Endpoint: "https://s3.example", Bucket: "backup", Prefix: "pi1"}
	if err := n.SetRemote(ctx, a); err != nil {
		t.Fatal(err)
	}
	first, err := n.Remote()
	if err != nil || !first.Same(a) || first.Since.IsZero() {
		t.Fatalf("remote after SetRemote: %+v, %v", first, err)
	}
	if err := n.SetRemote(ctx, a); err != nil {
		t.Fatal(err)
	}
	if again, _ := n.Remote(); !again.Since.Equal(first.Since) {
		t.Fatalf("setting the same remote moved Since from %s to %s", first.Since, again.Since)
	}
	b := a
	b.Prefix = "pi2"
	if err := n.SetRemote(ctx, b); err != nil {
		t.Fatal(err)
	}
	closeNode(t, n)
	n = openNode(t, cfg)
	if r, err := n.Remote(); err != nil || !r.Same(b) || r.Since.Before(first.Since) {
		t.Fatalf("remote after a restart: %+v, %v; want %+v", r, err, b)
	}
	if err := n.SetRemote(ctx, RemoteIdentity{}); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("an empty remote: %v, want ErrInvalidCommand", err)
	}
}
