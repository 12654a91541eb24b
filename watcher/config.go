package watcher

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipas/ipas/internal/s3name"
)

// Defaults of every configurable value.
const (
	// DefaultQuietWindow is how long a file's size and mtime must hold still, with no
	// write event, before it is ingested.
	DefaultQuietWindow = 2 * time.Second
	// DefaultReconcileInterval is the period of the full scan that catches changes
	// missed by events (daemon down, event queue overflow).
	DefaultReconcileInterval = time.Hour
	// DefaultWorkers is how many files are checked and ingested at once. More than
	// one lets the journal batch several objects into one fsync.
	DefaultWorkers = 4
	// DefaultDropDir is the folder under the data directory that the embedded
	// configuration watches, one bucket per first-level directory.
	DefaultDropDir = "drop"
	// MinQuietWindow keeps the window above mtime granularity and event latency.
	MinQuietWindow = 50 * time.Millisecond
	// MinReconcileInterval keeps the periodic scan from running back to back.
	MinReconcileInterval = time.Second
)

// What to do with a file once it is archived (Folder.AfterIngest).
const (
	AfterIngestKeep   = "keep"
	AfterIngestDelete = "delete"
	AfterIngestMove   = "move"
)

// What to do with the archived object when its file is removed (Folder.OnDelete).
const (
	OnDeleteKeep   = "keep"
	OnDeleteDelete = "delete"
)

// Versioning of the buckets a folder writes to (Folder.Versioning).
const (
	// VersioningEnabled turns S3 versioning on in each bucket the folder
	// writes to that has no versioning state yet: an overwritten or deleted
	// file's earlier versions stay readable.
	VersioningEnabled = "enabled"
	// VersioningUnchanged leaves the buckets' versioning as it is (the
	// default; off for a new bucket).
	VersioningUnchanged = "unchanged"
)

// DefaultExcludes are names that are always excluded, on top of Folder.Exclude:
// files that applications are still writing, lock files and desktop metadata.
var DefaultExcludes = []string{
	"*.tmp", "*.part", "*.crdownload", ".~lock*", "~$*", ".DS_Store", "._*", ".syncthing.*", "*.swp",
}

// ErrInvalidConfig is wrapped by every error of Config.Validate and ParseDropFlag.
var ErrInvalidConfig = errors.New("watcher: invalid configuration")

// Config is the watcher's part of the daemon configuration (YAML key "drop" in the
// daemon's file). Start from DefaultConfig.
type Config struct {
	// Folders are the drop folders.
	Folders []Folder `yaml:"folders"`
	// Workers is how many files are checked and ingested at once.
	Workers int `yaml:"workers"`
}

// Folder is one drop folder: every regular file under Path becomes the object
// Prefix + relative path in Bucket.
type Folder struct {
	// Path is the folder to watch.
	Path string `yaml:"path"`
	// Bucket receives the objects. Empty means: each first-level directory of Path
	// is a bucket of that name, and the path below it is the key.
	Bucket string `yaml:"bucket"`
	// Prefix is put before the relative path; a "/" is added between them.
	Prefix string `yaml:"prefix"`
	// Owner is the user the folder's buckets belong to when the folder
	// creates them; empty: the admins. A bucket that exists keeps its owner.
	Owner string `yaml:"owner"`
	// Include, when not empty, admits only files matching one of these globs.
	// A glob without "/" matches the file's name; one with "/" matches the path
	// relative to Path.
	Include []string `yaml:"include"`
	// Exclude skips matching files and directories, in addition to DefaultExcludes.
	Exclude []string `yaml:"exclude"`
	// AfterIngest is keep (default), delete, or move (to DoneDir).
	AfterIngest string `yaml:"after_ingest"`
	// DoneDir receives ingested files when AfterIngest is move; it must be outside
	// Path and on the same filesystem.
	DoneDir string `yaml:"done_dir"`
	// OnDelete is what a file's removal does to its object: keep (default) or delete.
	OnDelete string `yaml:"on_delete"`
	// QuietWindow is how long a file must hold still before it is ingested.
	QuietWindow time.Duration `yaml:"quiet_window"`
	// ReconcileInterval is the period of the full scan.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// Versioning is enabled (S3 versioning on in the folder's buckets that
	// have none yet, so that a file overwritten by ransomware keeps its
	// earlier versions) or unchanged (default).
	Versioning string `yaml:"versioning"`
}

// DefaultConfig returns a configuration without folders; see DefaultDropFolder.
func DefaultConfig() Config {
	return Config{Workers: DefaultWorkers}
}

// DefaultFolder returns a Folder with every default set and no path or bucket.
func DefaultFolder() Folder {
	return Folder{
		AfterIngest:       AfterIngestKeep,
		OnDelete:          OnDeleteKeep,
		Versioning:        VersioningUnchanged,
		QuietWindow:       DefaultQuietWindow,
		ReconcileInterval: DefaultReconcileInterval,
	}
}

// DefaultDropFolder is the folder of the embedded configuration:
// DATA_DIR/drop, where each first-level directory is a bucket.
func DefaultDropFolder(dataDir string) Folder {
	f := DefaultFolder()
	f.Path = filepath.Join(dataDir, DefaultDropDir)
	return f
}

// WithDefaults returns c with the zero fields of c and of each folder set to their
// defaults; call it after decoding YAML, whose list elements start out zero.
func (c Config) WithDefaults() Config {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	fs := make([]Folder, len(c.Folders))
	for i, f := range c.Folders {
		fs[i] = f.WithDefaults()
	}
	c.Folders = fs
	return c
}

// WithDefaults returns f with its zero fields set to their defaults.
func (f Folder) WithDefaults() Folder {
	d := DefaultFolder()
	if f.AfterIngest == "" {
		f.AfterIngest = d.AfterIngest
	}
	if f.OnDelete == "" {
		f.OnDelete = d.OnDelete
	}
	if f.QuietWindow == 0 {
		f.QuietWindow = d.QuietWindow
	}
	if f.Versioning == "" {
		f.Versioning = d.Versioning
	}
	if f.ReconcileInterval == 0 {
		f.ReconcileInterval = d.ReconcileInterval
	}
	return f
}

// ParseDropFlag parses the value of --drop DIR=BUCKET[/PREFIX] into a Folder with
// defaults. A bucket of "*" (DIR=*) means one bucket per first-level directory.
func ParseDropFlag(s string) (Folder, error) {
	bad := func(problem string) error {
		return fmt.Errorf("%w: --drop %q: %s; use --drop DIR=BUCKET or --drop DIR=BUCKET/PREFIX", ErrInvalidConfig, s, problem)
	}
	i := strings.LastIndex(s, "=")
	if i < 0 {
		return Folder{}, bad("missing '='")
	}
	dir, target := s[:i], s[i+1:]
	if dir == "" {
		return Folder{}, bad("the directory is empty")
	}
	if target == "" {
		return Folder{}, bad("the bucket is empty")
	}
	f := DefaultFolder()
	f.Path = dir
	bucket, prefix, _ := strings.Cut(target, "/")
	if bucket == "*" {
		bucket = ""
	} else if err := s3name.CheckBucket(bucket); err != nil {
		return Folder{}, bad(err.Error())
	}
	f.Bucket, f.Prefix = bucket, strings.Trim(prefix, "/")
	return f, nil
}

// Validate checks every folder and names the first bad field and how to fix it.
// Field names are the YAML keys, e.g. "drop.folders[1].after_ingest".
func (c Config) Validate() error {
	bad := func(field, problem, fix string) error {
		return fmt.Errorf("%w: %s: %s; %s", ErrInvalidConfig, field, problem, fix)
	}
	if c.Workers < 1 {
		return bad("drop.workers", fmt.Sprintf("is %d", c.Workers), fmt.Sprintf("use 1 or more (default %d)", DefaultWorkers))
	}
	abs := make([]string, len(c.Folders))
	for i, f := range c.Folders {
		field := fmt.Sprintf("drop.folders[%d]", i)
		if err := f.validate(field, bad); err != nil {
			return err
		}
		p, err := filepath.Abs(f.Path)
		if err != nil {
			return bad(field+".path", err.Error(), "use an absolute path")
		}
		abs[i] = p
		for j := 0; j < i; j++ {
			if within(p, abs[j]) || within(abs[j], p) {
				return bad(field+".path", fmt.Sprintf("%s overlaps drop.folders[%d].path %s", p, j, abs[j]),
					"give each folder its own directory tree, none inside another")
			}
		}
	}
	return nil
}

func (f Folder) validate(field string, bad func(field, problem, fix string) error) error {
	if f.Path == "" {
		return bad(field+".path", "is empty", "set the directory to watch")
	}
	if f.Bucket != "" {
		if err := s3name.CheckBucket(f.Bucket); err != nil {
			return bad(field+".bucket", err.Error(), "use an S3 bucket name, or leave it empty for one bucket per first-level directory")
		}
	}
	if f.Prefix != "" {
		if err := s3name.CheckKey(f.Prefix); err != nil {
			return bad(field+".prefix", err.Error(), "use a shorter UTF-8 prefix")
		}
	}
	for _, list := range []struct {
		name  string
		globs []string
	}{{"include", f.Include}, {"exclude", f.Exclude}} {
		for k, g := range list.globs {
			if _, err := path.Match(g, ""); err != nil || g == "" {
				return bad(fmt.Sprintf("%s.%s[%d]", field, list.name, k), fmt.Sprintf("%q is not a valid glob", g),
					"use *, ? and [...] as in shell patterns, with / between directories")
			}
		}
	}
	switch f.AfterIngest {
	case AfterIngestKeep, AfterIngestDelete:
		if f.DoneDir != "" {
			return bad(field+".done_dir", "is set but after_ingest is "+f.AfterIngest, "set after_ingest: move, or remove done_dir")
		}
	case AfterIngestMove:
		if f.DoneDir == "" {
			return bad(field+".done_dir", "is empty but after_ingest is move", "set the directory that receives ingested files")
		}
		d, err1 := filepath.Abs(f.DoneDir)
		p, err2 := filepath.Abs(f.Path)
		if err := errors.Join(err1, err2); err != nil {
			return bad(field+".done_dir", err.Error(), "use absolute paths")
		}
		if within(d, p) || within(p, d) {
			return bad(field+".done_dir", d+" overlaps the folder "+p, "put done_dir outside the drop folder (files there would be archived again)")
		}
	default:
		return bad(field+".after_ingest", fmt.Sprintf("%q is not known", f.AfterIngest), "use keep, delete or move")
	}
	switch f.OnDelete {
	case OnDeleteKeep:
	case OnDeleteDelete:
		if f.AfterIngest != AfterIngestKeep {
			return bad(field+".on_delete", "is delete but after_ingest is "+f.AfterIngest,
				"use on_delete: keep: files leave the folder after ingest by design")
		}
	default:
		return bad(field+".on_delete", fmt.Sprintf("%q is not known", f.OnDelete), "use keep or delete")
	}
	if f.Versioning != VersioningEnabled && f.Versioning != VersioningUnchanged {
		return bad(field+".versioning", fmt.Sprintf("%q is not known", f.Versioning), "use enabled or unchanged")
	}
	if f.QuietWindow < MinQuietWindow {
		return bad(field+".quiet_window", fmt.Sprintf("%s is too short", f.QuietWindow),
			fmt.Sprintf("use at least %s (default %s)", MinQuietWindow, DefaultQuietWindow))
	}
	if f.ReconcileInterval < MinReconcileInterval {
		return bad(field+".reconcile_interval", fmt.Sprintf("%s is too short", f.ReconcileInterval),
			fmt.Sprintf("use at least %s (default %s)", MinReconcileInterval, DefaultReconcileInterval))
	}
	return nil
}

// within reports whether p is dir or lies below it; both must be clean and absolute.
func within(p, dir string) bool {
	if p == dir {
		return true
	}
	if dir == string(filepath.Separator) {
		return true
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}
