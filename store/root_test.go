//go:build root

package store

import (
	"bytes"
	"errors"
	"os/exec"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// mountTmpfs mounts a small tmpfs (root only) and unmounts it at cleanup.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

func TestNoSpaceTmpfs(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	s := New(dir, zerolog.Nop())
	if err := s.Open(testContext(t)); err != nil {
		t.Fatal(err)
	}
	defer s.Close(testContext(t))
	_, err := s.Put(testContext(t), bytes.NewReader(content(12, 8<<20)))
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Put of 8 MiB into a 4 MiB tmpfs = %v, want ErrNoSpace", err)
	}
	if f := tempFiles(t, s); len(f) != 0 {
		t.Fatalf("temp files after ENOSPC: %v", f)
	}
	// The space was given back: a blob that fits goes in.
	mustPut(t, s, content(13, 2<<20))
}

func TestOpenReadOnlyMount(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	s := New(dir, zerolog.Nop())
	if err := s.Open(testContext(t)); err != nil {
		t.Fatal(err)
	}
	s.Close(testContext(t))
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v: %s", err, out)
	}
	assertNotWritable(t, New(dir, zerolog.Nop()).Open(testContext(t)), dir)
}
