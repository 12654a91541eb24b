//go:build slow

package replication_test

// smallObjects is the figure.
const smallObjects = 1000

func init() { resumeSize = 256 << 20 }

// largeObject uploads for about a minute at TestSmallNotStarved's 1 MiB/s.
const largeObject = 64 << 20
