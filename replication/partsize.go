package replication

// S3's multipart limits.
const (
	// MinPartSize is the smallest part S3 accepts (except the last one).
	MinPartSize = 5 << 20
	// MaxParts is the most parts one upload may have.
	MaxParts = 10000
	// DefaultPartSize is the part size unless an object needs larger ones:
	// small enough that an interrupted part costs seconds, not minutes.
	DefaultPartSize = 8 << 20
)

// partSize returns the part size for an object of size bytes: want (at
// least MinPartSize), doubled until the object fits in MaxParts parts.
func partSize(size, want int64) int64 {
	ps := max(want, MinPartSize)
	for (size+ps-1)/ps > MaxParts {
		ps *= 2
	}
	return ps
}

// partCount is the number of parts of an object of size bytes.
func partCount(size, ps int64) int {
	if size == 0 {
		return 1
	}
	return int((size + ps - 1) / ps)
}

// partRange returns part number n's (1-based) offset and length.
func partRange(size, ps int64, n int) (off, length int64) {
	off = int64(n-1) * ps
	return off, min(ps, size-off)
}
