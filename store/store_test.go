package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	for i, n := range []int{0, 1, 100, 4095, 4096, 4097, 3 * 4096, 10*4096 + 17, 1 << 20} {
		b := content(uint64(i), n)
		blob := mustPut(t, s, b)
		got, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1)
		if err != nil {
			t.Fatalf("read back %d bytes: %v", n, err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("read back %d bytes: content differs", n)
		}
		if ok, err := s.Has(blob.Digest); !ok || err != nil {
			t.Fatalf("Has(%s) = %v, %v after Put", blob.Digest, ok, err)
		}
		if err := s.Verify(testContext(t), blob.Digest, blob.Size); err != nil {
			t.Fatalf("verify %d bytes: %v", n, err)
		}
	}
	if n := tempFiles(t, s); len(n) != 0 {
		t.Fatalf("temp files left after puts: %v", n)
	}
}

func TestWriterOddWrites(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	b := content(7, 50_000)
	w, err := s.Create(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	extra := md5.New() // the S3 layer tees its own checksums like this
	for p, step := b, 1; len(p) > 0; step = step*3 + 1 {
		k := min(step%9000+1, len(p))
		if n, err := io.MultiWriter(w, extra).Write(p[:k]); n != k || err != nil {
			t.Fatalf("write %d bytes: %d, %v", k, n, err)
		}
		p = p[k:]
	}
	if w.Size() != int64(len(b)) {
		t.Fatalf("Size() = %d, want %d", w.Size(), len(b))
	}
	blob, err := w.Commit(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if blob.Digest != digestOf(b) || !bytes.Equal(blob.MD5[:], extra.Sum(nil)) {
		t.Fatalf("commit: got %+v, want digest %s", blob, digestOf(b))
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort after commit: %v", err)
	}
	got, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("read back: %v, equal=%v", err, bytes.Equal(got, b))
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after commit succeeded")
	}
}

func TestBlobLayoutAndMode(t *testing.T) {
	s := openStore(t, "")
	blob := mustPut(t, s, []byte("layout"))
	h := blob.Digest.String()
	path := filepath.Join(s.Dir(), "blobs", h[:2], h[2:4], h)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("blob not at %s: %v", path, err)
	}
	if st.Mode().Perm() != 0o400 {
		t.Fatalf("blob mode %v, want 0400", st.Mode().Perm())
	}
}

func TestDedupPinsCounted(t *testing.T) {
	s := openStore(t, "")
	b := content(1, 10_000)
	first := mustPut(t, s, b)
	second := mustPut(t, s, b)
	if first != second {
		t.Fatalf("same content gave %+v and %+v", first, second)
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Fatalf("two puts of one content stored %d files: %v", len(files), files)
	}
	nothing := func(context.Context, func(Digest)) error { return nil }
	collectAndCheck := func(wantPresent bool) {
		t.Helper()
		if _, err := s.Collect(testContext(t), nothing); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.Has(first.Digest); ok != wantPresent {
			t.Fatalf("Has after collect = %v, want %v", ok, wantPresent)
		}
	}
	collectAndCheck(true)
	s.Unpin(first.Digest)
	collectAndCheck(true) // the second Put still holds a pin
	s.Unpin(first.Digest)
	collectAndCheck(false)
}

func TestAbortLeavesNothing(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	for _, n := range []int{10, 4096 * 5} { // inline path and pipeline path
		w, err := s.Create(testContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(content(2, n)); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("abort: %v", err)
		}
		if _, err := w.Commit(testContext(t)); err == nil {
			t.Fatal("commit after abort succeeded")
		}
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp files after abort: %v", f)
	}
	if f := blobFiles(t, s); len(f) != 0 {
		t.Fatalf("blobs after abort: %v", f)
	}
}

// cancelAfter yields endless data and cancels its context after limit bytes.
type cancelAfter struct {
	cancel context.CancelFunc
	limit  int
	n      int
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c.n + i)
	}
	c.n += len(p)
	if c.n > c.limit {
		c.cancel()
	}
	return len(p), nil
}

func TestPutCancelledMidStream(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	ctx, cancel := context.WithCancel(testContext(t))
	_, err := s.Put(ctx, &cancelAfter{cancel: cancel, limit: 100_000})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled context: %v, want context.Canceled", err)
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp files after cancelled put: %v", f)
	}
	if f := blobFiles(t, s); len(f) != 0 {
		t.Fatalf("blobs after cancelled put: %v", f)
	}
}

func TestPutReaderError(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	boom := errors.New("client went away")
	r := io.MultiReader(bytes.NewReader(content(3, 20_000)), &errReader{boom})
	if _, err := s.Put(testContext(t), r); !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want %v", err, boom)
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp files after failed put: %v", f)
	}
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

// TestLeftoverTempInvisibleAndRemoved plays a crash: a previous run left a temp file
// holding complete content and one holding a prefix. Neither may be visible, and
// Open removes both.
func TestLeftoverTempInvisibleAndRemoved(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	b := content(4, 30_000)
	if err := s.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"full.tmp": b, "partial.tmp": b[:1000], "odd-name": nil} {
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = openStore(t, dir)
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("Open left temp files: %v", f)
	}
	for _, d := range []Digest{digestOf(b), digestOf(b[:1000])} {
		if ok, err := s.Has(d); ok || err != nil {
			t.Fatalf("Has(%s) = %v, %v for content only in a leftover temp file", d, ok, err)
		}
		if _, err := readBlob(t, s, d, -1, 0, -1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("OpenBlob of a leftover temp's content = %v, want ErrNotFound", err)
		}
	}
}

func TestSecondOpenLocked(t *testing.T) {
	dir := t.TempDir()
	openStore(t, dir)
	other := New(dir, openStore(t, "").Logger)
	if err := other.Open(testContext(t)); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open of %s = %v, want ErrLocked", dir, err)
	}
}

func TestClosedStore(t *testing.T) {
	s := openStore(t, "")
	if err := s.Close(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(testContext(t), bytes.NewReader(nil)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put on closed store = %v, want ErrClosed", err)
	}
}

// TestPutVerified: content that hashes to the expected digest is stored as Put
// stores it; anything else is refused with ErrDigestMismatch and leaves nothing.
func TestPutVerified(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	good := content(21, 50_000)
	blob, err := s.PutVerified(testContext(t), bytes.NewReader(good), digestOf(good))
	if err != nil || blob.Digest != digestOf(good) || blob.Size != int64(len(good)) {
		t.Fatalf("PutVerified of matching content = %+v, %v", blob, err)
	}
	s.Unpin(blob.Digest)
	if got, err := readBlob(t, s, blob.Digest, blob.Size, 0, -1); err != nil || !bytes.Equal(got, good) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	for _, n := range []int{10, 50_000} {
		bad := content(22, n)
		_, err := s.PutVerified(testContext(t), bytes.NewReader(bad), digestOf(good))
		if !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("PutVerified of %d other bytes = %v, want ErrDigestMismatch", n, err)
		}
		if ok, _ := s.Has(digestOf(bad)); ok {
			t.Fatalf("mismatching content of %d bytes was stored", n)
		}
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Fatalf("blob files %v, want only the matching one", files)
	}
	if temps := tempFiles(t, s); len(temps) != 0 {
		t.Fatalf("temp files left: %v", temps)
	}
}

// TestPutExpectedMD5: PutExpected checks a claimed MD5 (a Content-MD5) with
// the MD5 the store computes anyway, alone or with a SHA-256: matching content
// is stored, anything else is refused with ErrMD5Mismatch and leaves nothing,
// and a wrong SHA-256 is still reported as such.
func TestPutExpectedMD5(t *testing.T) {
	s := openStore(t, "", smallBuffers)
	good := content(23, 300_000)
	sum := md5.Sum(good)
	sha := digestOf(good)
	for _, e := range []Expected{{MD5: sum[:]}, {MD5: sum[:], SHA256: &sha}} {
		blob, err := s.PutExpected(testContext(t), bytes.NewReader(good), e)
		if err != nil || blob.Digest != sha || blob.MD5 != sum {
			t.Fatalf("PutExpected of matching content = %+v, %v", blob, err)
		}
		s.Unpin(blob.Digest)
	}
	bad := content(24, 300_000)
	if _, err := s.PutExpected(testContext(t), bytes.NewReader(bad), Expected{MD5: sum[:]}); !errors.Is(err, ErrMD5Mismatch) {
		t.Fatalf("PutExpected of other bytes = %v, want ErrMD5Mismatch", err)
	}
	badSum := md5.Sum(bad)
	if _, err := s.PutExpected(testContext(t), bytes.NewReader(bad), Expected{MD5: badSum[:], SHA256: &sha}); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("PutExpected with the right MD5 and a wrong SHA-256 = %v, want ErrDigestMismatch", err)
	}
	if ok, _ := s.Has(digestOf(bad)); ok {
		t.Fatal("mismatching content was stored")
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Fatalf("blob files %v, want only the matching one", files)
	}
	if temps := tempFiles(t, s); len(temps) != 0 {
		t.Fatalf("temp files left: %v", temps)
	}
	if got, err := readBlob(t, s, sha, int64(len(good)), 0, -1); err != nil || !bytes.Equal(got, good) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}
