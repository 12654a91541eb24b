package replication_test

import (
	"fmt"
	"testing"

	"github.com/ipas/ipas/replication"
)

// TestSmallNotStarved: small objects (the 1,000 with the slow tag)
// queued behind a large one all reach the remote while the large one is
// still uploading.
func TestSmallNotStarved(t *testing.T) {
	e := newEnv(t)
	large := randomBytes(largeObject, 5)
	bigJob := e.put("videos", "huge.mkv", large)
	n := smallObjects
	for i := range n {
		e.put("docs", fmt.Sprintf("note-%04d.txt", i), []byte(fmt.Sprintf("note %d", i)))
	}
	r, _ := e.start(testConfig(), e.newRemote(e.gw.Endpoint), replication.NewBandwidth(1<<20, nil))
	waitFor(t, "small objects replicated", func() bool { return e.journal.pending() <= 1 })
	if _, err := e.journal.Job(bigJob.ID); err != nil {
		t.Fatalf("the large object finished before the small ones: the test proves nothing (%v)", err)
	}
	st := r.Status()
	if len(st.Active) != 1 || st.Active[0].Key != "huge.mkv" || st.Active[0].Parts == 0 {
		t.Errorf("status while the large object uploads: %+v", st.Active)
	} else {
		t.Logf("large object at %d/%d bytes, %d/%d parts, rate %.0f B/s, ETA %s when the small ones were done",
			st.Active[0].BytesDone, st.Active[0].Size, st.Active[0].PartsDone, st.Active[0].Parts, st.Active[0].Rate, st.Active[0].ETA)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		key := fmt.Sprintf("note-%04d.txt", i)
		if got := firstOf(e.remoteSHA256("docs", key)); got != sha256Hex([]byte(fmt.Sprintf("note %d", i))) {
			t.Errorf("%s: wrong remote content", key)
		}
	}
	r.Bandwidth().SetLimit(replication.Unlimited)
	waitFor(t, "large object replicated", func() bool { return e.journal.pending() == 0 })
	if got := firstOf(e.remoteSHA256("videos", "huge.mkv")); got != sha256Hex(large) {
		t.Errorf("large: remote sha256 %s, want %s", got, sha256Hex(large))
	}
}

// TestPoisonJobQuarantined: a job whose local blob is gone is quarantined
// once, reported, and does not hold up the others.
func TestPoisonJobQuarantined(t *testing.T) {
	e := newEnv(t)
	bad := e.put("docs", "lost.txt", []byte("x"))
	e.journal.update(bad.ID, func(j *replication.Job) {
		j.Pieces[0].Blob = sha256Hex([]byte("never stored"))
	})
	e.put("docs", "fine.txt", []byte("fine"))
	r, _ := e.start(testConfig(), e.newRemote(e.gw.Endpoint), nil)
	waitFor(t, "good job done and poison quarantined", func() bool {
		j, err := e.journal.Job(bad.ID)
		return e.journal.pending() == 1 && err == nil && j.Quarantined
	})
	j, _ := e.journal.Job(bad.ID)
	if j.Attempts != 0 || j.LastError == "" {
		t.Errorf("quarantined job: attempts %d, last error %q", j.Attempts, j.LastError)
	}
	waitFor(t, "status shows the quarantined job", func() bool { return r.Status().Quarantined == 1 })
}

// TestNoSuchUploadRestarts: a journaled UploadId the remote does not know
// restarts the upload cleanly.
func TestNoSuchUploadRestarts(t *testing.T) {
	e := newEnv(t)
	data := randomBytes(11<<20, 11)
	j := e.put("videos", "clip.mp4", data)
	e.journal.JobStarted(ctxT(t), j.ID, "forgotten-upload-id", replication.MinPartSize)
	e.start(testConfig(), e.newRemote(e.gw.Endpoint), nil)
	waitFor(t, "upload restarted and completed", func() bool { return e.journal.pending() == 0 })
	if got := firstOf(e.remoteSHA256("videos", "clip.mp4")); got != sha256Hex(data) {
		t.Errorf("remote sha256 %s, want %s", got, sha256Hex(data))
	}
}

// TestOrphanUploadsAborted: a multipart upload under our prefix that no job
// owns is aborted; one a job owns is kept.
func TestOrphanUploadsAborted(t *testing.T) {
	e := newEnv(t)
	rem := e.newRemote(e.gw.Endpoint)
	orphan, err := rem.CreateMultipartUpload(ctxT(t), "docs/orphan", replication.ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	owned, err := rem.CreateMultipartUpload(ctxT(t), "docs/owned", replication.ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	j := e.put("docs", "owned", randomBytes(6<<20, 2))
	e.journal.JobStarted(ctxT(t), j.ID, owned, replication.MinPartSize)
	r, err := replication.New(testConfig(), e.journal, e.store, rem, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.SweepOrphans(ctxT(t))
	if err != nil || n != 1 {
		t.Fatalf("sweep: aborted %d, %v; want 1", n, err)
	}
	ups, err := rem.ListMultipartUploads(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 || ups[0].UploadID != owned {
		t.Errorf("uploads left: %+v; want only %s (orphan was %s)", ups, owned, orphan)
	}
}
