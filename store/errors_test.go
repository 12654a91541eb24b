package store

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// assertNotWritable checks the one error a user sees for a bad data directory.
func assertNotWritable(t *testing.T, err error, dir string) {
	t.Helper()
	if !errors.Is(err, ErrNotWritable) {
		t.Fatalf("Open(%s) = %v, want ErrNotWritable", dir, err)
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || !strings.Contains(msg, "fix:") {
		t.Fatalf("error %q does not name %s and the fix", msg, dir)
	}
}

func TestOpenParentIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(file, "data") // not creatable, even by root
	err := New(dir, zerolog.Nop()).Open(testContext(t))
	assertNotWritable(t, err, dir)
}

func TestOpenReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes through mode 0500; the read-only mount case is TestOpenReadOnlyMount (-tags root)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	data := filepath.Join(dir, "data")
	assertNotWritable(t, New(data, zerolog.Nop()).Open(testContext(t)), data)
}

// TestOpenWriteProbeFails injects the failure a read-only mount gives, which
// permission bits do not reveal.
func TestOpenWriteProbeFails(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, zerolog.Nop())
	s.writeProbe = func(d string) error {
		return &fs.PathError{Op: "open", Path: filepath.Join(d, "write-probe.tmp"), Err: syscall.EROFS}
	}
	err := s.Open(testContext(t))
	assertNotWritable(t, err, dir)
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("error %v lost its cause", err)
	}
	// The lock was released: a store with a working probe opens the same directory.
	openStore(t, dir)
}

func TestProbeWritable(t *testing.T) {
	dir := t.TempDir()
	if err := probeWritable(dir); err != nil {
		t.Fatalf("probe of a writable dir: %v", err)
	}
	if n := dirNames(t, dir); len(n) != 0 {
		t.Fatalf("probe left files: %v", n)
	}
	if err := probeWritable(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("probe of a missing dir succeeded")
	}
}

// TestNoSpaceInjected makes the file write fail with ENOSPC part way through a
// multi-chunk blob (the real thing is TestNoSpaceTmpfs, -tags root).
func TestNoSpaceInjected(t *testing.T) {
	for _, n := range []int{100, 50_000} { // inline and pipelined write paths
		s := openStore(t, "", smallBuffers)
		var written int
		s.fileWrite = func(f *os.File, p []byte) (int, error) {
			if written+len(p) > 20_000 || len(p) < 4096 {
				return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
			}
			written += len(p)
			return f.Write(p)
		}
		_, err := s.Put(testContext(t), bytes.NewReader(content(11, n)))
		if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Put of %d bytes on a full disk = %v, want ErrNoSpace", n, err)
		}
		if f := tempFiles(t, s); len(f) != 0 {
			t.Fatalf("temp files after ENOSPC: %v", f)
		}
		if f := blobFiles(t, s); len(f) != 0 {
			t.Fatalf("blobs after ENOSPC: %v", f)
		}
	}
}
