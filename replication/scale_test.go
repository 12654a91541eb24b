//go:build !slow

package replication_test

// smallObjects is the number of small objects in TestSmallNotStarved.
const smallObjects = 200

// largeObject uploads for about 12 s at TestSmallNotStarved's 1 MiB/s.
const largeObject = 12 << 20
