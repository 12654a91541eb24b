package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestPutGetList(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "photos")
	want := map[string]Object{}
	for i := 0; i < 25; i++ {
		key := fmt.Sprintf("2026/%02d.jpg", i)
		if i%5 == 0 {
			key = fmt.Sprintf("other/%02d.txt", i)
		}
		want[key] = mustPut(t, n, testObject("photos", key, "content "+key))
	}

	for key, w := range want {
		got, err := n.Object("photos", key)
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if got.VersionID != w.VersionID || got.Blob != w.Blob || got.SHA256 != w.SHA256 || got.Size != w.Size ||
			got.ETag != w.ETag || got.Metadata["owner"] != "test" || !got.ModTime.Equal(w.ModTime) || got.Key != key {
			t.Fatalf("get %s = %+v, want %+v", key, got, w)
		}
	}
	if _, err := n.Object("photos", "missing"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("missing key: %v, want ErrNoSuchKey", err)
	}
	if _, err := n.Object("nope", "x"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("missing bucket: %v, want ErrNoSuchBucket", err)
	}

	// Page through the 2026/ prefix 7 at a time.
	var keys []string
	after := ""
	for pages := 0; ; pages++ {
		page, truncated, err := n.ListObjects("photos", "2026/", after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			keys = append(keys, o.Key)
		}
		if !truncated {
			break
		}
		after = page[len(page)-1].Key
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(keys) != 20 {
		t.Fatalf("listed %d keys under 2026/, want 20: %v", len(keys), keys)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("keys out of order: %q before %q", keys[i-1], keys[i])
		}
	}
	all, truncated, err := n.ListObjects("photos", "", "", 0)
	if err != nil || truncated || len(all) != 25 {
		t.Fatalf("list all: %d objects, truncated %v, err %v", len(all), truncated, err)
	}
	page, truncated, err := n.ListObjects("photos", "other/", "2026/99", 2)
	if err != nil || !truncated || len(page) != 2 || page[0].Key != "other/00.txt" {
		t.Fatalf("list other/ after a smaller startAfter: %v %v %v", page, truncated, err)
	}
	if _, _, err := n.ListObjects("nope", "", "", 10); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("list missing bucket: %v", err)
	}
	if s := stats(t, n); s.Objects != 25 || s.Buckets != 1 || s.Jobs != 25 {
		t.Fatalf("stats %+v", s)
	}
}

func TestOverwriteDeleteAdjustRefs(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	v1 := mustPut(t, n, testObject("b", "k", "first"))
	if !referenced(t, n, v1.Blob) {
		t.Fatal("blob of the current version is not referenced")
	}
	// The object still holds the blob after its upload job is done.
	if err := n.JobDone(ctx, v1.VersionID); err != nil {
		t.Fatal(err)
	}
	if !referenced(t, n, v1.Blob) {
		t.Fatal("blob of the current version unreferenced after JobDone")
	}
	v2 := mustPut(t, n, testObject("b", "k", "second"))
	if referenced(t, n, v1.Blob) {
		t.Fatal("overwritten blob with no pending job is still referenced")
	}
	if !referenced(t, n, v2.Blob) {
		t.Fatal("new blob not referenced")
	}
	if err := n.DeleteObject(ctx, "b", "k", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Object("b", "k"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("deleted object: %v", err)
	}
	// v2's upload job is still pending: its blob must survive the delete.
	if !referenced(t, n, v2.Blob) {
		t.Fatal("blob of a pending job unreferenced after delete")
	}
	jobs, err := n.Jobs(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].ID != v2.VersionID || jobs[0].Op != JobPut || jobs[1].Op != JobDelete ||
		jobs[1].VersionID != v2.VersionID || jobs[0].Seq >= jobs[1].Seq {
		t.Fatalf("jobs = %+v", jobs)
	}
	if err := n.JobDone(ctx, v2.VersionID); err != nil {
		t.Fatal(err)
	}
	if referenced(t, n, v2.Blob) {
		t.Fatal("blob referenced after object deleted and job done")
	}
	if err := n.JobDone(ctx, "no-such-job"); err != nil {
		t.Fatalf("JobDone of a missing job: %v", err)
	}
	if _, err := n.Job(v2.VersionID); !errors.Is(err, ErrNoSuchJob) {
		t.Fatalf("done job: %v", err)
	}
	if err := n.DeleteObject(ctx, "b", "never-existed", ""); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
	if s := stats(t, n); s.Objects != 0 || s.Bytes != 0 || s.Jobs != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestIdempotentCommands(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	if err := n.CreateBucket(ctx, "b", time.Time{}); !errors.Is(err, ErrBucketExists) {
		t.Fatalf("second CreateBucket: %v, want ErrBucketExists", err)
	}
	o := testObject("b", "k", "data")
	mustPut(t, n, o)
	mustPut(t, n, o)
	if s := stats(t, n); s.Objects != 1 || s.Jobs != 1 || s.Buckets != 1 || s.Bytes != 4 {
		t.Fatalf("after the same put twice: %+v, want one object and one job", s)
	}
	// One reference from the object, one from the job: JobDone drops one.
	if err := n.JobDone(ctx, o.VersionID); err != nil {
		t.Fatal(err)
	}
	if !referenced(t, n, o.Blob) {
		t.Fatal("object's own reference lost: refs were counted twice for one version")
	}
	if err := n.DeleteBucket(ctx, "b"); !errors.Is(err, ErrBucketNotEmpty) {
		t.Fatalf("delete non-empty bucket: %v", err)
	}
	if err := n.DeleteObject(ctx, "b", "k", ""); err != nil {
		t.Fatal(err)
	}
	if referenced(t, n, o.Blob) {
		t.Fatal("blob still referenced after delete")
	}
	if err := n.DeleteBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteBucket(ctx, "b"); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("delete missing bucket: %v", err)
	}
	if err := n.PutObject(ctx, testObject("b", "k", "x")); !errors.Is(err, ErrNoSuchBucket) {
		t.Fatalf("put into a missing bucket: %v", err)
	}
	bad := testObject("b", "k", "x")
	bad.Blob = "XYZ"
	if err := n.PutObject(ctx, bad); !errors.Is(err, ErrInvalidCommand) {
		t.Fatalf("put with a bad blob: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	ctx := ctxT(t)
	mustBucket(t, n, "b")
	const writers, each = 64, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				key := fmt.Sprintf("w%02d/%03d", w, i)
				o := testObject("b", key, key)
				if err := n.PutObject(ctx, o); err != nil {
					errs <- err
				}
				// A writer that got its answer reads its write, while
				// other entries are in flight.
				if got, err := n.Object("b", key); err != nil || got.VersionID != o.VersionID {
					errs <- fmt.Errorf("read %s after its put: %+v %v", key, got, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		for i := 0; i < each; i++ {
			key := fmt.Sprintf("w%02d/%03d", w, i)
			o, err := n.Object("b", key)
			if err != nil || o.Blob != blobOf(key) {
				t.Fatalf("get %s: %+v %v", key, o, err)
			}
		}
	}
	if s := stats(t, n); s.Objects != writers*each || s.Jobs != writers*each {
		t.Fatalf("stats %+v", s)
	}
	// Many writers share entries: far fewer entries than commands.
	if s := stats(t, n); s.AppliedIndex >= writers*each {
		t.Logf("applied index %d for %d commands: no batching happened", s.AppliedIndex, writers*each)
	}
}

func TestClosedNode(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	closeNode(t, n)
	closeNode(t, n) // idempotent
	if err := n.CreateBucket(ctxT(t), "b", time.Time{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
	if _, err := n.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v, want ErrClosed", err)
	}
}

func TestTranslateRaftError(t *testing.T) {
	for _, err := range []error{raft.ErrNotLeader, raft.ErrLeadershipLost, raft.ErrLeadershipTransferInProgress} {
		got := translateRaftError(err)
		if !errors.Is(got, ErrNotLeader) || errors.Is(got, err) {
			t.Fatalf("%v -> %v: want ErrNotLeader and not raft's error", err, got)
		}
	}
	if got := translateRaftError(raft.ErrRaftShutdown); !errors.Is(got, ErrClosed) {
		t.Fatalf("shutdown -> %v", got)
	}
}

func TestRunAsLeader(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	if !n.IsLeader() {
		t.Fatal("a single node is not its own leader")
	}
	if err := n.WaitLeader(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	stopped := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.RunAsLeader(context.Background(), func(ctx context.Context) {
			close(started)
			<-ctx.Done()
			close(stopped)
		})
	}()
	select {
	case <-started:
	case <-ctxT(t).Done():
		t.Fatal("leader duty never started")
	}
	closeNode(t, n)
	for _, ch := range []chan struct{}{stopped, done} {
		select {
		case <-ch:
		case <-ctxT(t).Done():
			t.Fatal("leader duty not stopped by Close")
		}
	}
}

func TestPutObjects(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	mustBucket(t, n, "b")
	objs := make([]Object, 2000)
	for i := range objs {
		objs[i] = testObject("b", fmt.Sprintf("k%05d", i), fmt.Sprint(i))
	}
	objs[7].Blob = "bad"
	objs[9].Bucket = "missing"
	errs := n.PutObjects(ctxT(t), objs)
	for i, err := range errs {
		switch {
		case i == 7 && !errors.Is(err, ErrInvalidCommand), i == 9 && !errors.Is(err, ErrNoSuchBucket):
			t.Fatalf("object %d: %v", i, err)
		case i != 7 && i != 9 && err != nil:
			t.Fatalf("object %d: %v", i, err)
		}
	}
	s := stats(t, n)
	if s.Objects != 1998 {
		t.Fatalf("stats %+v", s)
	}
	if s.AppliedIndex > 20 {
		t.Fatalf("2000 commands took %d entries: not batched", s.AppliedIndex)
	}
}
