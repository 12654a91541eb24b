package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// archiveIDFile names the archive a data directory holds. The remote index
// records it, so that a restore refuses an index of another archive; a
// restore writes the restored archive's ID, so that the Pi carries on the
// same archive.
const archiveIDFile = "archive-id"

// readArchiveID returns the data directory's archive ID, or "" if it has none.
func readArchiveID(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, archiveIDFile))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read archive ID: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// loadOrCreateArchiveID returns the data directory's archive ID, creating one
// on first use.
func loadOrCreateArchiveID(dataDir string) (string, error) {
	id, err := readArchiveID(dataDir)
	if err != nil || id != "" {
		return id, err
	}
	id = "archive-" + strings.ToLower(rand.Text())
	return id, writeArchiveID(dataDir, id)
}

func writeArchiveID(dataDir, id string) error {
	path := filepath.Join(dataDir, archiveIDFile)
	if err := writeFileAtomic(path, []byte(id+"\n"), 0o600); err != nil {
		return fmt.Errorf("write archive ID %s: %w", path, err)
	}
	return nil
}
