package queue

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func putN(t *testing.T, n *Node, bucket string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		key := fmt.Sprintf("k%05d", i)
		mustPut(t, n, testObject(bucket, key, key))
	}
}

func checkN(t *testing.T, n *Node, bucket string, count int) {
	t.Helper()
	for i := 0; i < count; i++ {
		key := fmt.Sprintf("k%05d", i)
		o, err := n.Object(bucket, key)
		if err != nil || o.Blob != blobOf(key) {
			t.Fatalf("get %s after restart: %+v %v", key, o, err)
		}
	}
	if s := stats(t, n); s.Objects != int64(count) {
		t.Fatalf("stats after restart: %+v, want %d objects", s, count)
	}
}

func TestRestartDoesNotReplay(t *testing.T) {
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	putN(t, n, "b", 0, 50)
	before := stats(t, n)
	id := n.raft.String()
	closeNode(t, n)

	n = openNode(t, cfg)
	checkN(t, n, "b", 50)
	if got := n.fsm.appliedCommands.Load(); got != 0 {
		t.Fatalf("restart applied %d command entries again; fsm.db already had them", got)
	}
	if after := stats(t, n); after.AppliedIndex < before.AppliedIndex {
		t.Fatalf("applied index went back from %d to %d", before.AppliedIndex, after.AppliedIndex)
	}
	putN(t, n, "b", 50, 51)
	if got := n.fsm.appliedCommands.Load(); got != 1 {
		t.Fatalf("one new put applied %d entries", got)
	}
	if n.raft.String() == "" || id == "" {
		t.Fatal("raft not running")
	}
	nodeID, err := os.ReadFile(filepath.Join(cfg.Dir, nodeIDFile))
	if err != nil || len(nodeID) < 5 {
		t.Fatalf("node-id not persisted: %q %v", nodeID, err)
	}
}

// snapshotConfig makes raft snapshot and truncate after a handful of entries.
func snapshotConfig(dir string) Config {
	c := testConfig(dir)
	c.SnapshotThreshold = 16
	c.TrailingLogs = 4
	c.SnapshotInterval = 20 * 1e6 // 20ms
	return c
}

func snapshotCount(t *testing.T, dir string) int {
	entries, err := os.ReadDir(filepath.Join(dir, snapshotDirName))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() && snapshotDirPattern.MatchString(e.Name()) {
			n++
		}
	}
	return n
}

func TestSnapshotAndTruncation(t *testing.T) {
	cfg := snapshotConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	putN(t, n, "b", 0, 100)
	waitFor(t, "a snapshot and log truncation", func() bool {
		first, _ := n.wal.FirstIndex()
		return snapshotCount(t, cfg.Dir) > 0 && first > 1
	})
	putN(t, n, "b", 100, 120)
	closeNode(t, n)

	n = openNode(t, cfg)
	checkN(t, n, "b", 120)
	if got := n.fsm.appliedCommands.Load(); got != 0 {
		t.Fatalf("restart after truncation applied %d entries again", got)
	}
	if c := snapshotCount(t, cfg.Dir); c > cfg.SnapshotRetain {
		t.Fatalf("%d snapshots kept, retain is %d", c, cfg.SnapshotRetain)
	}
}

func TestSnapshotOnLogBytes(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.SnapshotLogBytes = 4 << 10
	cfg.TrailingLogs = 4
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	putN(t, n, "b", 0, 60) // ~200 bytes each
	waitFor(t, "a snapshot on log size", func() bool { return snapshotCount(t, cfg.Dir) > 0 })
}

func TestFSMDeletedIsRestored(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.TrailingLogs = 4
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	putN(t, n, "b", 0, 100)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if first, _ := n.wal.FirstIndex(); first <= 1 {
		t.Fatalf("log not truncated by the snapshot: first index %d", first)
	}
	// Entries after the snapshot exist only in the log.
	putN(t, n, "b", 100, 110)
	closeNode(t, n)
	if err := os.Remove(filepath.Join(cfg.Dir, fsmFile)); err != nil {
		t.Fatal(err)
	}

	n = openNode(t, cfg)
	checkN(t, n, "b", 110)
	if got := n.fsm.appliedCommands.Load(); got != 10 {
		t.Fatalf("replayed %d entries after the snapshot restore, want the 10 after it", got)
	}
	if ok := referenced(t, n, blobOf("k00007")); !ok {
		t.Fatal("reference counts not restored")
	}
}
