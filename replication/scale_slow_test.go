//go:build slow

package replication_test

// smallObjects is the figure.
const smallObjects = 1000

func init() { resumeSize = 256 << 20 }
