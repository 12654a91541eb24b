package watcher

import (
	"path"
	"strings"
)

// filter decides which relative paths (slash-separated) of a folder are archived.
type filter struct {
	include []string
	exclude []string
}

func newFilter(f Folder) filter {
	ex := make([]string, 0, len(DefaultExcludes)+len(f.Exclude))
	ex = append(ex, DefaultExcludes...)
	ex = append(ex, f.Exclude...)
	return filter{include: f.Include, exclude: ex}
}

// matchGlob matches a glob without "/" against the last element of rel, and a glob
// with "/" against the whole of rel. Patterns were validated by Config.Validate.
func matchGlob(g, rel string) bool {
	if strings.Contains(g, "/") {
		ok, _ := path.Match(strings.TrimPrefix(g, "/"), rel)
		return ok
	}
	ok, _ := path.Match(g, path.Base(rel))
	return ok
}

// excludedDir reports whether the directory rel (and so everything below it) is
// excluded. Include globs do not apply to directories.
func (f filter) excludedDir(rel string) bool {
	for _, g := range f.exclude {
		if matchGlob(g, rel) {
			return true
		}
	}
	return false
}

// admits reports whether the file rel is archived. Its directories are checked by
// the caller as it descends (excludedDir), except for event paths, see admitsPath.
func (f filter) admits(rel string) bool {
	for _, g := range f.exclude {
		if matchGlob(g, rel) {
			return false
		}
	}
	if len(f.include) == 0 {
		return true
	}
	for _, g := range f.include {
		if matchGlob(g, rel) {
			return true
		}
	}
	return false
}

// admitsPath is admits plus the check that no directory on the way is excluded.
func (f filter) admitsPath(rel string) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && f.excludedDir(rel[:i]) {
			return false
		}
	}
	return f.admits(rel)
}

// dirPathExcluded reports whether the directory rel or any directory above it is excluded.
func (f filter) dirPathExcluded(rel string) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && f.excludedDir(rel[:i]) {
			return true
		}
	}
	return f.excludedDir(rel)
}
