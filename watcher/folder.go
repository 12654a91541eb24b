package watcher

import (
	"io/fs"
	"mime"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/s3name"
)

// folder is one configured drop folder at run time.
type folder struct {
	cfg    Folder
	root   string // absolute, clean
	id     string // the folder's bucket in the state file
	filter filter
	log    zerolog.Logger

	// degraded is set when a directory of this tree could not be watched (inotify
	// watch limit): the tree is then scanned every Watcher.PollInterval.
	degraded atomic.Bool
	// rootLost is set while the folder itself is missing.
	rootLost atomic.Bool

	buckets sync.Map // bucket name -> struct{}: created (or found) in the index
	refused refusals // first-level directories whose names are not bucket names
}

func newFolder(cfg Folder, log zerolog.Logger) (*folder, error) {
	root, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, err
	}
	return &folder{
		cfg:    cfg,
		root:   root,
		id:     root,
		filter: newFilter(cfg),
		log:    log.With().Str("folder", root).Logger(),
	}, nil
}

// abs returns the absolute path of rel ("" is the root).
func (f *folder) abs(rel string) string {
	if rel == "" {
		return f.root
	}
	return f.root + "/" + rel
}

// rel returns the slash-separated path of p below the root, and false if p is not
// inside the folder. The root itself is "".
func (f *folder) rel(p string) (string, bool) {
	if p == f.root {
		return "", true
	}
	if !strings.HasPrefix(p, f.root+"/") {
		return "", false
	}
	return filepath.ToSlash(p[len(f.root)+1:]), true
}

// autoBuckets reports whether first-level directories are buckets.
func (f *folder) autoBuckets() bool { return f.cfg.Bucket == "" }

// target returns the bucket and key of the file rel, or a reason why it has none.
func (f *folder) target(rel string) (bucket, key, why string) {
	bucket, key = f.cfg.Bucket, rel
	if f.autoBuckets() {
		var ok bool
		bucket, key, ok = strings.Cut(rel, "/")
		if !ok {
			return "", "", "files directly in a folder without a bucket are not archived; put them in a directory named after the bucket"
		}
		if err := s3name.CheckBucket(bucket); err != nil {
			return "", "", "the first-level directory is not a valid bucket name: " + err.Error()
		}
	}
	if p := strings.Trim(f.cfg.Prefix, "/"); p != "" {
		key = p + "/" + key
	}
	if err := s3name.CheckKey(key); err != nil {
		return "", "", err.Error()
	}
	return bucket, key, ""
}

// skipDir returns why the directory rel is not watched or scanned, or "".
func (f *folder) skipDir(rel string) string {
	if rel == "" {
		return ""
	}
	if f.filter.dirPathExcluded(rel) {
		return "excluded"
	}
	return f.badBucketDir(rel)
}

// badBucketDir returns why rel, a first-level directory of a folder without a
// bucket, cannot be a bucket, or "".
func (f *folder) badBucketDir(rel string) string {
	if !f.autoBuckets() || strings.Contains(rel, "/") {
		return ""
	}
	if err := s3name.CheckBucket(rel); err != nil {
		return "not a valid bucket name: " + err.Error()
	}
	return ""
}

// fileStat is what the watcher compares to tell whether a file changed.
type fileStat struct {
	size    int64
	mtimeNs int64
	ino     uint64
	mode    fs.FileMode
}

func statOf(fi fs.FileInfo) fileStat {
	st := fileStat{size: fi.Size(), mtimeNs: fi.ModTime().UnixNano(), mode: fi.Mode()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st
}

func (s fileStat) mtime() time.Time { return time.Unix(0, s.mtimeNs) }

// sameContent reports whether two stats describe the same unchanged file.
func (s fileStat) sameContent(o fileStat) bool {
	return s.size == o.size && s.mtimeNs == o.mtimeNs && s.ino == o.ino
}

// contentType guesses the Content-Type from the extension, as an S3 client would.
func contentType(key string) string {
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}
