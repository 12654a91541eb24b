package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// Layout of the data directory.
const (
	lockFile   = "LOCK"
	storeDir   = "store"
	journalDir = "journal"
)

// dataDir is an opened, locked data directory.
type dataDir struct {
	path string
	lock *os.File
}

// openDataDir creates the directory if needed, proves it is writable and takes an
// exclusive lock on it, so two daemons never share one journal.
func openDataDir(path string) (*dataDir, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", path, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, dataDirError(abs, err)
	}
	// A full disk passes: the daemon starts, serves reads and frees space.
	probe, err := os.CreateTemp(abs, ".write-probe-*")
	if err != nil && !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, syscall.EDQUOT) {
		return nil, dataDirError(abs, err)
	}
	if err == nil {
		probe.Close()
		os.Remove(probe.Name())
	}

	lock, err := os.OpenFile(filepath.Join(abs, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, dataDirError(abs, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another gateway process; stop it first, or give this one its own --data-dir", abs)
		}
		return nil, fmt.Errorf("data directory %s: lock: %w", abs, err)
	}
	return &dataDir{path: abs, lock: lock}, nil
}

func dataDirError(path string, err error) error {
	return fmt.Errorf("data directory %s is not writable (%w); create it and give the gateway's user write access (chown/chmod), or choose another with --data-dir", path, err)
}

func (d *dataDir) join(elem ...string) string {
	return filepath.Join(append([]string{d.path}, elem...)...)
}

// close releases the lock.
func (d *dataDir) close() error {
	return d.lock.Close()
}
