package replication_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

func openQueue(t testing.TB, dir string) *queue.Node {
	t.Helper()
	c := queue.DefaultConfig(dir)
	c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	n := queue.New(c, testLogger(t))
	if err := n.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestQueueJournalResume runs against the real raft journal on disk: an
// upload stopped after some parts (the node closed) resumes after the node
// reopens, sends only the missing parts, and the job leaves the queue.
func TestQueueJournalResume(t *testing.T) {
	gw := testutil.StartVersityGW(t, remoteBucket)
	px := testutil.StartProxy(t, gw.Addr)
	e := newEnvWith(t, gw, t.TempDir())
	qdir := filepath.Join(e.dir, "raft")
	node := openQueue(t, qdir)
	if err := node.CreateBucket(ctxT(t), "videos", time.Time{}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(26<<20+5, 21)
	b, err := e.store.Put(ctxT(t), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	obj := queue.Object{Bucket: "videos", Key: "film.mkv", VersionID: queue.NewVersionID(time.Now()),
		Blob: b.Digest.String(), SHA256: b.Digest.String(), Size: b.Size, ContentType: "video/x-matroska",
		Metadata: map[string]string{"camera": "pi"}}
	if err := node.PutObject(ctxT(t), obj); err != nil {
		t.Fatal(err)
	}

	run := func(n *queue.Node, bw *replication.Bandwidth) (*replication.Replicator, func()) {
		r, err := replication.New(testConfig(), replication.QueueJournal{Node: n}, e.store, e.newRemote(px.Endpoint()), bw, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, replication.QueueJournal{Node: n}) }()
		return r, func() { cancel(); wg.Wait() }
	}
	partsDone := func(n *queue.Node) int64 {
		j, err := n.Job(obj.VersionID)
		if err != nil {
			return -1
		}
		var s int64
		for _, p := range j.PartsDone {
			s += p.Size
		}
		return s
	}
	_, stop := run(node, replication.NewBandwidth(8<<20, nil))
	waitFor(t, "two parts journaled in raft", func() bool { return partsDone(node) >= 2*replication.MinPartSize })
	stop()
	if err := node.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	before := px.UpstreamBytes()

	node = openQueue(t, qdir)
	t.Cleanup(func() { node.Close(context.Background()) })
	// A part whose JobPartDone was in flight at the stop may have committed.
	done := partsDone(node)
	if done < 2*replication.MinPartSize {
		t.Fatalf("after reopening, %d bytes of parts journaled", done)
	}
	_, stop = run(node, nil)
	defer stop()
	waitFor(t, "job done in raft", func() bool {
		js, err := node.Jobs(0, 10)
		return err == nil && len(js) == 0
	})
	after := px.UpstreamBytes() - before
	remaining := int64(len(data)) - done
	t.Logf("journaled %s before the restart; sent %s after it (remaining %s)", mib(float64(done)), mib(float64(after)), mib(float64(remaining)))
	if after > remaining+requestOverhead {
		t.Errorf("sent %d bytes after the restart, %d remained", after, remaining)
	}
	if got, out := e.remoteSHA256("videos", "film.mkv"); got != sha256Hex(data) || out.Metadata["camera"] != "pi" {
		t.Errorf("remote sha256 %s metadata %v, want %s", got, out.Metadata, sha256Hex(data))
	}
}
