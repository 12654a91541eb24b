package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadBucketDirs: first-level directories that are not bucket names are
// refused loudly, once each, and listed until they are renamed.
func TestBadBucketDirs(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	writeFile(t, filepath.Join(drop, "My Photos", "a.jpg"), []byte("a")) // found by the start-up scan
	r := startWatcher(t, a, folderCfg(drop, ""), nil)
	writeFile(t, filepath.Join(drop, "Photos", "b.jpg"), []byte("b")) // found by events
	writeFile(t, filepath.Join(drop, "UPPER", "c.jpg"), []byte("c"))
	writeFile(t, filepath.Join(drop, "good", "d.jpg"), []byte("d"))
	eventually(t, "good/d.jpg", func() string { return archived(a, "good", "d.jpg", []byte("d")) })
	eventually(t, "three refused directories", func() string {
		if got := fmt.Sprint(r.SkippedDirs()); !strings.Contains(got, "UPPER") || !strings.Contains(got, "Photos") {
			return got
		}
		return ""
	})
	if err := r.Reconcile(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, r)
	if got := strings.Join(sorted(bucketNames(t, a)), " "); got != "good" {
		t.Errorf("buckets %s; want only good", got)
	}
	var got []string
	for _, d := range r.SkippedDirs() {
		if d.Folder != drop || d.Reason == "" {
			t.Errorf("skipped %+v; want the folder %s and a reason", d, drop)
		}
		got = append(got, d.Dir+"->"+d.Suggestion)
	}
	if want := "My Photos->my-photos Photos->photos UPPER->upper"; strings.Join(got, " ") != want {
		t.Errorf("skipped directories %s; want %s", strings.Join(got, " "), want)
	}
	logs := r.logs.String()
	for _, d := range []string{"My Photos", "Photos", "UPPER"} {
		if n := countLines(logs, `"level":"warn"`, `"dir":"`+d+`"`); n != 1 || countLines(logs, `"dir":"`+d+`"`) != 1 {
			t.Errorf("%d log lines name %q; want exactly one WARN line, even after a second scan", n, d)
		}
	}
	if !strings.Contains(logs, `"bucket":"good","key":"d.jpg","size":1,"message":"archived"`) {
		t.Error(`no "archived" info line for good/d.jpg`)
	}
	if !strings.Contains(logs, `"files":1,"bytes":1,"new_or_changed":0,"missing":0,"skipped_dirs":3`) {
		t.Error("no totals line after the second scan")
	}

	// Renamed to its suggestion, a directory is archived and no longer listed.
	if err := os.Rename(filepath.Join(drop, "UPPER"), filepath.Join(drop, "upper")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "upper/c.jpg", func() string { return archived(a, "upper", "c.jpg", []byte("c")) })
	waitIdle(t, r)
	if n := len(r.SkippedDirs()); n != 2 {
		t.Errorf("%d skipped directories after UPPER was renamed; want 2: %v", n, r.SkippedDirs())
	}
}
