package store

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestCollect(t *testing.T) {
	s := openStore(t, "")
	kept := mustPut(t, s, []byte("referenced"))
	gone := mustPut(t, s, []byte("unreferenced"))
	pinned := mustPut(t, s, []byte("pinned"))
	s.Unpin(kept.Digest)
	s.Unpin(gone.Digest)

	// A stale orphan temp file, and a live writer's temp file made to look stale too.
	stale := filepath.Join(s.Dir(), "tmp", "stale.tmp")
	if err := os.WriteFile(stale, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := s.Create(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * DefaultTempMaxAge)
	for _, p := range []string{stale, w.path} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}

	st, err := s.Collect(testContext(t), func(_ context.Context, mark func(Digest)) error {
		mark(kept.Digest)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := CollectStats{BlobsScanned: 3, BlobsPinned: 1, BlobsDeleted: 1, BytesDeleted: gone.Size, TempsDeleted: 1}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	for d, present := range map[Digest]bool{kept.Digest: true, gone.Digest: false, pinned.Digest: true} {
		if ok, _ := s.Has(d); ok != present {
			t.Errorf("Has(%s) = %v after collect, want %v", d, ok, present)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp file survived collect: %v", err)
	}
	// The live writer's temp file survived: it can still commit.
	if _, err := w.Write([]byte("still mine")); err != nil {
		t.Fatal(err)
	}
	blob, err := w.Commit(testContext(t))
	if err != nil {
		t.Fatalf("commit after collect: %v", err)
	}
	if got, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1); err != nil || string(got) != "still mine" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if n, bytes, err := s.Usage(testContext(t)); err != nil || n != 3 || bytes != kept.Size+pinned.Size+blob.Size {
		t.Fatalf("Usage = %d blobs, %d bytes, %v", n, bytes, err)
	}
}

// index plays the journal: reference counts per digest.
type index struct {
	mu   sync.Mutex
	refs map[Digest]int
}

func (ix *index) add(d Digest, n int) {
	ix.mu.Lock()
	ix.refs[d] += n
	if ix.refs[d] == 0 {
		delete(ix.refs, d)
	}
	ix.mu.Unlock()
}

// mark reports the referenced digests from one consistent view.
func (ix *index) mark(_ context.Context, mark func(Digest)) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for d, n := range ix.refs {
		if n > 0 {
			mark(d)
		}
	}
	return nil
}

// TestCollectRacesWriters runs writers of overlapping content against a collector
// that runs non-stop. Every writer follows the caller protocol (Put, journal the
// reference, Unpin) and drops references again, so that blobs keep becoming garbage
// while other writers dedup against them. A blob that is read back wrong or missing
// while referenced means Collect deleted something a Commit had claimed.
func TestCollectRacesWriters(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	ix := &index{refs: map[Digest]int{}}
	const writers, rounds, contents = 6, 150, 5
	payloads := make([][]byte, contents)
	for i := range payloads {
		payloads[i] = content(uint64(100+i), 1000+i*3000) // some inline, some pipelined
	}

	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	var collects int
	collectorDone := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if _, err := s.Collect(ctx, ix.mark); err != nil && ctx.Err() == nil {
				collectorDone <- err
				return
			}
			collects++
		}
		collectorDone <- nil
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			var held []Digest
			for range rounds {
				p := payloads[r.IntN(contents)]
				blob, err := s.Put(ctx, bytes.NewReader(p))
				if err != nil {
					errs <- err
					return
				}
				runtime.Gosched() // widen the window between Commit and journaling
				ix.add(blob.Digest, 1)
				s.Unpin(blob.Digest)
				held = append(held, blob.Digest)
				got, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1)
				if err != nil || !bytes.Equal(got, p) {
					errs <- err
					t.Errorf("referenced blob %s unreadable or wrong after Put: %v", blob.Digest, err)
					return
				}
				if len(held) > 2 { // drop the oldest reference: its blob may become garbage
					ix.add(held[0], -1)
					held = held[1:]
				}
			}
			for _, d := range held {
				ix.add(d, -1)
			}
		}()
	}
	wg.Wait()
	cancel()
	if err := <-collectorDone; err != nil {
		t.Fatalf("collect: %v", err)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	if collects == 0 {
		t.Fatal("collector never completed a pass")
	}
	// All references dropped and all pins released: a final pass empties the store.
	if _, err := s.Collect(testContext(t), ix.mark); err != nil {
		t.Fatal(err)
	}
	if f := blobFiles(t, s); len(f) != 0 {
		t.Fatalf("blobs left after all references dropped: %v", f)
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp files left: %v", f)
	}
	t.Logf("%d collect passes during %d puts", collects, writers*rounds)
}

func TestRunCollector(t *testing.T) {
	s := openStore(t, "")
	s.CollectInterval = 10 * time.Millisecond
	blob := mustPut(t, s, []byte("orphan"))
	s.Unpin(blob.Digest)
	done := make(chan error, 1)
	go func() {
		done <- s.RunCollector(testContext(t), func(context.Context, func(Digest)) error { return nil })
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := s.Has(blob.Digest); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RunCollector did not remove an unreferenced blob")
		}
	}
	if err := s.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunCollector after Close = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunCollector did not stop on Close")
	}
}
