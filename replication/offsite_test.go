package replication_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// putQueued stores data and journals it as an object version in the real
// queue, which creates its put job.
func putQueued(t *testing.T, e *env, n *queue.Node, bucket, key string, data []byte) queue.Object {
	t.Helper()
	b, err := e.store.Put(ctxT(t), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	o := queue.Object{Bucket: bucket, Key: key, VersionID: queue.NewVersionID(time.Now()),
		Blob: b.Digest.String(), SHA256: b.Digest.String(), Size: b.Size}
	if err := n.PutObject(ctxT(t), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func runQueued(t *testing.T, e *env, n *queue.Node, cfg replication.Config, endpoint string) (*replication.Replicator, func()) {
	t.Helper()
	r, err := replication.New(cfg, replication.QueueJournal{Node: n}, e.store, e.newRemote(endpoint), nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx, replication.QueueJournal{Node: n}) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return r, stop
}

// TestReplicatedVersionsAreRecorded: once a small and a multipart object
// are on versitygw, the journal records each version as replicated, with
// the remote's size, and the multipart one with the ETag versitygw reports.
func TestReplicatedVersionsAreRecorded(t *testing.T) {
	e := newEnv(t)
	node := openQueue(t, filepath.Join(e.dir, "raft"))
	t.Cleanup(func() { node.Close(context.Background()) })
	if err := node.CreateBucket(ctxT(t), "docs", time.Time{}); err != nil {
		t.Fatal(err)
	}
	small := putQueued(t, e, node, "docs", "note.txt", []byte("hello offsite"))
	large := putQueued(t, e, node, "docs", "big.bin", randomBytes(2*replication.MinPartSize+17, 5))
	before := time.Now()
	runQueued(t, e, node, testConfig(), e.gw.Endpoint)
	waitFor(t, "both versions replicated", func() bool {
		off, err := node.Offsite()
		return err == nil && off.PendingObjects == 0
	})
	for _, want := range []queue.Object{small, large} {
		o, err := node.Object("docs", want.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !o.Replicated() || o.Replica.Size != want.Size || o.Replica.At.Before(before) {
			t.Fatalf("%s: replica %+v, want size %d recorded after %s", want.Key, o.Replica, want.Size, before)
		}
		if st, err := node.Replication(o); err != nil || st != queue.ReplicationCompleted {
			t.Fatalf("%s: replication %v, %v; want COMPLETED", want.Key, st, err)
		}
	}
	for key, suffix := range map[string]string{"note.txt": "", "big.bin": "-3"} {
		head, err := e.direct.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String("pi1/docs/" + key)})
		if err != nil {
			t.Fatal(err)
		}
		o, _ := node.Object("docs", key)
		if remote := strings.Trim(aws.ToString(head.ETag), `"`); o.Replica.ETag != remote || !strings.HasSuffix(remote, suffix) {
			t.Fatalf("%s: replica ETag %q, the remote says %q", key, o.Replica.ETag, remote)
		}
	}
	if off, _ := node.Offsite(); off.LastReplicated.Before(before) {
		t.Fatalf("last upload %s, before the uploads started", off.LastReplicated)
	}
}

// TestRemoteUnreachableStatus: with every connection to the remote black-
// holed, status reports the remote unreachable since the first failure,
// with the last error; once the link is back and an upload succeeds, it
// no longer does.
func TestRemoteUnreachableStatus(t *testing.T) {
	gw := testutil.StartVersityGW(t, remoteBucket)
	px := testutil.StartProxy(t, gw.Addr)
	e := newEnvWith(t, gw, t.TempDir())
	node := openQueue(t, filepath.Join(e.dir, "raft"))
	t.Cleanup(func() { node.Close(context.Background()) })
	if err := node.CreateBucket(ctxT(t), "docs", time.Time{}); err != nil {
		t.Fatal(err)
	}
	px.AddToxic(t, "blackhole", "timeout", "upstream", map[string]any{"timeout": 0})
	putQueued(t, e, node, "docs", "a.txt", []byte("waiting for the link"))
	cfg := testConfig()
	cfg.StallTimeout = 500 * time.Millisecond
	cfg.UnreachableAfter = time.Second
	start := time.Now()
	r, _ := runQueued(t, e, node, cfg, px.Endpoint())
	var st replication.Status
	waitFor(t, "remote reported unreachable", func() bool { st = r.Status(); return st.Unreachable })
	if st.UnreachableSince.Before(start) || time.Since(st.UnreachableSince) < cfg.UnreachableAfter || st.LastError == "" {
		t.Fatalf("unreachable since %s (started %s), last error %q", st.UnreachableSince, start, st.LastError)
	}
	if !st.LastSuccess.IsZero() {
		t.Fatalf("a success was recorded through a black hole: %s", st.LastSuccess)
	}
	t.Logf("unreachable since %s: %s", st.UnreachableSince.Format(time.TimeOnly), st.LastError)
	px.RemoveToxic(t, "blackhole")
	waitFor(t, "the upload went through", func() bool {
		off, err := node.Offsite()
		return err == nil && off.PendingObjects == 0
	})
	if st = r.Status(); st.Unreachable || st.LastSuccess.IsZero() {
		t.Fatalf("after a success: unreachable %v, last success %s", st.Unreachable, st.LastSuccess)
	}
}
