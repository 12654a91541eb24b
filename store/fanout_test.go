package store

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
)

// TestConcurrentPutsShareFanout: many writers filling the same fresh fan-out
// directories at once all end up with readable blobs, before and after a reopen,
// and putting the same content again after the reopen reuses them.
func TestConcurrentPutsShareFanout(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	const writers, perWriter = 16, 40
	blobs := make([][]byte, writers*perWriter)
	for i := range blobs {
		blobs[i] = content(uint64(i), 100+i)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(blobs); i += writers {
				b, err := s.Put(testContext(t), bytes.NewReader(blobs[i]))
				if err != nil {
					t.Errorf("put %d: %v", i, err)
					return
				}
				s.Unpin(b.Digest)
			}
		})
	}
	wg.Wait()
	check := func(s *Store) {
		t.Helper()
		for i, want := range blobs {
			got, err := readBlob(t, s, digestOf(want), int64(len(want)), 0, -1)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("blob %d: read %d bytes, err %v; want %d bytes", i, len(got), err, len(want))
			}
		}
	}
	check(s)
	if err := s.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	check(s)
	for i := range 20 {
		s.Unpin(mustPut(t, s, blobs[i]).Digest)
	}
	if n := len(blobFiles(t, s)); n != len(blobs) {
		t.Fatalf("%d blob files, want %d", n, len(blobs))
	}
	if temps := tempFiles(t, s); len(temps) != 0 {
		t.Fatalf("temp files left: %v", temps)
	}
}

// TestFanoutTrust: a directory another Commit has created but whose parent it has
// not fsynced yet is fsynced again by whoever finds it; one that existed before
// (or whose creator finished) is trusted as it is.
func TestFanoutTrust(t *testing.T) {
	root := t.TempDir()
	var f fanoutDirs
	f.reset()
	dir := filepath.Join(root, "d")
	var a, b, c, d fanoutPlan
	if err := f.prepare(&a, 1, dir, root); err != nil || a.n != 1 || !a.created[0] {
		t.Fatalf("creator: plan %+v, err %v; want one created directory to sync", a, err)
	}
	if err := f.prepare(&b, 1, dir, root); err != nil || b.n != 1 || b.created[0] {
		t.Fatalf("second while the creator has not synced: plan %+v, err %v; want its own parent fsync", b, err)
	}
	if err := f.finish(a); err != nil {
		t.Fatal(err)
	}
	if err := f.finish(b); err != nil {
		t.Fatal(err)
	}
	if err := f.prepare(&c, 1, dir, root); err != nil || c.n != 0 {
		t.Fatalf("after the creator synced: plan %+v, err %v; want nothing to do", c, err)
	}
	f.reset() // as after a reopen: the directory exists and nobody is creating it
	if err := f.prepare(&d, 1, dir, root); err != nil || d.n != 0 || !f.isDurable(1) {
		t.Fatalf("existing at open: plan %+v, err %v, durable %v; want trusted", d, err, f.isDurable(1))
	}
}
