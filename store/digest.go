package store

import (
	"encoding/hex"
	"fmt"
	"path/filepath"
)

// Digest is the SHA-256 of a blob's content and the blob's address in the store.
type Digest [32]byte

// String returns the digest as 64 lowercase hex characters.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// ParseDigest parses 64 hex characters (either case) into a Digest.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return d, fmt.Errorf("store: parse digest %q: want %d hex characters, got %d", s, 2*len(d), len(s))
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, fmt.Errorf("store: parse digest %q: %w", s, err)
	}
	return d, nil
}

// Blob describes a committed blob: its address, the MD5 the S3 layer needs for ETags,
// and its size in bytes.
type Blob struct {
	Digest Digest
	MD5    [16]byte
	Size   int64
}

// Layout names. Blobs live two fan-out levels deep so that no directory holds more than
// a few hundred entries even with millions of blobs; temp files live in their own
// directory on the same filesystem so that rename into place is atomic.
const (
	blobsDirName = "blobs"
	tmpDirName   = "tmp"
	lockFileName = "LOCK"
	tempSuffix   = ".tmp"
)

// blobDir returns the fan-out directory of d, relative to the store's blobs directory.
func blobDir(blobs string, d Digest) string {
	h := d.String()
	return filepath.Join(blobs, h[0:2], h[2:4])
}

// blobPath returns the path of d's file under the store's blobs directory.
func blobPath(blobs string, d Digest) string {
	return filepath.Join(blobDir(blobs, d), d.String())
}
