package queue

import (
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestJobPartsLegacyRecord opens a database whose job keeps its finished
// parts inside its record, as fsm.db did before jobparts: the parts are
// still read, the next part-done keeps them all, and the record is moved
// to one part per key (the job record itself then holds none).
func TestJobPartsLegacyRecord(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	o := mustPut(t, n, testObject("b", "k", "content"))
	if err := n.JobStarted(ctx, o.VersionID, "up", 8<<20); err != nil {
		t.Fatal(err)
	}
	closeNode(t, n)

	// Rewrite the job as an older version stored it: parts in the record.
	legacy := []Part{{Number: 1, ETag: "e1", Size: 8 << 20}, {Number: 3, ETag: "e3", Size: 8 << 20, Checksum: "AAAAAw=="}}
	db, err := bolt.Open(filepath.Join(cfg.Dir, fsmFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bktJobIDs).Get([]byte(o.VersionID))
		var j Job
		if err := decodeJob(tx.Bucket(bktJobs).Get(seq), &j); err != nil {
			return err
		}
		j.PartsDone = legacy
		if err := tx.Bucket(bktJobs).Put(seq, encodeJob(&j, nil)); err != nil {
			return err
		}
		return tx.DeleteBucket(bktJobParts) // as a database from before it
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	n = openNode(t, cfg)
	if j := mustJob(t, n, o.VersionID); !reflect.DeepEqual(j.PartsDone, legacy) || j.UploadID != "up" {
		t.Fatalf("legacy job: parts %+v, upload %q; want %+v", j.PartsDone, j.UploadID, legacy)
	}
	p2 := Part{Number: 2, ETag: "e2", Size: 8 << 20}
	if err := n.JobPartDone(ctx, o.VersionID, "up", p2); err != nil {
		t.Fatal(err)
	}
	want := []Part{legacy[0], p2, legacy[1]}
	if j := mustJob(t, n, o.VersionID); !reflect.DeepEqual(j.PartsDone, want) {
		t.Fatalf("after a part-done: %+v, want %+v", j.PartsDone, want)
	}
	if js, err := n.Jobs(0, 10); err != nil || len(js) != 1 || !reflect.DeepEqual(js[0].PartsDone, want) {
		t.Fatalf("Jobs: %+v, %v", js, err)
	}
	err = n.fsm.viewCommitted(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bktJobIDs).Get([]byte(o.VersionID))
		var j Job
		if err := decodeJob(tx.Bucket(bktJobs).Get(seq), &j); err != nil {
			return err
		}
		if len(j.PartsDone) != 0 {
			t.Errorf("the job record still holds %d parts", len(j.PartsDone))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A reset forgets them all; the job's removal leaves no part behind.
	if err := n.JobReset(ctx, o.VersionID); err != nil {
		t.Fatal(err)
	}
	if j := mustJob(t, n, o.VersionID); len(j.PartsDone) != 0 || j.UploadID != "" {
		t.Fatalf("after JobReset: %+v", j)
	}
	if err := n.JobStarted(ctx, o.VersionID, "up2", 8<<20); err != nil {
		t.Fatal(err)
	}
	if err := n.JobPartDone(ctx, o.VersionID, "up2", p2); err != nil {
		t.Fatal(err)
	}
	if err := n.JobDone(ctx, o.VersionID); err != nil {
		t.Fatal(err)
	}
	n.fsm.viewCommitted(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bktJobParts).Cursor().First(); k != nil {
			t.Errorf("a part record outlived its job: %x", k)
		}
		return nil
	})
}
