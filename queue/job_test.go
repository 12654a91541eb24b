package queue

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

func mustJob(t testing.TB, n *Node, id string) Job {
	t.Helper()
	j, err := n.Job(id)
	if err != nil {
		t.Fatalf("job %s: %v", id, err)
	}
	return j
}

func TestJobProgress(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	o := testObject("b", "k", "content")
	o.Checksums = map[string]string{"CRC32": "AAAAAA=="}
	mustPut(t, n, o)
	// The job keeps the version it uploads, whatever happens to the key.
	mustPut(t, n, testObject("b", "k", "newer"))
	j := mustJob(t, n, o.VersionID)
	if !reflect.DeepEqual(j.Object, o) || j.State != JobPending {
		t.Fatalf("job object:\n got %+v\nwant %+v", j.Object, o)
	}

	const r1, partSize = "remote-upload-1", 8 << 20
	if err := n.JobStarted(ctx, o.VersionID, r1, partSize); err != nil {
		t.Fatal(err)
	}
	if err := n.JobStarted(ctx, o.VersionID, r1, partSize); err != nil {
		t.Fatalf("JobStarted retry: %v", err)
	}
	if err := n.JobStarted(ctx, o.VersionID, "another", partSize); !errors.Is(err, ErrJobStarted) {
		t.Fatalf("JobStarted with another upload: %v, want ErrJobStarted", err)
	}
	p1 := Part{Number: 1, ETag: "e1", Size: partSize, Checksum: "AAAAAQ=="}
	p2 := Part{Number: 2, ETag: "e2", Size: partSize, Checksum: "AAAAAg=="}
	p2b := Part{Number: 2, ETag: "e2b", Size: partSize, Checksum: "AAAAAw=="}
	for _, p := range []Part{p2, p1, p2b} {
		if err := n.JobPartDone(ctx, o.VersionID, r1, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.JobPartDone(ctx, o.VersionID, "stale-upload", Part{Number: 3, ETag: "x", Size: 1}); err != nil {
		t.Fatalf("part of a forgotten upload: %v, want nil", err)
	}
	j = mustJob(t, n, o.VersionID)
	if j.State != JobUploading || j.UploadID != r1 || j.PartSize != partSize || !reflect.DeepEqual(j.PartsDone, []Part{p1, p2b}) {
		t.Fatalf("after start and parts: %+v", j)
	}

	retryAt := time.Date(2026, 11, 21, 14, 0, 0, 0, time.UTC)
	if err := n.JobFailed(ctx, o.VersionID, "connection reset", retryAt); err != nil {
		t.Fatal(err)
	}
	if err := n.JobFailed(ctx, o.VersionID, "timeout", retryAt.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	j = mustJob(t, n, o.VersionID)
	if j.Attempts != 2 || j.State != JobFailing || !j.NotBefore.Equal(retryAt.Add(time.Minute)) || j.LastError != "timeout" ||
		j.LastFailure.IsZero() || j.UploadID != r1 || len(j.PartsDone) != 2 {
		t.Fatalf("after two failures: %+v", j)
	}
	// Resuming the journaled upload.
	if err := n.JobStarted(ctx, o.VersionID, r1, partSize); err != nil {
		t.Fatal(err)
	}
	if j = mustJob(t, n, o.VersionID); j.State != JobUploading || j.Attempts != 2 || len(j.PartsDone) != 2 {
		t.Fatalf("after resume: %+v", j)
	}

	// The remote lost the upload.
	if err := n.JobReset(ctx, o.VersionID); err != nil {
		t.Fatal(err)
	}
	j = mustJob(t, n, o.VersionID)
	if j.UploadID != "" || j.PartSize != 0 || j.PartsDone != nil || j.State != JobPending || j.Attempts != 2 {
		t.Fatalf("after reset: %+v", j)
	}
	if err := n.JobPartDone(ctx, o.VersionID, r1, p1); err != nil {
		t.Fatal(err)
	}
	if j = mustJob(t, n, o.VersionID); len(j.PartsDone) != 0 {
		t.Fatalf("a part of the reset upload was journaled: %+v", j)
	}
	if err := n.JobStarted(ctx, o.VersionID, "remote-upload-2", partSize); err != nil {
		t.Fatalf("start after reset: %v", err)
	}

	if err := n.JobQuarantined(ctx, o.VersionID, "remote says InvalidObjectName"); err != nil {
		t.Fatal(err)
	}
	j = mustJob(t, n, o.VersionID)
	if !j.Quarantined || j.LastError != "remote says InvalidObjectName" {
		t.Fatalf("after quarantine: %+v", j)
	}
	if !referenced(t, n, o.Blob) {
		t.Fatal("a quarantined job lost its blob reference")
	}

	// Progress survives a restart.
	closeNode(t, n)
	n = openNode(t, cfg)
	if got := mustJob(t, n, o.VersionID); !reflect.DeepEqual(got, j) {
		t.Fatalf("after restart:\n got %+v\nwant %+v", got, j)
	}

	for name, call := range map[string]func() error{
		"JobStarted":     func() error { return n.JobStarted(ctx, "missing", r1, partSize) },
		"JobPartDone":    func() error { return n.JobPartDone(ctx, "missing", r1, p1) },
		"JobFailed":      func() error { return n.JobFailed(ctx, "missing", "x", retryAt) },
		"JobQuarantined": func() error { return n.JobQuarantined(ctx, "missing", "x") },
		"JobReset":       func() error { return n.JobReset(ctx, "missing") },
	} {
		if err := call(); !errors.Is(err, ErrNoSuchJob) {
			t.Errorf("%s of a missing job: %v, want ErrNoSuchJob", name, err)
		}
	}
	if err := n.DeleteObject(ctx, "b", "k", "del-1"); err != nil {
		t.Fatal(err)
	}
	if err := n.JobStarted(ctx, "del-1", r1, partSize); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("JobStarted of a delete job: %v", err)
	}
	if err := n.JobStarted(ctx, o.VersionID, r1, 0); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("JobStarted without a part size: %v", err)
	}
}

// TestJobCommandsIdempotent applies each replication command twice (as a
// proposer retrying after a lost leadership does) and expects the database
// that applying it once gives.
func TestJobCommandsIdempotent(t *testing.T) {
	at := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	o := testObject("b", "k", "x")
	o.VersionID = "v1"
	base := []command{
		{Op: opBucketCreate, Time: at, Bucket: "b"},
		{Op: opObjectPut, Time: at, Bucket: "b", Key: "k", Object: o},
		{Op: opJobStarted, Time: at, ID: "v1", UploadID: "r1", PartSize: 5 << 20},
		{Op: opJobPartDone, Time: at, ID: "v1", UploadID: "r1", JobPart: Part{Number: 1, ETag: "e", Size: 5 << 20}},
		{Op: opJobFailed, Time: at.Add(time.Second), ID: "v1", Text: "reset", At: at.Add(time.Minute)},
	}
	for _, c := range []command{
		{Op: opJobStarted, Time: at.Add(2 * time.Second), ID: "v1", UploadID: "r1", PartSize: 5 << 20},
		{Op: opJobPartDone, Time: at.Add(2 * time.Second), ID: "v1", UploadID: "r1", JobPart: Part{Number: 2, ETag: "f", Size: 1}},
		{Op: opJobFailed, Time: at.Add(2 * time.Second), ID: "v1", Text: "timeout", At: at.Add(2 * time.Minute)},
		{Op: opJobQuarantined, Time: at.Add(2 * time.Second), ID: "v1", Text: "poison"},
		{Op: opJobReset, Time: at.Add(2 * time.Second), ID: "v1"},
	} {
		onceCmds := append(append([]command(nil), base...), c)
		once, _ := applyAll(t, onceCmds, 1)
		twice, res := applyAll(t, append(onceCmds, c), 1)
		if !bytes.Equal(dump(t, once), dump(t, twice)) {
			t.Errorf("%s applied twice differs from once", c.Op)
		}
		if res[len(res)-1] != nil {
			t.Errorf("%s retried: %v", c.Op, res[len(res)-1])
		}
		var j Job
		once.View(func(tx *bolt.Tx) error {
			return decodeJob(tx.Bucket(bktJobs).Get(u64Key(1)), &j)
		})
		if c.Op == opJobFailed && j.Attempts != 2 {
			t.Errorf("two distinct failures counted as %d attempts", j.Attempts)
		}
	}
}

func TestCutText(t *testing.T) {
	long := strings.Repeat("é", maxTextLen) // 2 bytes each
	for _, s := range []string{long, "x" + long, strings.Repeat("x", maxTextLen+5)} {
		got := cutText(s)
		if len(got) > maxTextLen || len(got) < maxTextLen-utf8.UTFMax || !utf8.ValidString(got) || !strings.HasPrefix(s, got) {
			t.Fatalf("cutText of %d bytes gave %d bytes, valid %v", len(s), len(got), utf8.ValidString(got))
		}
	}
	if got := cutText("short"); got != "short" {
		t.Fatalf("cutText(short) = %q", got)
	}
}
