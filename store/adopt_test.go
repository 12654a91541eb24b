package store

import (
	"bytes"
	"crypto/md5"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestAdopt: a file the caller hashed becomes the blob by rename, read-only and
// readable at its address; a second identical file is dropped, not renamed
// over the first; a file of the wrong size is refused.
func TestAdopt(t *testing.T) {
	s := openStore(t, "")
	ctx := testContext(t)
	b := content(3, 100_000)
	blob := Blob{Digest: digestOf(b), MD5: md5.Sum(b), Size: int64(len(b))}
	outside := t.TempDir()
	for i := range 2 {
		path := filepath.Join(outside, "part")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Adopt(ctx, path, blob); err != nil {
			t.Fatalf("adopt #%d: %v", i+1, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("adopt #%d: the file is still at %s: %v", i+1, path, err)
		}
		got, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("read the adopted blob: %v (equal %v)", err, bytes.Equal(got, b))
		}
	}
	info, err := os.Stat(blobPath(s.blobs, blob.Digest))
	if err != nil || info.Mode().Perm() != blobMode {
		t.Fatalf("adopted blob: %v, mode %v, want %v", err, info.Mode().Perm(), os.FileMode(blobMode))
	}
	if err := s.Verify(ctx, blob.Digest, blob.Size); err != nil {
		t.Fatalf("verify the adopted blob: %v", err)
	}

	short := filepath.Join(outside, "short")
	os.WriteFile(short, b[:10], 0o600)
	if err := s.Adopt(ctx, short, Blob{Digest: digestOf(b[:11]), Size: 11}); err == nil {
		t.Fatal("adopting a file of the wrong size succeeded")
	}
	if _, err := os.Stat(short); err != nil {
		t.Fatalf("a refused file was removed: %v", err)
	}
	if n := tempFiles(t, s); len(n) != 0 {
		t.Fatalf("temp files left: %v", n)
	}
}
