package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// Names inside the raft directory.
const (
	nodeIDFile      = "node-id"
	walDirName      = "wal"
	snapshotDirName = "snapshots" // chosen by raft.FileSnapshotStore
	walMetaFile     = "wal-meta.db"
	boltLogFile     = "raft.db" // raft-boltdb's file name
)

var (
	walSegmentName     = regexp.MustCompile(`^[0-9]{20}-[0-9a-f]{16}\.wal$`)
	snapshotDirPattern = regexp.MustCompile(`^([0-9]+)-([0-9]+)-([0-9]+)$`)
)

// preflight is what Open learns by reading, never writing, the raft
// directory before it opens anything that could change a file.
type preflight struct {
	exists     bool
	nodeID     string
	fsmExists  bool
	fsmApplied uint64
	snapshot   *raft.SnapshotMeta // newest, nil if none
	snapPath   string             // its directory
	hasWAL     bool               // wal/ holds a wal-meta.db
}

func badState(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadState, fmt.Sprintf(format, args...))
}

func runPreflight(dir string) (*preflight, error) {
	p := &preflight{}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return p, nil
	} else if err != nil {
		return nil, fmt.Errorf("queue: stat %s: %w", dir, err)
	}
	p.exists = true
	if b, err := os.ReadFile(filepath.Join(dir, nodeIDFile)); err == nil {
		p.nodeID = strings.TrimSpace(string(b))
		if p.nodeID == "" {
			return nil, badState("%s is empty: write the node's ID into it, or remove it from a directory without raft state", filepath.Join(dir, nodeIDFile))
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("queue: read node ID: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, boltLogFile)); err == nil {
		return nil, badState("%s is a raft-boltdb log store, but ipas keeps its raft log in raft-wal under %s: there is no in-place migration; move %s (or the whole directory) away and start with an empty directory",
			filepath.Join(dir, boltLogFile), filepath.Join(dir, walDirName), boltLogFile)
	}
	if err := p.checkWAL(filepath.Join(dir, walDirName)); err != nil {
		return nil, err
	}
	if err := p.checkSnapshots(filepath.Join(dir, snapshotDirName)); err != nil {
		return nil, err
	}
	fsmPath := filepath.Join(dir, fsmFile)
	if _, err := os.Stat(fsmPath); err == nil {
		p.fsmExists = true
		if p.fsmApplied, err = inspectFSM(fsmPath); err != nil {
			return nil, badState("%s is not a usable ipas state database (%v): move it away; it is rebuilt from the newest snapshot and the raft log", fsmPath, err)
		}
	}
	if p.fsmApplied > 0 && !p.hasWAL && p.snapshot == nil {
		return nil, badState("%s has applied raft index %d but there is no raft log or snapshot: the log in %s was lost; restore it, or move %s away to start empty",
			fsmPath, p.fsmApplied, filepath.Join(dir, walDirName), fsmFile)
	}
	if p.nodeID == "" && (p.hasWAL || p.snapshot != nil) {
		return nil, badState("%s is missing but raft state exists: restore the file with the node's ID (it is in the raft configuration), or start with an empty directory", filepath.Join(dir, nodeIDFile))
	}
	return p, nil
}

// checkWAL refuses a wal directory raft-wal would misread or, worse, clean
// up: raft-wal deletes segment files its metadata does not list.
func (p *preflight) checkWAL(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("queue: read %s: %w", dir, err)
	}
	segments := 0
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == walMetaFile:
			p.hasWAL = true
		case name == walMetaFile+".tmp":
		case walSegmentName.MatchString(name) && !e.IsDir():
			segments++
		default:
			return badState("%s is not a raft-wal file (the directory may hold only %s and NNN-NNN.wal segments): move it out of %s",
				filepath.Join(dir, name), walMetaFile, dir)
		}
	}
	metaPath := filepath.Join(dir, walMetaFile)
	if !p.hasWAL {
		if segments > 0 {
			return badState("%s is missing but %d segment files exist: raft-wal would delete them; restore %s from a backup or move %s away",
				metaPath, segments, walMetaFile, dir)
		}
		return nil
	}
	db, err := bolt.Open(metaPath, 0o600, &bolt.Options{ReadOnly: true, Timeout: boltOpenTimeout})
	if err != nil {
		return badState("%s is not a raft-wal metadata database (%v): restore it from a backup or move %s away", metaPath, err, dir)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("wal-meta")) == nil || tx.Bucket([]byte("stable")) == nil {
			return badState("%s is a bbolt file but not raft-wal metadata (written by another log store?): move %s away", metaPath, dir)
		}
		return nil
	})
}

// snapshotMeta is the part of raft's meta.json that is checked here.
type snapshotMeta struct {
	raft.SnapshotMeta
	CRC []byte
}

// checkSnapshots finds the newest snapshot by its directory name and checks
// that its meta.json parses and its state.bin has the recorded size. The
// full checksum is read only when the snapshot must be restored.
func (p *preflight) checkSnapshots(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("queue: read %s: %w", dir, err)
	}
	var newest string
	var nt, ni, nm uint64
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasSuffix(name, ".tmp") {
			continue // raft's own leftovers; it ignores them too
		}
		m := snapshotDirPattern.FindStringSubmatch(name)
		if m == nil {
			return badState("%s is not a raft snapshot directory: move it out of %s", filepath.Join(dir, name), dir)
		}
		t, _ := strconv.ParseUint(m[1], 10, 64)
		i, _ := strconv.ParseUint(m[2], 10, 64)
		ms, _ := strconv.ParseUint(m[3], 10, 64)
		if newest == "" || t > nt || (t == nt && (i > ni || (i == ni && ms > nm))) {
			newest, nt, ni, nm = name, t, i, ms
		}
	}
	if newest == "" {
		return nil
	}
	path := filepath.Join(dir, newest)
	metaPath := filepath.Join(path, "meta.json")
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		return badState("newest snapshot: %v: restore the snapshot directory %s from a backup, or move it away if fsm.db and the raft log are intact", err, path)
	}
	var meta snapshotMeta
	if err := json.Unmarshal(raw, &meta); err != nil || meta.Index == 0 || len(meta.CRC) == 0 {
		return badState("newest snapshot: %s is corrupt (%v): restore the snapshot directory %s from a backup, or move it away if fsm.db and the raft log are intact", metaPath, err, path)
	}
	statePath := filepath.Join(path, "state.bin")
	st, err := os.Stat(statePath)
	if err != nil {
		return badState("newest snapshot: %v: restore %s from a backup, or move it away if fsm.db and the raft log are intact", err, path)
	}
	if st.Size() != meta.Size {
		return badState("newest snapshot: %s is %d bytes but %s records %d (truncated?): restore %s from a backup, or move it away if fsm.db and the raft log are intact",
			statePath, st.Size(), metaPath, meta.Size, path)
	}
	p.snapshot = &meta.SnapshotMeta
	p.snapPath = path
	return nil
}

// verifySnapshotCRC reads the whole state.bin, as raft will when restoring:
// raft would fall back to an older snapshot on a mismatch, whose log may
// be truncated already.
func verifySnapshotCRC(path string) error {
	raw, err := os.ReadFile(filepath.Join(path, "meta.json"))
	if err != nil {
		return err
	}
	var meta snapshotMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return err
	}
	statePath := filepath.Join(path, "state.bin")
	fh, err := os.Open(statePath)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := crc64.New(crc64.MakeTable(crc64.ECMA))
	if _, err := io.Copy(h, fh); err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), meta.CRC) {
		return badState("newest snapshot: %s does not match the checksum in meta.json: restore %s from a backup", statePath, path)
	}
	return nil
}

// fsmCurrent reports whether fsm.db holds everything up to the snapshot's
// index. The snapshot index can be above fsm.db's applied index only by
// entries the state machine never sees (no-ops, barriers).
func fsmCurrent(logs raft.LogStore, fsmApplied, snapIndex uint64) bool {
	if fsmApplied >= snapIndex {
		return true
	}
	const maxGap = 1024 // a real gap of commands is likely: stop looking
	if snapIndex-fsmApplied > maxGap {
		return false
	}
	for i := fsmApplied + 1; i <= snapIndex; i++ {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return false
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return false
		}
	}
	return true
}
