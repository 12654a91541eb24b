//go:build slow

package watcher

import (
	"crypto/sha256"
	"hash"
	"testing"
	"time"
)

// manyFiles is the file count of TestManySmallFiles with the slow tag.
const manyFiles = 10000

func newSHA() hash.Hash { return sha256.New() }

// TestSlowWriter1GiB writes 1 GiB, 1 MiB at a time over 10 s.
func TestSlowWriter1GiB(t *testing.T) {
	slowWriter(t, 1024, 10*time.Second)
}
