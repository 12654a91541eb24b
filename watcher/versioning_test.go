package watcher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipas/ipas/queue"
)

// TestFolderVersioning: a folder with versioning: enabled versions the
// buckets it creates, so a file overwritten in the folder (by ransomware,
// say) keeps its earlier bytes in the archive; a bucket whose owner
// suspended versioning keeps that choice.
func TestFolderVersioning(t *testing.T) {
	a := openArchive(t, t.TempDir())
	drop := t.TempDir()
	if err := os.Mkdir(filepath.Join(drop, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := a.node.CreateBucket(ctxT(t), "kept", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := a.node.SetBucketSetting(ctxT(t), "kept", queue.SettingVersioning, queue.VersioningSuspended); err != nil {
		t.Fatal(err)
	}
	cfg := folderCfg(drop, "")
	cfg.Folders[0].Versioning = VersioningEnabled
	r := startWatcher(t, a, cfg, nil)
	writeFile(t, filepath.Join(drop, "docs", "thesis.txt"), []byte("chapter one"))
	eventually(t, "thesis.txt", func() string { return archived(a, "docs", "thesis.txt", []byte("chapter one")) })
	writeFile(t, filepath.Join(drop, "docs", "thesis.txt"), []byte("ENCRYPTED, pay up"))
	eventually(t, "the overwrite", func() string { return archived(a, "docs", "thesis.txt", []byte("ENCRYPTED, pay up")) })
	writeFile(t, filepath.Join(drop, "kept", "x"), []byte("x"))
	eventually(t, "kept/x", func() string { return archived(a, "kept", "x", []byte("x")) })
	waitIdle(t, r)

	for bucket, want := range map[string]string{"docs": queue.VersioningEnabled, "kept": queue.VersioningSuspended} {
		if v, _, err := a.node.BucketSetting(bucket, queue.SettingVersioning); err != nil || v != want {
			t.Fatalf("bucket %s versioning = %q, %v; want %s", bucket, v, err, want)
		}
	}
	vs, _, err := a.node.ListVersions("docs", "", "", "", 10)
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions of docs: %+v, %v; want 2", vs, err)
	}
	old := vs[1]
	if old.Latest || !strings.HasPrefix(old.Key, "thesis") || old.Size != int64(len("chapter one")) {
		t.Fatalf("the noncurrent version = %+v, want the first thesis.txt", old)
	}
}

func TestFolderVersioningValidate(t *testing.T) {
	cfg := folderCfg(t.TempDir(), "docs")
	cfg.Folders[0].Versioning = "on"
	err := cfg.WithDefaults().Validate()
	if err == nil || !strings.Contains(err.Error(), "versioning") {
		t.Fatalf("versioning: on: %v, want an error naming the field", err)
	}
}
