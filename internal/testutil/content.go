package testutil

// Content returns n deterministic pseudo-random bytes (xorshift): test data that
// does not compress or dedup by accident, the same for the same seed.
func Content(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
