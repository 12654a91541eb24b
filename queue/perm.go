package queue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	walfs "github.com/hashicorp/raft-wal/fs"
	"github.com/hashicorp/raft-wal/metadb"
	"github.com/hashicorp/raft-wal/segment"
	"github.com/hashicorp/raft-wal/types"
)

// Everything under the raft directory is owner-only (directories 0700, files
// 0600), whatever the umask and the parent's mode. raft-wal creates its files
// 0644 and raft's snapshot store its directories 0755, so the node narrows
// them: segments as raft-wal creates them (ownerOnlyFS), the rest on Open.
const (
	ownerDirMode  fs.FileMode = 0o700
	ownerFileMode fs.FileMode = 0o600
)

// ownerOnlyFS is raft-wal's file system with segment files created 0600.
// A segment that does not fit on a full disk gets the journal's reserve:
// onNoSpace releases it, and the segment is created again.
type ownerOnlyFS struct {
	*walfs.FS
	onNoSpace func(why string) bool
}

var _ types.VFS = ownerOnlyFS{}

func (o ownerOnlyFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	f, err := o.FS.Create(dir, name, size)
	if err != nil && isNoSpace(err) && o.onNoSpace != nil && o.onNoSpace("new raft log segment: "+err.Error()) {
		os.Remove(filepath.Join(dir, name)) // the preallocation failed after the file was created
		f, err = o.FS.Create(dir, name, size)
	}
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(dir, name), ownerFileMode); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openWAL opens raft-wal in dir with owner-only files; onNoSpace (may be
// nil) releases space for a segment that does not fit.
func openWAL(dir string, segmentSize int, log hclog.Logger, onNoSpace func(string) bool) (*wal.WAL, error) {
	w, err := wal.Open(dir, wal.WithSegmentSize(segmentSize), wal.WithLogger(log),
		wal.WithSegmentFiler(segment.NewFiler(dir, ownerOnlyFS{FS: walfs.New(), onNoSpace: onNoSpace})))
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(filepath.Join(dir, metadb.FileName)); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// ownerOnly narrows path's mode to owner-only, and, for a directory, that of
// everything in it. A path that does not exist is not an error.
func ownerOnly(path string) error {
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := ownerFileMode
		if d.IsDir() {
			mode = ownerDirMode
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&^mode == 0 {
			return nil
		}
		return os.Chmod(p, info.Mode().Perm()&mode)
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("queue: make %s owner-only: %w", path, err)
	}
	return nil
}

// ownerOnlySnapshots is raft's file snapshot store with each snapshot narrowed
// to owner-only once it is written.
type ownerOnlySnapshots struct {
	*raft.FileSnapshotStore
	dir string // the store's snapshots directory
}

var _ raft.SnapshotStore = ownerOnlySnapshots{}

// openSnapshots opens raft's snapshot store in dir (its snapshots directory
// under it) with owner-only modes.
func openSnapshots(dir string, retain int, log hclog.Logger) (ownerOnlySnapshots, error) {
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, retain, log)
	if err != nil {
		return ownerOnlySnapshots{}, err
	}
	s := ownerOnlySnapshots{FileSnapshotStore: snaps, dir: filepath.Join(dir, "snapshots")}
	return s, ownerOnly(s.dir)
}

func (s ownerOnlySnapshots) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	sink, err := s.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		return nil, err
	}
	return ownerOnlySink{SnapshotSink: sink, dir: s.dir}, nil
}

type ownerOnlySink struct {
	raft.SnapshotSink
	dir string
}

func (s ownerOnlySink) Close() error {
	if err := s.SnapshotSink.Close(); err != nil {
		return err
	}
	return ownerOnly(filepath.Join(s.dir, s.ID()))
}
