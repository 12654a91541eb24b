package replication_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

func (q *queueEnv) drained() bool {
	js, err := q.node.Jobs(0, 1)
	return err == nil && len(js) == 0
}

// TestDispatchWakesOnNewJob: with polling an hour apart, a job journaled
// while the replicator idles is replicated within seconds: the journal's
// apply wakes it.
func TestDispatchWakesOnNewJob(t *testing.T) {
	q := newQueueEnv(t, "photos")
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	r := q.run(cfg, q.gw.Endpoint, nil)
	waitFor(t, "the replicator idles", func() bool { return r.Status().State == "idle" })
	time.Sleep(200 * time.Millisecond)
	for i, data := range [][]byte{[]byte("first"), randomBytes(40<<10, 7)} {
		key := fmt.Sprintf("new%d.jpg", i)
		start := time.Now()
		q.put("photos", key, data)
		for !q.drained() {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("%s still queued after %s", key, time.Since(start))
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s replicated %s after its put", key, time.Since(start).Round(time.Millisecond))
		if got, _ := q.remoteSHA256("photos", key); got != sha256Hex(data) {
			t.Fatalf("remote %s sha256 %s, want %s", key, got, sha256Hex(data))
		}
	}
}

// TestDispatchBeyondScanLimit: a backlog larger than ScanLimit drains
// completely, the index reading the jobs past its horizon as it empties,
// and status says the counts are lower bounds meanwhile.
func TestDispatchBeyondScanLimit(t *testing.T) {
	q := newQueueEnv(t, "photos")
	const n = 30
	want := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("img%02d.jpg", i)
		data := randomBytes(1<<10+i*331, uint64(i+100))
		want[key] = sha256Hex(data)
		q.put("photos", key, data)
	}
	cfg := testConfig()
	cfg.PollInterval = time.Hour
	cfg.ScanLimit = 4
	bw := replication.NewBandwidth(replication.Unlimited, nil)
	bw.Pause() // hold the first jobs so that the status shows the full index
	r := q.run(cfg, q.gw.Endpoint, bw)
	waitFor(t, "the index loaded", func() bool { return r.Status().QueueJobs == int64(cfg.ScanLimit) })
	if s := r.Status(); !s.QueueTruncated {
		t.Errorf("status with %d of %d jobs indexed: QueueTruncated false", s.QueueJobs, n)
	}
	bw.Resume()
	r.Notify()
	waitFor(t, "backlog drained", q.drained)
	if got := r.Status().ReplicatedObjects; got != n {
		t.Errorf("replicated %d objects, want %d", got, n)
	}
	for key, sum := range want {
		if got, _ := q.remoteSHA256("photos", key); got != sum {
			t.Errorf("remote %s sha256 %s, want %s", key, got, sum)
		}
	}
}

// TestSmallCompletionsBatched: with the raft journal, small objects'
// completions are journaled together while the workers go on; every
// object arrives and its version is recorded as replicated. The test logs
// how many raft entries the drain took.
func TestSmallCompletionsBatched(t *testing.T) {
	var entries atomic.Int64
	e := newEnv(t)
	c := queue.DefaultConfig(filepath.Join(e.dir, "raft"))
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	c.OnCommit = func(time.Duration) { entries.Add(1) }
	node := queue.New(c, testLogger(t))
	if err := node.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close(context.Background()) })
	if err := node.CreateBucket(ctxT(t), "photos", time.Time{}); err != nil {
		t.Fatal(err)
	}
	q := &queueEnv{env: e, node: node}
	const n = 120
	objs := map[string]string{}
	for i := range n {
		key := fmt.Sprintf("img%03d.jpg", i)
		data := randomBytes(512+i*97, uint64(i+500))
		objs[key] = sha256Hex(data)
		q.put("photos", key, data)
	}
	entries.Store(0)
	cfg := testConfig()
	cfg.Objects = 8
	r := q.run(cfg, q.gw.Endpoint, nil)
	waitFor(t, "backlog drained", q.drained)
	t.Logf("%d objects: %d raft entries while draining", n, entries.Load())
	waitFor(t, "all counted", func() bool { return r.Status().ReplicatedObjects == n })
	for key, sum := range objs {
		o, err := q.node.Object("photos", key)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := q.node.Replication(o); err != nil || st != queue.ReplicationCompleted {
			t.Errorf("%s: replication %v %v, want COMPLETED", key, st, err)
		}
		if got, _ := q.remoteSHA256("photos", key); got != sum {
			t.Errorf("remote %s sha256 %s, want %s", key, got, sum)
		}
	}
}
