package queue

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func replication(t *testing.T, n *Node, bucket, key string) ReplicationState {
	t.Helper()
	o, err := n.Object(bucket, key)
	if err != nil {
		t.Fatalf("object %s/%s: %v", bucket, key, err)
	}
	st, err := n.Replication(o)
	if err != nil {
		t.Fatalf("replication of %s/%s: %v", bucket, key, err)
	}
	return st
}

func offsite(t *testing.T, n *Node) Offsite {
	t.Helper()
	s, err := n.Offsite()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJobReplicatedRecordsTheRemoteCopy: a version is PENDING while its job
// waits, FAILED once an attempt failed or the job is quarantined, and
// COMPLETED with the remote's ETag and size once JobReplicated journals the
// upload; the record and the totals survive a restart.
func TestJobReplicatedRecordsTheRemoteCopy(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	before := time.Now()
	v1 := mustPut(t, n, testObject("b", "k", "one"))
	p := mustPut(t, n, testObject("b", "poison", "never"))
	if st := replication(t, n, "b", "k"); st != ReplicationPending {
		t.Fatalf("a new version is %v, want PENDING", st)
	}
	off := offsite(t, n)
	if off.PendingObjects != 2 || off.PendingBytes != v1.Size+p.Size || off.OldestPending.Before(before.Add(-time.Second)) || !off.LastReplicated.IsZero() {
		t.Fatalf("offsite with two puts pending: %+v", off)
	}
	if err := n.JobFailed(ctx, v1.VersionID, "connection refused", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := n.JobQuarantined(ctx, p.VersionID, "key too long"); err != nil {
		t.Fatal(err)
	}
	if st := replication(t, n, "b", "k"); st != ReplicationFailed {
		t.Fatalf("a failing job's version is %v, want FAILED", st)
	}
	if st := replication(t, n, "b", "poison"); st != ReplicationFailed {
		t.Fatalf("a quarantined job's version is %v, want FAILED", st)
	}
	if err := n.JobStarted(ctx, v1.VersionID, "up1", 8<<20); err != nil {
		t.Fatal(err)
	}
	if st := replication(t, n, "b", "k"); st != ReplicationPending {
		t.Fatalf("a job uploading again is %v, want PENDING", st)
	}
	done := time.Now()
	if err := n.JobReplicated(ctx, v1.VersionID, Replica{ETag: "abc-2", Size: v1.Size}); err != nil {
		t.Fatal(err)
	}
	// A retry (leadership lost mid-call) changes nothing.
	if err := n.JobReplicated(ctx, v1.VersionID, Replica{ETag: "other", Size: 1}); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		o, err := n.Object("b", "k")
		if err != nil {
			t.Fatal(err)
		}
		if o.Replica.ETag != "abc-2" || o.Replica.Size != v1.Size || o.Replica.At.Before(done.Add(-time.Second)) || !o.Replicated() {
			t.Fatalf("%s: replica %+v, want ETag abc-2, size %d, at about %s", when, o.Replica, v1.Size, done)
		}
		if o.ETag != v1.ETag || o.SHA256 != v1.SHA256 || o.Metadata["owner"] != "test" {
			t.Fatalf("%s: recording the replica changed the object: %+v", when, o)
		}
		if st := replication(t, n, "b", "k"); st != ReplicationCompleted {
			t.Fatalf("%s: a replicated version is %v, want COMPLETED", when, st)
		}
		off := offsite(t, n)
		if off.PendingObjects != 1 || off.PendingBytes != p.Size || off.LastReplicated.Before(done.Add(-time.Second)) {
			t.Fatalf("%s: offsite %+v, want only the quarantined object pending", when, off)
		}
	}
	check("after JobReplicated")
	closeNode(t, n)
	n = openNode(t, cfg)
	check("after a restart")

	// A new version starts over, even when the caller passes a replica
	// along (a copy of a replicated object).
	v2 := testObject("b", "k", "two")
	v2.Replica = Replica{ETag: "stale", Size: 3, At: time.Now()}
	mustPut(t, n, v2)
	if o, _ := n.Object("b", "k"); o.Replicated() {
		t.Fatalf("a new version inherited a replica: %+v", o.Replica)
	}
	if st := replication(t, n, "b", "k"); st != ReplicationPending {
		t.Fatalf("an overwrite is %v, want PENDING", st)
	}
}

// TestJobReplicatedOfASupersededVersion: the upload of an overwritten
// version marks nothing: the current version waits for its own.
func TestJobReplicatedOfASupersededVersion(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	v1 := mustPut(t, n, testObject("b", "k", "one"))
	v2 := mustPut(t, n, testObject("b", "k", "two"))
	if err := n.JobReplicated(ctxT(t), v1.VersionID, Replica{ETag: "e1", Size: v1.Size}); err != nil {
		t.Fatal(err)
	}
	if o, _ := n.Object("b", "k"); o.VersionID != v2.VersionID || o.Replicated() {
		t.Fatalf("current version after the old one's upload: %+v", o)
	}
	if off := offsite(t, n); off.PendingObjects != 1 || off.PendingBytes != v2.Size {
		t.Fatalf("offsite: %+v, want v2 pending", off)
	}
}

// TestOldJobDoneEntriesOnlyRemoveTheJob: a JobDone written before replicas
// were recorded decodes as it did and applies as it did: the job goes, the
// version is not claimed to be on the remote.
func TestOldJobDoneEntriesOnlyRemoveTheJob(t *testing.T) {
	var e encoder // JobDone as the previous version encoded it
	e.uint(cmdTagOp, uint64(opJobDone))
	e.time(cmdTagTime, time.Unix(1700000000, 0))
	e.str(cmdTagID, "v1")
	var c command
	if err := decodeCommand(e.b, &c); err != nil {
		t.Fatal(err)
	}
	if c.Op != opJobDone || c.ID != "v1" || !c.Replica.At.IsZero() || c.Restored {
		t.Fatalf("old JobDone decoded as %+v", c)
	}
	if !bytes.Equal(c.encode(), e.b) {
		t.Fatal("a JobDone without a replica no longer encodes as it used to")
	}
	// An object record written before replicas decodes with none.
	o := testObject("b", "k", "x")
	var got Object
	if err := decodeObject(encodeObject(&o), &got); err != nil || got.Replicated() {
		t.Fatalf("old record: %+v %v", got, err)
	}

	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	v := mustPut(t, n, testObject("b", "k", "x"))
	if err := n.JobDone(ctxT(t), v.VersionID); err != nil {
		t.Fatal(err)
	}
	if st := replication(t, n, "b", "k"); st != ReplicationUnknown {
		t.Fatalf("after a plain JobDone the version is %v, want unknown", st)
	}
	if off := offsite(t, n); off.PendingObjects != 0 || off.PendingBytes != 0 || !off.LastReplicated.IsZero() {
		t.Fatalf("offsite after a plain JobDone: %+v", off)
	}
}

// TestReplicaKeepsFieldsOfNewerVersions: recording a replica rewrites the
// record without losing fields this version does not know.
func TestReplicaKeepsFieldsOfNewerVersions(t *testing.T) {
	o := testObject("b", "k", "x")
	rec := encoder{b: encodeObject(&o)}
	rec.str(99, "from the future")
	r1 := Replica{ETag: "e1", Size: 1, At: time.Unix(1, 0).UTC()}
	r2 := Replica{ETag: "e2", Size: 2, At: time.Unix(2, 0).UTC()}
	b, err := withReplica(rec.b, r1)
	if err == nil {
		b, err = withReplica(b, r2)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("from the future")) {
		t.Fatal("an unknown field was dropped")
	}
	var got Object
	if err := decodeObject(b, &got); err != nil || got.Replica != r2 || got.ETag != o.ETag {
		t.Fatalf("decoded %+v, %v; want replica %+v", got, err, r2)
	}
	if bytes.Contains(b, []byte("e1")) {
		t.Fatal("the first replica was kept beside the second")
	}
}

// TestPendingTotalsCountedOnUpgrade: a database written before the totals
// were kept gets them counted once, on open.
func TestPendingTotalsCountedOnUpgrade(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	a := mustPut(t, n, testObject("b", "a", "aaaa"))
	mustPut(t, n, testObject("b", "gone", "g"))
	if err := n.DeleteObject(ctxT(t), "b", "gone", ""); err != nil {
		t.Fatal(err)
	}
	closeNode(t, n)
	db, err := bolt.Open(filepath.Join(cfg.Dir, fsmFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		return errors.Join(m.Delete(keyPendPuts), m.Delete(keyPendBytes))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	n = openNode(t, cfg)
	if off := offsite(t, n); off.PendingObjects != 2 || off.PendingBytes != a.Size+1 {
		t.Fatalf("offsite after upgrade: %+v, want 2 put jobs of %d bytes", off, a.Size+1)
	}
}

// TestPendingTotalsMatchARecount: after thousands of random commands the
// running totals equal a count from scratch.
func TestPendingTotalsMatchARecount(t *testing.T) {
	db, _ := applyAll(t, randomCommands(7, 3000), 11)
	err := db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bktMeta)
		puts, bytes := getU64(m, keyPendPuts), getU64(m, keyPendBytes)
		if puts == 0 {
			t.Error("no put job left pending: the generator does not exercise the totals")
		}
		if err := errors.Join(m.Delete(keyPendPuts), m.Delete(keyPendBytes)); err != nil {
			return err
		}
		if err := initPendingTotals(tx); err != nil {
			return err
		}
		if p, b := getU64(m, keyPendPuts), getU64(m, keyPendBytes); p != puts || b != bytes {
			t.Errorf("running totals %d jobs %d bytes, recount %d jobs %d bytes", puts, bytes, p, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
