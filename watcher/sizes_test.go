//go:build !slow

package watcher

import (
	"crypto/sha256"
	"hash"
)

// manyFiles is the file count of TestManySmallFiles without the slow tag.
const manyFiles = 2000

func newSHA() hash.Hash { return sha256.New() }
