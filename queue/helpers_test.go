package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testTimeout bounds every wait in a test.
const testTimeout = 30 * time.Second

// testConfig shortens raft's timers so a single node elects itself fast.
func testConfig(dir string) Config {
	c := DefaultConfig(dir)
	c.HeartbeatTimeout = 50 * time.Millisecond
	c.ElectionTimeout = 50 * time.Millisecond
	c.LeaderLeaseTimeout = 50 * time.Millisecond
	return c
}

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openNode opens a node on cfg and closes it at the end of the test.
func openNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n := New(cfg, testLogger(t))
	if err := n.Open(ctxT(t)); err != nil {
		t.Fatalf("open %s: %v", cfg.Dir, err)
	}
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

func closeNode(t testing.TB, n *Node) {
	t.Helper()
	if err := n.Close(ctxT(t)); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func blobOf(content string) string {
	h := sha256.Sum256([]byte(content))
	return hex.EncodeToString(h[:])
}

func testObject(bucket, key, content string) Object {
	b := blobOf(content)
	return Object{
		Bucket: bucket, Key: key, VersionID: NewVersionID(time.Now()),
		Blob: b, SHA256: b, Size: int64(len(content)), ETag: "0123456789abcdef0123456789abcdef",
		ContentType: "text/plain", Metadata: map[string]string{"owner": "test"},
		ModTime: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
	}
}

func mustPut(t testing.TB, n *Node, o Object) Object {
	t.Helper()
	if err := n.PutObject(ctxT(t), o); err != nil {
		t.Fatalf("put %s/%s: %v", o.Bucket, o.Key, err)
	}
	return o
}

func mustBucket(t testing.TB, n *Node, name string) {
	t.Helper()
	if err := n.CreateBucket(ctxT(t), name, time.Time{}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// referenced reports whether MarkReferenced reports blob.
func referenced(t testing.TB, n *Node, blob string) bool {
	t.Helper()
	return markedBlobs(t, n)[blob]
}

func markedBlobs(t testing.TB, n *Node) map[string]bool {
	t.Helper()
	marked := map[string]bool{}
	if err := n.MarkReferenced(ctxT(t), func(b string) { marked[b] = true }); err != nil {
		t.Fatalf("mark referenced: %v", err)
	}
	return marked
}

func stats(t testing.TB, n *Node) Stats {
	t.Helper()
	s, err := n.Stats()
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	return s
}

// hashTree maps every file under dir to its SHA-256, to prove a failed Open
// changed nothing.
func hashTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out[rel+"/"] = "dir"
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(h[:])
		return nil
	})
	if err != nil {
		t.Fatalf("hash %s: %v", dir, err)
	}
	return out
}

func diffTrees(a, b map[string]string) error {
	for k, v := range a {
		if b[k] != v {
			return fmt.Errorf("%s changed or disappeared", k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return fmt.Errorf("%s appeared", k)
		}
	}
	return nil
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
