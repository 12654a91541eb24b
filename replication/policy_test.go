package replication_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// queueEnv is an env whose jobs come from a real queue.Node (raft on disk).
type queueEnv struct {
	*env
	node *queue.Node
}

func newQueueEnv(t *testing.T, buckets ...string) *queueEnv {
	t.Helper()
	e := newEnv(t)
	node := openQueue(t, filepath.Join(e.dir, "raft"))
	t.Cleanup(func() { node.Close(context.Background()) })
	for _, b := range buckets {
		if err := node.CreateBucket(ctxT(t), b, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	return &queueEnv{env: e, node: node}
}

// put stores data and commits the object to the queue, which journals its
// job; it returns the job's ID.
func (q *queueEnv) put(bucket, key string, data []byte) string {
	q.t.Helper()
	b, err := q.store.Put(ctxT(q.t), bytes.NewReader(data))
	if err != nil {
		q.t.Fatal(err)
	}
	obj := queue.Object{Bucket: bucket, Key: key, VersionID: queue.NewVersionID(time.Now()),
		Blob: b.Digest.String(), SHA256: b.Digest.String(), Size: b.Size, ContentType: "application/x-test"}
	if err := q.node.PutObject(ctxT(q.t), obj); err != nil {
		q.t.Fatal(err)
	}
	return obj.VersionID
}

// partsDone is the bytes of the parts journaled for job id.
func (q *queueEnv) partsDone(id string) int64 {
	j, err := q.node.Job(id)
	if err != nil {
		return -1
	}
	var n int64
	for _, p := range j.PartsDone {
		n += p.Size
	}
	return n
}

func (q *queueEnv) pending() int {
	js, err := q.node.Jobs(0, 1000)
	if err != nil {
		return -1
	}
	return len(js)
}

// run replicates the queue as its leader until the test ends.
func (q *queueEnv) run(cfg replication.Config, endpoint string, bw *replication.Bandwidth) *replication.Replicator {
	q.t.Helper()
	j := replication.QueueJournal{Node: q.node}
	r, err := replication.New(cfg, j, q.store, q.newRemote(endpoint), bw, testLogger(q.t))
	if err != nil {
		q.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.Run(ctx, j) }()
	q.t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

// remoteExists says whether bucket/key is on the remote.
func (q *queueEnv) remoteExists(bucket, key string) bool {
	q.t.Helper()
	_, err := q.direct.HeadObject(ctxT(q.t), &s3.HeadObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String("pi1/" + bucket + "/" + key)})
	var api smithy.APIError
	if errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey") {
		return false
	}
	if err != nil {
		q.t.Fatalf("head %s/%s: %v", bucket, key, err)
	}
	return true
}

// TestPriorities: with one object at a time under a slow cap, objects
// under the prefixes configured first go before older objects outside
// them, in the order of the patterns, oldest first within each, and a
// priority object journaled during the run overtakes the older ones left.
func TestPriorities(t *testing.T) {
	q := newQueueEnv(t, "videos", "docs")
	rec := startRecorder(t, q.gw.Endpoint)
	const size = 32 << 10 // a second each at the cap
	for i := range 3 {
		q.put("videos", fmt.Sprintf("v%d", i), randomBytes(size, uint64(i)))
	}
	q.put("docs", "misc", randomBytes(size, 10))
	q.put("docs", "important/a", randomBytes(size, 11))
	cfg := testConfig()
	cfg.Objects, cfg.SmallObjects = 1, 1
	cfg.Priorities = []string{"docs/important", "docs"}
	q.run(cfg, rec.URL, replication.NewBandwidth(size, nil))

	uploaded := func() []string {
		var keys []string
		for _, r := range rec.requests() {
			if r.Method == http.MethodPut && strings.Contains(r.Query, "x-id=PutObject") && r.Status == http.StatusOK {
				keys = append(keys, strings.TrimPrefix(r.Path, "/"+remoteBucket+"/pi1/"))
			}
		}
		return keys
	}
	waitFor(t, "the first upload", func() bool { return len(uploaded()) >= 1 })
	q.put("docs", "important/late", randomBytes(size, 12))
	waitFor(t, "all uploaded", func() bool { return q.pending() == 0 })

	got := uploaded()
	want := []string{"docs/important/a", "docs/misc", "docs/important/late", "videos/v0", "videos/v1", "videos/v2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("upload order\n got %v\nwant %v", got, want)
	}
}

// TestDeletePolicies: a local delete removes the remote object in a
// "mirror" bucket; an "archive" bucket (the default) keeps it.
func TestDeletePolicies(t *testing.T) {
	q := newQueueEnv(t, "mirrored", "archived")
	data := []byte("this year's photos")
	q.put("mirrored", "photo.jpg", data)
	q.put("archived", "photo.jpg", data)
	cfg := testConfig()
	cfg.Policies = map[string]string{"mirrored": replication.PolicyMirror}
	q.run(cfg, q.gw.Endpoint, nil)
	waitFor(t, "both replicated", func() bool { return q.pending() == 0 })
	if !q.remoteExists("mirrored", "photo.jpg") || !q.remoteExists("archived", "photo.jpg") {
		t.Fatal("objects missing on the remote after replication")
	}

	for _, b := range []string{"mirrored", "archived"} {
		if err := q.node.DeleteObject(ctxT(t), b, "photo.jpg", ""); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "deletes replicated", func() bool { return q.pending() == 0 })
	if q.remoteExists("mirrored", "photo.jpg") {
		t.Error("mirror: the remote still has an object deleted locally")
	}
	if got := firstOf(q.remoteSHA256("archived", "photo.jpg")); got != sha256Hex(data) {
		t.Errorf("archive: remote sha256 %s after a local delete, want %s", got, sha256Hex(data))
	}
}
