//go:build root

package queue

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestFullDiskReserve fills a real 16 MiB tmpfs under a node, then keeps
// journaling objects: raft-wal's next segment and fsm.db's commits hit
// ENOSPC. The node must release its reserve instead of stopping, refuse
// new objects with ErrNoSpace, keep every acknowledged command (read back
// now and after a restart), accept deletes, and take objects again,
// without a restart, once space is freed outside it.
func TestFullDiskReserve(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	cfg := testConfig(filepath.Join(mnt, "journal"))
	cfg.SegmentSize, cfg.MaxBatchBytes = 1<<20, 256<<10
	cfg.ReserveBytes, cfg.ReserveCheckInterval = 4<<20, 50*time.Millisecond
	failed := make(chan error, 1)
	cfg.OnFailure = func(err error) { failed <- err }
	n := openNode(t, cfg)
	mustBucket(t, n, "b")

	filler := filepath.Join(mnt, "filler")
	fill(t, filler)

	var acked []Object
	var err error
	for i := 0; i < 20000 && err == nil; i++ {
		o := testObject("b", fmt.Sprintf("k%05d", i), fmt.Sprintf("content %d", i))
		if err = n.PutObject(ctxT(t), o); err == nil {
			acked = append(acked, o)
		}
	}
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("PutObject on a full disk after %d objects: %v, want ErrNoSpace", len(acked), err)
	}
	if !errors.Is(n.SpaceError(), ErrNoSpace) {
		t.Fatalf("SpaceError on a full disk: %v", n.SpaceError())
	}
	t.Logf("%d objects journaled before ErrNoSpace", len(acked))
	checkObjects := func(n *Node, want []Object) {
		t.Helper()
		for _, o := range want {
			got, err := n.Object("b", o.Key)
			if err != nil || got.Blob != o.Blob {
				t.Fatalf("object %s: %+v, %v", o.Key, got, err)
			}
		}
	}
	checkObjects(n, acked)
	for _, o := range acked[:10] {
		if err := n.DeleteObject(ctxT(t), "b", o.Key, NewVersionID(time.Now())); err != nil {
			t.Fatalf("delete on a full disk: %v", err)
		}
	}
	acked = acked[10:]
	if err := n.Healthy(); err != nil {
		t.Fatalf("Healthy on a full disk: %v", err)
	}

	os.Remove(filler)
	deadline := time.Now().Add(10 * time.Second)
	for n.SpaceError() != nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	after := testObject("b", "after", "after the disk was freed")
	if err := n.PutObject(ctxT(t), after); err != nil {
		t.Fatalf("PutObject once space is freed: %v", err)
	}
	acked = append(acked, after)
	closeNode(t, n)
	select {
	case err := <-failed:
		t.Fatalf("OnFailure called for a full disk: %v", err)
	default:
	}

	n = openNode(t, cfg)
	checkObjects(n, acked)
	if _, err := n.Object("b", "k00000"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("deleted object after a restart: %v", err)
	}
}

// fill writes path until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{1 << 20, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
}
