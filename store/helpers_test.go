package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// testTimeout bounds every test's context.
const testTimeout = 60 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// openStore opens a store in dir (a fresh temp dir when empty) and closes it at cleanup.
// tune adjusts tunables before Open.
func openStore(t testing.TB, dir string, tune ...func(*Store)) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s := New(dir, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	for _, f := range tune {
		f(s)
	}
	if err := s.Open(testContext(t)); err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// smallBuffers makes multi-chunk blobs cheap, so that tests exercise the pipeline.
func smallBuffers(s *Store) { s.BufferSize = 4096; s.Buffers = 3 }

// content returns n deterministic pseudo-random bytes.
func content(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func digestOf(b []byte) Digest { return sha256.Sum256(b) }

func mustPut(t testing.TB, s *Store, b []byte) Blob {
	t.Helper()
	blob, err := s.Put(testContext(t), bytes.NewReader(b))
	if err != nil {
		t.Fatalf("put %d bytes: %v", len(b), err)
	}
	if blob.Digest != digestOf(b) || blob.MD5 != md5.Sum(b) || blob.Size != int64(len(b)) {
		t.Fatalf("put %d bytes: got blob %+v, want digest %x md5 %x", len(b), blob, digestOf(b), md5.Sum(b))
	}
	return blob
}

func readBlob(t testing.TB, s *Store, d Digest, size, off, length int64) ([]byte, error) {
	t.Helper()
	r, err := s.OpenBlob(testContext(t), d, size, off, length)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// dirNames lists a directory's entries (empty if it does not exist).
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatalf("list %s: %v", dir, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// tempFiles lists the temp files and the staged files.
func tempFiles(t testing.TB, s *Store) []string {
	var files []string
	for _, name := range dirNames(t, filepath.Join(s.Dir(), tmpDirName)) {
		if name != stagingDirName {
			files = append(files, name)
		}
	}
	for _, sub := range dirNames(t, filepath.Join(s.Dir(), tmpDirName, stagingDirName)) {
		files = append(files, dirNames(t, filepath.Join(s.Dir(), tmpDirName, stagingDirName, sub))...)
	}
	return files
}

// blobFiles lists every file under blobs/.
func blobFiles(t testing.TB, s *Store) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(s.Dir(), blobsDirName), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk blobs: %v", err)
	}
	return files
}

// noFilesLeft fails the test if any blob, temp or staged file is left.
func noFilesLeft(t testing.TB, s *Store, after string) {
	t.Helper()
	if f := blobFiles(t, s); len(f) != 0 {
		t.Fatalf("blobs after %s: %v", after, f)
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp or staged files after %s: %v", after, f)
	}
}
