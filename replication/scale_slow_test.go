//go:build slow

package replication_test

// smallObjects is the figure.
const smallObjects = 1000

func init() { resumeSize = 256 << 20 }

// largeObject uploads for about two minutes at TestSmallNotStarved's 1 MiB/s.
// Under that limit each small object waits for its share of the bandwidth
// (one burst, ~20 ms, behind each stream in flight), so the 1,000 small ones
// take about a minute: the large object must outlast them with a margin, or
// the test is a tie that proves nothing.
const largeObject = 128 << 20
