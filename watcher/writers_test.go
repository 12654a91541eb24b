package watcher

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWriterPause: a writer that stops half-way for many quiet windows, with the
// file open, must not get a half-written object.
func TestWriterPause(t *testing.T) {
	t.Run("close-write events", func(t *testing.T) {
		// Without the lease probe: inotify's close-write alone must hold the file back.
		pausedWriter(t, 8, 1500*time.Millisecond, testWindow, func(w *Watcher) { w.probeWriters = false })
	})
	t.Run("lease probe without events", func(t *testing.T) {
		// A tree the watcher cannot watch (watch limit): no events at all, polled;
		// the kernel's answer to the lease probe alone must hold the file back.
		pausedWriter(t, 8, 1500*time.Millisecond, testWindow, func(w *Watcher) {
			w.addWatch = func(dir string) error { return fmt.Errorf("inotify_add_watch %s: %w", dir, syscall.ENOSPC) }
		})
	})
}

// pausedWriter writes a file of mib MiB, pausing for pause half-way with the file
// open, while HEAD is polled throughout: no size but the full one may ever show,
// and the full object must appear within the quiet window (plus the time to read
// it) after the close.
func pausedWriter(t *testing.T, mib int, pause, window time.Duration, tune func(*Watcher)) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	cfg := folderCfg(drop, "paused")
	cfg.Folders[0].QuietWindow = window
	r := startWatcher(t, a, cfg, tune)
	waitIdle(t, r)

	size := int64(mib) << 20
	var (
		mu     sync.Mutex
		seen   = map[int64]int{} // sizes HEAD reported, and how often
		stop   = make(chan struct{})
		polled = make(chan struct{})
	)
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(pollInterval):
			}
			if n, err := headSize(a, "paused", "big.bin"); err == nil {
				mu.Lock()
				seen[n]++
				mu.Unlock()
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		<-polled
	}()

	f, err := os.Create(filepath.Join(drop, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	chunk := make([]byte, 1<<20)
	write := func(n int) {
		for range n {
			rand.Read(chunk)
			if _, err := f.Write(chunk); err != nil {
				t.Fatal(err)
			}
			h.Write(chunk)
		}
	}
	write(mib / 2)
	time.Sleep(pause) // open, half-written, and quiet for many windows
	mu.Lock()
	during := len(seen)
	mu.Unlock()
	if during != 0 {
		t.Errorf("an object appeared while the writer held the file open: sizes %v", seen)
	}
	write(mib - mib/2)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	eventually(t, "complete object", func() string {
		mu.Lock()
		defer mu.Unlock()
		if seen[size] == 0 {
			return fmt.Sprintf("HEAD saw sizes %v; want %d", seen, size)
		}
		return ""
	})
	took := time.Since(closed)
	t.Logf("complete object visible %s after the close (quiet window %s)", took.Round(time.Millisecond), window)
	// The bound leaves room for reading and hashing the file on a busy machine.
	if limit := window + 5*time.Second; took > limit {
		t.Errorf("the complete object took %s after the close; want it within the quiet window %s (bound %s)", took, window, limit)
	}
	close(stop)
	<-polled
	waitIdle(t, r)
	for n := range seen {
		if n != size {
			t.Errorf("HEAD showed a partial object of %d bytes (sizes seen %v)", n, seen)
		}
	}
	got, n, err := streamSHA256(a, "paused", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(h.Sum(nil)); got != want || n != size {
		t.Fatalf("GET big.bin: %d bytes, sha256 %s; want %d bytes, sha256 %s", n, got, size, want)
	}
	if v := versions(t, a, "paused"); v["big.bin"] != 1 || len(v) != 1 {
		t.Fatalf("versions = %v; want exactly one version of big.bin", v)
	}
}

// TestWriterOpenAcrossRestart: a file half-written when the daemon stops, whose
// writer is still paused when it starts again, is archived once, complete, after
// the writer closes it.
func TestWriterOpenAcrossRestart(t *testing.T) {
	data, drop := t.TempDir(), t.TempDir()
	cfg := folderCfg(drop, "resumed")
	a := openArchive(t, data)
	r := startWatcher(t, a, cfg, nil)
	waitIdle(t, r)

	f, err := os.Create(filepath.Join(drop, "half.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	first := []byte("the first half, written before the daemon stopped; ")
	if _, err := f.Write(first); err != nil {
		t.Fatal(err)
	}
	r.stop()

	r = startWatcher(t, a, cfg, nil)
	time.Sleep(5 * testWindow) // the file's mtime is many quiet windows old now
	if err := r.Reconcile(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * testWindow)
	if why := gone(a, "resumed", "half.bin"); why != "" {
		t.Fatalf("a file still open for writing was archived after the restart: %s", why)
	}
	second := []byte("and the second half, written after it started again")
	if _, err := f.Write(second); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	full := append(append([]byte{}, first...), second...)
	eventually(t, "complete file", func() string { return archived(a, "resumed", "half.bin", full) })
	waitIdle(t, r)
	if v := versions(t, a, "resumed"); v["half.bin"] != 1 {
		t.Fatalf("%d versions of half.bin; want 1, the complete file", v["half.bin"])
	}
}

// TestOpenForWriting checks the lease probe against this process's own writer.
func TestOpenForWriting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	wf, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := openForIngest(p)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	if !openForWriting(rf) {
		t.Error("a file open for writing is reported closed")
	}
	wf.Close()
	if openForWriting(rf) {
		t.Error("a file no one writes is reported open for writing")
	}
}

// TestWriterDirRenamed: a directory renamed while a file in it is open for
// writing; the file is archived under its new path once closed, and the watcher
// does not wait for the old path.
func TestWriterDirRenamed(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	r := startWatcher(t, a, folderCfg(drop, "moved"), nil)
	if err := os.MkdirAll(filepath.Join(drop, "old"), 0o755); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, r)
	f, err := os.Create(filepath.Join(drop, "old", "f.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("before the rename, "))
	time.Sleep(2 * testWindow)
	if err := os.Rename(filepath.Join(drop, "old"), filepath.Join(drop, "new")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * testWindow)
	f.Write([]byte("after it"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new/f.bin", func() string { return archived(a, "moved", "new/f.bin", []byte("before the rename, after it")) })
	waitIdle(t, r) // would never return if old/f.bin still waited for its writer
	if objs := listAll(t, a, "moved"); len(objs) != 1 {
		t.Fatalf("objects %v; want only new/f.bin", keys(objs))
	}
}
