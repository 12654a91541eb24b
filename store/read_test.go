package store

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenBlobRanges(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	b := content(5, 10_000)
	blob := mustPut(t, s, b)
	n := int64(len(b))
	for _, tc := range []struct {
		name        string
		off, length int64
		want        []byte
		err         error
	}{
		{"whole", 0, -1, b, nil},
		{"start", 0, 100, b[:100], nil},
		{"middle", 4000, 5000, b[4000:9000], nil},
		{"to end", 9000, -1, b[9000:], nil},
		{"last byte", n - 1, 1, b[n-1:], nil},
		{"empty range", 500, 0, nil, nil},
		{"empty at end", n, -1, nil, nil},
		{"off beyond size", n + 1, -1, nil, ErrInvalidRange},
		{"length beyond size", 9000, 1001, nil, ErrInvalidRange},
		{"negative offset", -1, 10, nil, ErrInvalidRange},
		{"bad length", 0, -2, nil, ErrInvalidRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readBlob(t, s, blob.Digest, blob.Size, tc.off, tc.length)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, want %d bytes of the blob", len(got), len(tc.want))
			}
			if err != nil {
				return
			}
			// io.Copy into a file goes through WriteTo, which hands the blob's file
			// to the destination (as net/http's sendfile path takes it).
			got = copyToFile(t, s, blob, tc.off, tc.length)
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("WriteTo: got %d bytes, want %d bytes of the blob", len(got), len(tc.want))
			}
		})
	}
}

// copyToFile copies a range of blob into a file with io.Copy and returns what the
// file holds.
func copyToFile(t *testing.T, s *Store, blob Blob, off, length int64) []byte {
	t.Helper()
	r, err := s.OpenBlob(testContext(t), blob.Digest, blob.Size, off, length)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "copy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		t.Fatalf("copy: %v", err)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenBlobNotFound(t *testing.T) {
	s := openStore(t, "")
	d := digestOf([]byte("never stored"))
	if _, err := readBlob(t, s, d, -1, 0, -1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenBlob = %v, want ErrNotFound", err)
	}
	if err := s.Verify(testContext(t), d, 12); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Verify = %v, want ErrNotFound", err)
	}
	if ok, err := s.Has(d); ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
}

// damage rewrites a committed (read-only) blob file in place.
func damage(t *testing.T, path string, f func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o444); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsDamage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		reason string
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 0x01; return b }, "content hashes to"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-10] }, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, "", smallBuffers)
			blob := mustPut(t, s, content(6, 20_000))
			path := blobFiles(t, s)[0]
			damage(t, path, tc.damage)
			err := s.Verify(testContext(t), blob.Digest, blob.Size)
			var ce *CorruptError
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
				t.Fatalf("Verify = %v, want a *CorruptError", err)
			}
			if ce.Path != path || ce.Digest != blob.Digest || !strings.Contains(ce.Reason, tc.reason) {
				t.Fatalf("CorruptError %+v: want path %s and reason containing %q", ce, path, tc.reason)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "fix:") {
				t.Fatalf("error %q does not name the file and the fix", msg)
			}
		})
	}
}

func TestOpenBlobTruncated(t *testing.T) {
	s := openStore(t, "")
	blob := mustPut(t, s, content(8, 5000))
	path := blobFiles(t, s)[0]
	damage(t, path, func(b []byte) []byte { return b[:4000] })
	_, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("OpenBlob of a truncated blob = %v, want a CorruptError naming %s", err, path)
	}
}

// TestReadShrinkingBlob covers a file truncated after OpenBlob checked its size:
// the reader must fail, not return a short body as if it were complete.
func TestReadShrinkingBlob(t *testing.T) {
	s := openStore(t, "")
	blob := mustPut(t, s, content(9, 5000))
	r, err := s.OpenBlob(testContext(t), blob.Digest, blob.Size, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := os.Truncate(blobFiles(t, s)[0], 100); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("read of a blob truncated mid-read = %v after %d bytes, want ErrCorrupt", err, buf.Len())
	}
	r2, err := s.OpenBlob(testContext(t), blob.Digest, 100, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if err := os.Truncate(blobFiles(t, s)[0], 10); err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, r2); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("WriteTo of a blob truncated mid-read = %v after %d bytes, want ErrCorrupt", err, n)
	}
}

// TestPutRepairsDamagedBlob: putting the content again replaces a truncated copy.
func TestPutRepairsDamagedBlob(t *testing.T) {
	s := openStore(t, "")
	b := content(10, 5000)
	blob := mustPut(t, s, b)
	damage(t, blobFiles(t, s)[0], func(b []byte) []byte { return b[:10] })
	mustPut(t, s, b)
	if err := s.Verify(testContext(t), blob.Digest, blob.Size); err != nil {
		t.Fatalf("verify after re-put: %v", err)
	}
}
