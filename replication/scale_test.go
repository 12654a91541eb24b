//go:build !slow

package replication_test

// smallObjects is the number of small objects in TestSmallNotStarved.
const smallObjects = 200
