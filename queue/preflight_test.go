package queue

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// populated returns a raft directory with objects, a snapshot, and entries
// after it, closed cleanly.
func populated(t *testing.T) Config {
	t.Helper()
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	putN(t, n, "b", 0, 20)
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	putN(t, n, "b", 20, 25)
	closeNode(t, n)
	return cfg
}

func newestSnapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, snapshotDirName))
	if err != nil || len(entries) == 0 {
		t.Fatalf("no snapshot in %s: %v", dir, err)
	}
	return filepath.Join(dir, snapshotDirName, entries[len(entries)-1].Name())
}

func TestOpenRefusesBadState(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, dir string)
		mention string // the file the error must name
	}{
		{"truncated state.bin", func(t *testing.T, dir string) {
			p := filepath.Join(newestSnapshot(t, dir), "state.bin")
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, "state.bin"},
		{"bad meta.json", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(newestSnapshot(t, dir), "meta.json"), "{not json")
		}, "meta.json"},
		{"raft-boltdb log store", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, boltLogFile), "bolt")
		}, boltLogFile},
		{"foreign file in wal", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, walDirName, "raft.db"), "bolt")
		}, "raft.db"},
		{"wal-meta.db not bbolt", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, walDirName, walMetaFile), strings.Repeat("garbage!", 2048))
		}, walMetaFile},
		{"wal segments without metadata", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, walDirName, walMetaFile)); err != nil {
				t.Fatal(err)
			}
		}, walMetaFile},
		{"fsm.db not bbolt", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, fsmFile), strings.Repeat("not a database ", 1000))
		}, fsmFile},
		{"fsm.db ahead of a lost log", func(t *testing.T, dir string) {
			for _, p := range []string{walDirName, snapshotDirName} {
				if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
					t.Fatal(err)
				}
			}
		}, fsmFile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := populated(t)
			tc.corrupt(t, cfg.Dir)
			before := hashTree(t, cfg.Dir)
			n := New(cfg, testLogger(t))
			err := n.Open(ctxT(t))
			n.Close(context.Background())
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("Open = %v, want ErrBadState", err)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("error does not name %s: %v", tc.mention, err)
			}
			if err := diffTrees(before, hashTree(t, cfg.Dir)); err != nil {
				t.Fatalf("failed Open modified the directory: %v", err)
			}
		})
	}
}

func TestOpenRefusesWrongNodeID(t *testing.T) {
	cfg := populated(t)
	cfg.NodeID = "someone-else"
	n := New(cfg, testLogger(t))
	defer n.Close(context.Background())
	if err := n.Open(ctxT(t)); !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), nodeIDFile) {
		t.Fatalf("Open with another node ID = %v", err)
	}
}

func TestOpenRestoresWhenSnapshotIsBehindOnlyByNoops(t *testing.T) {
	// A snapshot taken right after the election no-op and the barrier has an
	// index above fsm.db's; start-up must still not restore it.
	cfg := testConfig(t.TempDir())
	n := openNode(t, cfg)
	mustBucket(t, n, "b")
	putN(t, n, "b", 0, 5)
	closeNode(t, n)
	n = openNode(t, cfg) // appends a no-op and a barrier
	f := n.raft.Snapshot()
	if err := f.Error(); err != nil {
		t.Fatal(err)
	}
	meta, rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if applied := stats(t, n).AppliedIndex; meta.Index <= applied {
		t.Fatalf("snapshot index %d not above fsm.db's %d: the test does not test anything", meta.Index, applied)
	}
	closeNode(t, n)
	n = openNode(t, cfg)
	checkN(t, n, "b", 5)
	if got := n.fsm.appliedCommands.Load(); got != 0 {
		t.Fatalf("applied %d entries again", got)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
