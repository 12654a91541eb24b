package watcher

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSmallFileArchived(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	writeFile(t, filepath.Join(drop, "before.txt"), []byte("there before start"))
	r := startWatcher(t, a, folderCfg(drop, "photos"), nil)
	writeFile(t, filepath.Join(drop, "a", "b", "c.jpg"), []byte("jpeg bytes"))
	eventually(t, "before.txt", func() string { return archived(a, "photos", "before.txt", []byte("there before start")) })
	eventually(t, "a/b/c.jpg", func() string { return archived(a, "photos", "a/b/c.jpg", []byte("jpeg bytes")) })
	o, err := readBack(a, "photos", "a/b/c.jpg")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(drop, "a", "b", "c.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if mtime := fmt.Sprint(fi.ModTime().Unix()); o.ContentType != "image/jpeg" || o.Mtime != mtime {
		t.Errorf("GET a/b/c.jpg: Content-Type %q, mtime %q; want image/jpeg and the file's mtime %s", o.ContentType, o.Mtime, mtime)
	}
	waitIdle(t, r)
}

// TestSlowWriter writes 64 MiB, 1 MiB at a time over 3 s: the watcher must archive
// it once, complete.
func TestSlowWriter(t *testing.T) {
	slowWriter(t, 64, 3*time.Second)
}

func slowWriter(t *testing.T, mib int, over time.Duration) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	cfg := folderCfg(drop, "big")
	r := startWatcher(t, a, cfg, nil)
	waitIdle(t, r)
	chunk := make([]byte, 1<<20)
	f, err := os.Create(filepath.Join(drop, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	h := newSHA()
	gap := over / time.Duration(mib)
	for i := 0; i < mib; i++ {
		rand.Read(chunk)
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		h.Write(chunk)
		time.Sleep(gap)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x", h.Sum(nil))
	eventually(t, "big.bin archived", func() string {
		n, err := headSize(a, "big", "big.bin")
		if err != nil {
			return err.Error()
		}
		if n != int64(mib)<<20 {
			return fmt.Sprintf("HEAD big.bin: %d bytes", n)
		}
		return ""
	})
	waitIdle(t, r)
	got, n, err := streamSHA256(a, "big", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if got != want || n != int64(mib)<<20 {
		t.Fatalf("GET big.bin: %d bytes, sha256 %s; want %d bytes, sha256 %s", n, got, int64(mib)<<20, want)
	}
	if v := versions(t, a, "big"); v["big.bin"] != 1 || len(v) != 1 {
		t.Fatalf("versions = %v; want exactly one version of big.bin", v)
	}
}

// TestManySmallFiles drops 2,000 files three levels deep at once (10,000 with -tags slow).
func TestManySmallFiles(t *testing.T) {
	manySmallFiles(t, manyFiles)
}

// listPollInterval is how often a test lists a bucket of thousands of keys while
// it waits for them.
const listPollInterval = 250 * time.Millisecond

func manySmallFiles(t *testing.T, n int) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	cfg := folderCfg(drop, "many")
	cfg.Workers = 8
	r := startWatcher(t, a, cfg, nil)
	waitIdle(t, r)
	want := map[string][]byte{}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("d%d/e%d/f%d/file-%05d.txt", i%10, i%7, i%5, i)
		b := []byte(fmt.Sprintf("content of file %d\n", i))
		want[key] = b
		writeFile(t, filepath.Join(drop, filepath.FromSlash(key)), b)
	}
	// Listing n keys through S3 is not free: poll it at a pace that leaves the CPU
	// to the watcher.
	eventuallyEvery(t, "all files archived", listPollInterval, func() string {
		if got := len(listAll(t, a, "many")); got != n {
			return fmt.Sprintf("%d of %d objects", got, n)
		}
		return ""
	})
	waitIdle(t, r)
	allArchived(t, a, "many", want)
	v := versions(t, a, "many")
	for key := range want {
		if v[key] != 1 {
			t.Fatalf("%s has %d versions; want exactly 1", key, v[key])
		}
	}
	if len(v) != n {
		t.Fatalf("%d keys have versions; want %d", len(v), n)
	}
}

// TestEditorSave replaces a file the way editors save: write a temp file, rename it
// over the original.
func TestEditorSave(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	r := startWatcher(t, a, folderCfg(drop, "docs"), nil)
	p := filepath.Join(drop, "notes", "todo.txt")
	writeFile(t, p, []byte("version one"))
	eventually(t, "first version", func() string { return archived(a, "docs", "notes/todo.txt", []byte("version one")) })

	tmp := p + ".tmp"
	writeFile(t, tmp, []byte("version two, longer"))
	time.Sleep(2 * testWindow) // the temp file sits there for a while, as a slow editor's would
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	eventually(t, "second version", func() string { return archived(a, "docs", "notes/todo.txt", []byte("version two, longer")) })
	waitIdle(t, r)
	objs := listAll(t, a, "docs")
	if len(objs) != 1 {
		t.Fatalf("objects = %v; want only notes/todo.txt (no .tmp)", keys(objs))
	}
	if v := versions(t, a, "docs"); v["notes/todo.txt"] != 2 {
		t.Fatalf("versions = %v; want 2 of notes/todo.txt", v)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestTreeRenamed renames a whole tree inside the folder, then writes into it.
func TestTreeRenamed(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	r := startWatcher(t, a, folderCfg(drop, "tree"), nil)
	for i := 0; i < 20; i++ {
		writeFile(t, filepath.Join(drop, "old", fmt.Sprintf("s%d", i%3), fmt.Sprintf("f%d", i)), []byte(fmt.Sprint("file ", i)))
	}
	eventually(t, "tree archived", func() string {
		if n := len(listAll(t, a, "tree")); n != 20 {
			return fmt.Sprint(n, " objects")
		}
		return ""
	})
	waitIdle(t, r)
	if err := os.Rename(filepath.Join(drop, "old"), filepath.Join(drop, "new")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		key := fmt.Sprintf("new/s%d/f%d", i%3, i)
		eventually(t, key, func() string { return archived(a, "tree", key, []byte(fmt.Sprint("file ", i))) })
	}
	// The renamed directories are watched under their new names.
	writeFile(t, filepath.Join(drop, "new", "s1", "later"), []byte("written after the rename"))
	eventually(t, "new/s1/later", func() string { return archived(a, "tree", "new/s1/later", []byte("written after the rename")) })
	waitIdle(t, r)
	for k := range listAll(t, a, "tree") {
		if filepath.Base(k) == "later" && k != "new/s1/later" {
			t.Errorf("unexpected object %s", k)
		}
	}
}

// TestDirRecreated deletes a watched directory, creates it again and fills it.
func TestDirRecreated(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	r := startWatcher(t, a, folderCfg(drop, "again"), nil)
	writeFile(t, filepath.Join(drop, "d", "sub", "one"), []byte("first life"))
	eventually(t, "first", func() string { return archived(a, "again", "d/sub/one", []byte("first life")) })
	waitIdle(t, r)
	if err := os.RemoveAll(filepath.Join(drop, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(drop, "d", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(drop, "d", "sub", "one"), []byte("second life"))
	writeFile(t, filepath.Join(drop, "d", "sub", "two"), []byte("new file"))
	eventually(t, "second", func() string { return archived(a, "again", "d/sub/one", []byte("second life")) })
	eventually(t, "two", func() string { return archived(a, "again", "d/sub/two", []byte("new file")) })
	time.Sleep(testWindow)
	writeFile(t, filepath.Join(drop, "d", "sub", "three"), []byte("third"))
	eventually(t, "three", func() string { return archived(a, "again", "d/sub/three", []byte("third")) })
	waitIdle(t, r)
}
