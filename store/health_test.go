package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckWritable: an open store with its temp directory passes and
// leaves nothing behind; one whose directory is gone, or that is closed,
// fails, which turns /readyz to "not ready" and stops the watchdog.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := testContext(t)
	if err := s.CheckWritable(ctx); err != nil {
		t.Fatalf("open store: %v", err)
	}
	if left := tempFiles(t, s); len(left) != 0 {
		t.Fatalf("the probe left %v", left)
	}
	tmp := filepath.Join(dir, tmpDirName)
	if err := os.Rename(tmp, tmp+".away"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(ctx); err == nil {
		t.Fatal("a store without its temp directory passed")
	}
	if err := os.Rename(tmp+".away", tmp); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckWritable(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed store: %v, want ErrClosed", err)
	}
}
