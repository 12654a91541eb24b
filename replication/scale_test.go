//go:build !slow

package replication_test

// smallObjects is the number of small objects in TestSmallNotStarved.
const smallObjects = 200

// largeObject uploads for about 24 s at TestSmallNotStarved's 1 MiB/s, twice
// what the 200 small objects take under that limit (see scale_slow_test.go).
const largeObject = 24 << 20
