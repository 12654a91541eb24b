package watcher

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ipas/ipas/store"
)

// TestRestart stops the daemon, changes the folder, restarts it: the archive must
// match the folder exactly, and only new or changed files may be read.
func TestRestart(t *testing.T) {
	data, drop := t.TempDir(), t.TempDir()
	cfg := folderCfg(drop, "home")
	cfg.Folders[0].OnDelete = OnDeleteDelete
	content := func(name string, n int) []byte { return []byte(strings.Repeat(name, n)) }
	for i := 0; i < 50; i++ {
		writeFile(t, filepath.Join(drop, "keep", fmt.Sprintf("k%02d", i)), content(fmt.Sprint(i), 10000))
	}
	writeFile(t, filepath.Join(drop, "change.txt"), content("old", 100))
	writeFile(t, filepath.Join(drop, "touched.txt"), content("same", 100))
	writeFile(t, filepath.Join(drop, "sub", "remove.txt"), content("bye", 100))

	a := openArchive(t, data)
	r := startWatcher(t, a, cfg, nil)
	waitIdle(t, r)
	if n := len(listAll(t, a, "home")); n != 53 {
		t.Fatalf("%d objects before the restart; want 53", n)
	}
	r.stop()
	a.close()

	// While the daemon is down.
	added, changed := content("new", 3000), content("changed", 500)
	writeFile(t, filepath.Join(drop, "sub", "added.txt"), added)
	writeFile(t, filepath.Join(drop, "change.txt"), changed)
	if err := os.Remove(filepath.Join(drop, "sub", "remove.txt")); err != nil {
		t.Fatal(err)
	}
	touched := filepath.Join(drop, "touched.txt")
	if err := os.WriteFile(touched, content("same", 100), 0o644); err != nil { // same bytes, new mtime
		t.Fatal(err)
	}

	a = openArchive(t, data)
	r = startWatcher(t, a, cfg, nil)
	waitIdle(t, r)
	objs := listAll(t, a, "home")
	want := map[string][]byte{}
	filepath.WalkDir(drop, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(drop, p)
			b, _ := os.ReadFile(p)
			want[filepath.ToSlash(rel)] = b
		}
		return nil
	})
	if got, wantKeys := strings.Join(sorted(keys(objs)), " "), strings.Join(sorted(keys(want)), " "); got != wantKeys {
		t.Fatalf("archive lists %s; the folder holds %s", got, wantKeys)
	}
	allArchived(t, a, "home", want)
	wantRead := int64(len(added) + len(changed) + 400)
	if got := r.Stats().BytesRead; got != wantRead {
		t.Errorf("read %d bytes after the restart; want %d (added + changed + touched, nothing else)", got, wantRead)
	}
	v := versions(t, a, "home")
	if v["touched.txt"] != 1 || v["change.txt"] != 2 {
		t.Errorf("versions: touched.txt %d (want 1: same content), change.txt %d (want 2)", v["touched.txt"], v["change.txt"])
	}
}

// TestOnDelete deletes the object of a removed file only with on_delete: delete.
func TestOnDelete(t *testing.T) {
	a := openArchive(t, t.TempDir())
	keepDir, delDir := t.TempDir(), t.TempDir()
	cfg := folderCfg(keepDir, "kept")
	del := cfg.Folders[0]
	del.Path, del.Bucket, del.OnDelete = delDir, "deleted", OnDeleteDelete
	cfg.Folders = append(cfg.Folders, del)
	r := startWatcher(t, a, cfg, nil)
	for _, d := range []string{keepDir, delDir} {
		writeFile(t, filepath.Join(d, "x", "file"), []byte("soon removed"))
	}
	eventually(t, "kept", func() string { return archived(a, "kept", "x/file", []byte("soon removed")) })
	eventually(t, "deleted", func() string { return archived(a, "deleted", "x/file", []byte("soon removed")) })
	waitIdle(t, r)
	for _, d := range []string{keepDir, delDir} {
		if err := os.Remove(filepath.Join(d, "x", "file")); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "object deleted", func() string { return gone(a, "deleted", "x/file") })
	waitIdle(t, r)
	if why := archived(a, "kept", "x/file", []byte("soon removed")); why != "" {
		t.Fatalf("on_delete keep: %s", why)
	}
}

// TestAfterIngest deletes or moves archived files.
func TestAfterIngest(t *testing.T) {
	a := openArchive(t, t.TempDir())
	delDir, moveDir, done := t.TempDir(), t.TempDir(), t.TempDir()
	cfg := folderCfg(delDir, "del")
	mv := cfg.Folders[0]
	cfg.Folders[0].AfterIngest = AfterIngestDelete
	mv.Path, mv.Bucket, mv.AfterIngest, mv.DoneDir = moveDir, "moved", AfterIngestMove, done
	cfg.Folders = append(cfg.Folders, mv)
	r := startWatcher(t, a, cfg, nil)
	writeFile(t, filepath.Join(delDir, "a", "one"), []byte("deleted after ingest"))
	writeFile(t, filepath.Join(moveDir, "b", "two"), []byte("moved after ingest"))
	writeFile(t, filepath.Join(done, "b", "two"), []byte("already in done"))
	eventually(t, "one", func() string { return archived(a, "del", "a/one", []byte("deleted after ingest")) })
	eventually(t, "two", func() string { return archived(a, "moved", "b/two", []byte("moved after ingest")) })
	eventually(t, "file removed from the folder", func() string {
		for _, p := range []string{filepath.Join(delDir, "a", "one"), filepath.Join(moveDir, "b", "two")} {
			if _, err := os.Stat(p); err == nil {
				return p + " still there"
			}
		}
		return ""
	})
	waitIdle(t, r)
	moved, _ := filepath.Glob(filepath.Join(done, "b", "two.*"))
	if len(moved) != 1 {
		t.Fatalf("done dir holds %v; want the moved file next to the existing one", moved)
	}
	if b, _ := os.ReadFile(moved[0]); string(b) != "moved after ingest" {
		t.Fatalf("moved file holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(done, "b", "two")); string(b) != "already in done" {
		t.Fatalf("existing file in done_dir was overwritten: %q", b)
	}
	// The objects stay: the removals are not deletes.
	if why := archived(a, "del", "a/one", []byte("deleted after ingest")); why != "" {
		t.Fatal(why)
	}
}

// TestExcludes checks the default excludes, exclude and include globs.
func TestExcludes(t *testing.T) {
	a := openArchive(t, t.TempDir())
	d1, d2 := t.TempDir(), t.TempDir()
	cfg := folderCfg(d1, "excl")
	cfg.Folders[0].Exclude = []string{"*.log", "cache"}
	inc := cfg.Folders[0]
	inc.Path, inc.Bucket, inc.Exclude, inc.Include = d2, "inc", nil, []string{"*.jpg", "docs/*.pdf"}
	cfg.Folders = append(cfg.Folders, inc)
	r := startWatcher(t, a, cfg, nil)
	for _, name := range []string{"x.tmp", "x.part", "x.crdownload", ".~lock.x#", "~$x.docx", ".DS_Store", "sub/._x",
		".syncthing.x.tmp", ".x.swp", "x.log", "cache/x.txt", "keep.txt", "sub/keep.txt"} {
		writeFile(t, filepath.Join(d1, name), []byte(name))
	}
	for _, name := range []string{"a.jpg", "sub/b.jpg", "a.png", "docs/c.pdf", "other/d.pdf"} {
		writeFile(t, filepath.Join(d2, name), []byte(name))
	}
	eventually(t, "sub/keep.txt", func() string { return archived(a, "excl", "sub/keep.txt", []byte("sub/keep.txt")) })
	eventually(t, "docs/c.pdf", func() string { return archived(a, "inc", "docs/c.pdf", []byte("docs/c.pdf")) })
	waitIdle(t, r)
	if got := strings.Join(sorted(keys(listAll(t, a, "excl"))), " "); got != "keep.txt sub/keep.txt" {
		t.Errorf("bucket excl holds %s; want keep.txt sub/keep.txt", got)
	}
	if got := strings.Join(sorted(keys(listAll(t, a, "inc"))), " "); got != "a.jpg docs/c.pdf sub/b.jpg" {
		t.Errorf("bucket inc holds %s; want a.jpg docs/c.pdf sub/b.jpg", got)
	}
}

func sorted(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// TestSpecialFiles: symbolic links are not followed; sockets and pipes are skipped
// with a log line; the regular file next to them is archived.
func TestSpecialFiles(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop, outside := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(outside, "secret"), []byte("outside the folder"))
	r := startWatcher(t, a, folderCfg(drop, "special"), nil)
	waitIdle(t, r) // watched: what follows arrives as events
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(drop, "link-out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(drop, "dirlink")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(drop, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(drop, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	writeFile(t, filepath.Join(drop, "plain"), []byte("plain file"))
	eventually(t, "plain", func() string { return archived(a, "special", "plain", []byte("plain file")) })
	waitIdle(t, r)
	if got := keys(listAll(t, a, "special")); len(got) != 1 {
		t.Fatalf("objects %v; want only plain", got)
	}
	logs := r.logs.String()
	for _, want := range []string{"symbolic links are not followed", "not a regular file"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no log line says %q", want)
		}
	}
}

// TestUnreadableRetried: a file that cannot be opened is reported once and archived
// when it becomes readable.
func TestUnreadableRetried(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	var refused atomic.Int32
	r := startWatcher(t, a, folderCfg(drop, "locked"), func(w *Watcher) {
		w.openFile = func(p string) (*os.File, error) {
			if filepath.Base(p) == "locked.txt" && refused.Add(1) <= 3 {
				return nil, &os.PathError{Op: "open", Path: p, Err: syscall.EACCES}
			}
			return openForIngest(p)
		}
	})
	writeFile(t, filepath.Join(drop, "locked.txt"), []byte("readable at last"))
	eventually(t, "locked.txt", func() string { return archived(a, "locked", "locked.txt", []byte("readable at last")) })
	if n := strings.Count(r.logs.String(), "could not archive; will retry"); n != 1 {
		t.Errorf("%d warnings about the unreadable file; want 1 (repeats are debug)", n)
	}
	if r.Stats().Errors < 3 {
		t.Errorf("errors = %d; want 3 failed attempts", r.Stats().Errors)
	}
}

// TestWatchLimit: when inotify runs out of watches, one error names the sysctl and
// the tree is scanned periodically, so its files are still archived.
func TestWatchLimit(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	var watches atomic.Int32
	r := startWatcher(t, a, folderCfg(drop, "limited"), func(w *Watcher) {
		w.addWatch = func(dir string) error {
			if watches.Add(1) > 3 {
				return fmt.Errorf("inotify_add_watch %s: %w", dir, syscall.ENOSPC)
			}
			return w.inotify.add(dir)
		}
	})
	for i := 0; i < 5; i++ {
		writeFile(t, filepath.Join(drop, "a", "b", fmt.Sprint("c", i), "d", "f"), []byte(fmt.Sprint("deep ", i)))
	}
	for i := 0; i < 5; i++ {
		key := fmt.Sprintf("a/b/c%d/d/f", i)
		eventually(t, key, func() string { return archived(a, "limited", key, []byte(fmt.Sprint("deep ", i))) })
	}
	writeFile(t, filepath.Join(drop, "a", "b", "c1", "d", "later"), []byte("found by polling"))
	eventually(t, "later", func() string { return archived(a, "limited", "a/b/c1/d/later", []byte("found by polling")) })
	if n := countLines(r.logs.String(), "fs.inotify.max_user_watches"); n != 1 {
		t.Errorf("%d log lines name fs.inotify.max_user_watches; want exactly 1", n)
	}
	if r.Stats().Degraded != 1 {
		t.Errorf("degraded folders = %d; want 1", r.Stats().Degraded)
	}
}

// growingBlobs appends to the file being ingested after the store has read its
// first chunk: a writer that resumed after a pause longer than the quiet window.
type growingBlobs struct {
	Blobs
	path string
	once sync.Once
	tail []byte
}

func (g *growingBlobs) Put(ctx context.Context, r io.Reader) (store.Blob, error) {
	return g.Blobs.Put(ctx, readerFunc(func(p []byte) (int, error) {
		n, err := r.Read(p)
		g.once.Do(func() {
			f, ferr := os.OpenFile(g.path, os.O_WRONLY|os.O_APPEND, 0)
			if ferr == nil {
				f.Write(g.tail)
				f.Close()
			}
		})
		return n, err
	}))
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestChangedWhileIngesting: the half-read file is never archived; the complete
// one is.
func TestChangedWhileIngesting(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	head, tail := make([]byte, 3<<20), make([]byte, 1<<20)
	rand.Read(head)
	rand.Read(tail)
	p := filepath.Join(drop, "growing.bin")
	writeFile(t, p, head)
	g := &growingBlobs{path: p, tail: tail}
	r := startWatcher(t, a, folderCfg(drop, "grow"), func(w *Watcher) {
		g.Blobs = w.blobs
		w.blobs = g
	})
	full := append(append([]byte{}, head...), tail...)
	eventually(t, "complete file", func() string { return archived(a, "grow", "growing.bin", full) })
	waitIdle(t, r)
	if v := versions(t, a, "grow"); v["growing.bin"] != 1 {
		t.Fatalf("%d versions; want 1, the complete file", v["growing.bin"])
	}
}

// TestBucketPerDirectory: with no bucket, first-level directories are buckets.
func TestBucketPerDirectory(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	r := startWatcher(t, a, folderCfg(drop, ""), nil)
	writeFile(t, filepath.Join(drop, "photos", "2024", "a.jpg"), []byte("photo"))
	writeFile(t, filepath.Join(drop, "top.txt"), []byte("no bucket"))
	writeFile(t, filepath.Join(drop, "Bad_Name", "x"), []byte("bad bucket"))
	eventually(t, "photos", func() string { return archived(a, "photos", "2024/a.jpg", []byte("photo")) })
	waitIdle(t, r)
	if got := strings.Join(sorted(bucketNames(t, a)), " "); got != "photos" {
		t.Errorf("buckets %s; want only photos (no bucket for Bad_Name or top.txt)", got)
	}
	if !strings.Contains(r.logs.String(), "put them in a directory named after the bucket") {
		t.Error("no log line about top.txt")
	}
}

// TestFolderRecreated: a folder that disappears deletes nothing, and is watched
// again once it is back.
func TestFolderRecreated(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := filepath.Join(t.TempDir(), "drop")
	writeFile(t, filepath.Join(drop, "first"), []byte("first"))
	cfg := folderCfg(drop, "vanish")
	cfg.Folders[0].OnDelete = OnDeleteDelete
	r := startWatcher(t, a, cfg, nil)
	eventually(t, "first", func() string { return archived(a, "vanish", "first", []byte("first")) })
	waitIdle(t, r)
	if err := os.Rename(drop, drop+".unmounted"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "folder noticed missing", func() string {
		if !strings.Contains(r.logs.String(), "drop folder disappeared") {
			return "no log line"
		}
		return ""
	})
	if err := os.Rename(drop+".unmounted", drop); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(drop, "second"), []byte("second"))
	eventually(t, "second", func() string { return archived(a, "vanish", "second", []byte("second")) })
	waitIdle(t, r)
	if why := archived(a, "vanish", "first", []byte("first")); why != "" {
		t.Fatalf("object of a file in a vanished folder: %s", why)
	}
}

// countLines counts the log lines that contain s and every one of more.
func countLines(logs, s string, more ...string) int {
	n := 0
lines:
	for _, l := range strings.Split(logs, "\n") {
		for _, m := range append(more, s) {
			if !strings.Contains(l, m) {
				continue lines
			}
		}
		n++
	}
	return n
}
