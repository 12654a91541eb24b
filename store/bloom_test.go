package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
)

func testDigest(i int) Digest { return sha256.Sum256(binary.LittleEndian.AppendUint64(nil, uint64(i))) }

// TestBloomNoFalseNegatives: a digest that was added is always reported (a
// false negative would delete a referenced blob), and the false positive rate
// at the sized count stays near its design (0.3%).
func TestBloomNoFalseNegatives(t *testing.T) {
	const n = 200_000
	b := newBloom(n)
	for i := range n {
		b.add(testDigest(i))
	}
	for i := range n {
		if !b.mayContain(testDigest(i)) {
			t.Fatalf("digest %d added but not reported", i)
		}
	}
	fp := 0
	for i := n; i < 2*n; i++ {
		if b.mayContain(testDigest(i)) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.01 {
		t.Fatalf("false positive rate %.4f, want < 1%%", rate)
	}
	if b.overfull() {
		t.Fatal("a filter holding its sized count reports itself overfull")
	}
}

// TestCollectKeepsBlobsPinnedDuringMark: the reference to a blob pinned when
// Collect begins is journaled, and the pin released, after the mark's view was
// taken. The sweep must keep the blob; so must it for a blob Put and released
// entirely during the mark.
func TestCollectKeepsBlobsPinnedDuringMark(t *testing.T) {
	s := openStore(t, "")
	early := mustPut(t, s, []byte("pinned before the collection began"))
	garbage := mustPut(t, s, []byte("garbage"))
	s.Unpin(garbage.Digest)
	var during Blob
	st, err := s.Collect(testContext(t), func(ctx context.Context, mark func(Digest)) error {
		// The view is taken here: it holds no reference to either blob.
		s.Unpin(early.Digest) // its reference is journaled after the view
		var err error
		during, err = s.Put(ctx, bytes.NewReader([]byte("put while marking")))
		s.Unpin(during.Digest)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[Digest]bool{early.Digest: true, during.Digest: true, garbage.Digest: false} {
		if ok, _ := s.Has(d); ok != want {
			t.Errorf("Has(%s) = %v after collect, want %v", d, ok, want)
		}
	}
	if st.BlobsDeleted != 1 {
		t.Fatalf("stats %+v, want exactly the garbage blob deleted", st)
	}
	// Nothing pins them any more: the next collection takes all three.
	if _, err := s.Collect(testContext(t), func(context.Context, func(Digest)) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if f := blobFiles(t, s); len(f) != 0 {
		t.Fatalf("blobs left: %v", f)
	}
}

// TestCollectMarkErrorDeletesNothing: a mark that fails (an unreadable index)
// must not be taken as "nothing is referenced".
func TestCollectMarkErrorDeletesNothing(t *testing.T) {
	s := openStore(t, "")
	b := mustPut(t, s, []byte("referenced, but the index cannot say so"))
	s.Unpin(b.Digest)
	_, err := s.Collect(testContext(t), func(context.Context, func(Digest)) error { return errors.New("index unreadable") })
	if err == nil {
		t.Fatal("Collect succeeded although the mark failed")
	}
	if ok, _ := s.Has(b.Digest); !ok {
		t.Fatal("a failed mark deleted a blob")
	}
}

// TestCollectResizesAnOverfullFilter: the first collection of a store with
// more references than the default filter holds marks again at the right
// size, so it still deletes garbage.
func TestCollectResizesAnOverfullFilter(t *testing.T) {
	s := openStore(t, "")
	garbage := mustPut(t, s, []byte("garbage among many references"))
	s.Unpin(garbage.Digest)
	marks := 0
	many := func(_ context.Context, mark func(Digest)) error {
		marks++
		for i := range 3 * bloomMinDigests {
			mark(testDigest(i))
		}
		return nil
	}
	// A false positive (0.3%) keeps the garbage for one pass; new seeds
	// each pass make three in a row a one-in-ten-million event.
	for pass := 1; ; pass++ {
		if _, err := s.Collect(testContext(t), many); err != nil {
			t.Fatal(err)
		}
		if pass == 1 && marks != 2 {
			t.Fatalf("the first collection marked %d times, want 2 (once more at the right size)", marks)
		}
		if ok, _ := s.Has(garbage.Digest); !ok {
			break
		}
		if pass == 3 {
			t.Fatal("garbage survived three collections sized for their references")
		}
	}
}

// TestPinProtectsAnExistingBlob: a blob pinned by a server-side copy survives a
// collection that no longer reports it, until Unpin; a missing blob cannot be pinned.
func TestPinProtectsAnExistingBlob(t *testing.T) {
	s := openStore(t, "")
	b := mustPut(t, s, []byte("the source of a copy"))
	s.Unpin(b.Digest)
	if err := s.Pin(b.Digest); err != nil {
		t.Fatal(err)
	}
	none := func(context.Context, func(Digest)) error { return nil }
	if _, err := s.Collect(testContext(t), none); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(b.Digest); !ok {
		t.Fatal("a pinned blob was collected")
	}
	s.Unpin(b.Digest)
	if _, err := s.Collect(testContext(t), none); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Has(b.Digest); ok {
		t.Fatal("an unpinned, unreferenced blob survived")
	}
	if err := s.Pin(b.Digest); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Pin of a collected blob = %v, want ErrNotFound", err)
	}
}
