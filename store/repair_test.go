package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// flipByte changes one byte of blob d's file in place, as a failing disk would.
func flipByte(t *testing.T, s *Store, d Digest, at int64) {
	t.Helper()
	path := blobPath(s.blobs, d)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	f.ReadAt(b, at)
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, blobMode)
}

// TestRepair: a blob with a flipped byte (same size, so a Put of the right
// bytes would keep it as a duplicate) is replaced by Repair and verifies
// again; wrong bytes are refused and change nothing.
func TestRepair(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	ctx := testContext(t)
	data := content(7, 3*4096+17)
	b := mustPut(t, s, data)
	s.Unpin(b.Digest)
	flipByte(t, s, b.Digest, 5000)
	if err := s.Verify(ctx, b.Digest, b.Size); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("verify after a flipped byte: %v, want ErrCorrupt", err)
	}
	if _, err := s.Put(ctx, bytes.NewReader(data)); err != nil { // dedup keeps the damaged file
		t.Fatal(err)
	}
	s.Unpin(b.Digest)
	other := append([]byte(nil), data...)
	other[0] ^= 1
	if _, err := s.Repair(ctx, b.Digest, bytes.NewReader(other)); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("repair with other bytes: %v, want ErrDigestMismatch", err)
	}
	if err := s.Verify(ctx, b.Digest, b.Size); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a refused repair changed the blob: verify %v", err)
	}
	n, err := s.Repair(ctx, b.Digest, bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("repair: %d bytes, %v", n, err)
	}
	if err := s.Verify(ctx, b.Digest, b.Size); err != nil {
		t.Fatalf("verify after repair: %v", err)
	}
	rc, err := s.OpenBlob(ctx, b.Digest, b.Size, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) {
		t.Fatal("the repaired blob does not read back its bytes")
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp files after repairs: %v", f)
	}
	if f := blobFiles(t, s); len(f) != 1 {
		t.Fatalf("blob files after repairs: %v, want the one", f)
	}
}

// TestBlobsResumes: the walk is in digest order and resumes after a digest.
func TestBlobsResumes(t *testing.T) {
	s := openStore(t, "")
	ctx := testContext(t)
	var all []Digest
	for i := range 40 {
		b := mustPut(t, s, content(uint64(i), 100+i))
		s.Unpin(b.Digest)
	}
	if err := s.Blobs(ctx, nil, func(d Digest, size int64) error { all = append(all, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 40 {
		t.Fatalf("walked %d blobs, want 40", len(all))
	}
	for i := 1; i < len(all); i++ {
		if bytes.Compare(all[i-1][:], all[i][:]) >= 0 {
			t.Fatalf("walk not in digest order at %d", i)
		}
	}
	var rest []Digest
	if err := s.Blobs(ctx, &all[16], func(d Digest, _ int64) error { rest = append(rest, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(rest) != 23 || rest[0] != all[17] {
		t.Fatalf("resumed walk: %d blobs from %v, want 23 from %v", len(rest), rest[0], all[17])
	}
}
