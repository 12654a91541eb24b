package watcher

import (
	"sort"
	"strings"
	"sync"

	"github.com/ipas/ipas/internal/s3name"
)

// SkippedDir is a first-level directory of a folder without a bucket that is not
// archived because its name is not a valid bucket name. It is refused rather
// than renamed: a mapped name would hide which bucket a file lands in, and two
// directories could map to one bucket.
type SkippedDir struct {
	Folder string // the drop folder's absolute path
	Dir    string // the directory's name
	Reason string
	// Suggestion is a valid bucket name close to Dir, to rename it to; empty when
	// none is obvious.
	Suggestion string
}

// refusals are the refused first-level directories of a folder, by name.
type refusals struct {
	mu sync.Mutex
	m  map[string]string // name -> reason
}

// refuse notes that the first-level directory dir is not archived, with a WARN
// line the first time.
func (f *folder) refuse(dir, why string) {
	f.refused.mu.Lock()
	if f.refused.m == nil {
		f.refused.m = make(map[string]string)
	}
	_, known := f.refused.m[dir]
	f.refused.m[dir] = why
	f.refused.mu.Unlock()
	if known {
		return
	}
	ev := f.log.Warn().Str("dir", dir).Str("reason", why)
	fix := "rename it to a bucket name: 3-63 lowercase letters, digits, '-' and '.'"
	if s := suggestBucket(dir); s != "" {
		ev = ev.Str("suggestion", s)
		fix += ", for example " + s
	}
	ev.Msg("directory skipped: its name is not a valid bucket name, so nothing in it is archived; " + fix)
}

// forgetRefused drops dir, removed or renamed away, from the refused list.
func (f *folder) forgetRefused(dir string) {
	f.refused.mu.Lock()
	delete(f.refused.m, dir)
	f.refused.mu.Unlock()
}

// keepRefused keeps only the refused directories a full scan saw.
func (f *folder) keepRefused(seen map[string]bool) {
	f.refused.mu.Lock()
	for d := range f.refused.m {
		if !seen[d] {
			delete(f.refused.m, d)
		}
	}
	f.refused.mu.Unlock()
}

// SkippedDirs returns the directories that are not archived because of their
// names, sorted by folder and name.
func (w *Watcher) SkippedDirs() []SkippedDir {
	var out []SkippedDir
	for _, f := range w.folders {
		f.refused.mu.Lock()
		for d, why := range f.refused.m {
			out = append(out, SkippedDir{Folder: f.root, Dir: d, Reason: why, Suggestion: suggestBucket(d)})
		}
		f.refused.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Folder != out[j].Folder {
			return out[i].Folder < out[j].Folder
		}
		return out[i].Dir < out[j].Dir
	})
	return out
}

// suggestBucket proposes a valid bucket name for dir: lowercase, with every run
// of other characters turned into one '-'. It returns "" when that is still not
// a valid name.
func suggestBucket(dir string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(dir) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == dir || s3name.CheckBucket(s) != nil {
		return ""
	}
	return s
}
