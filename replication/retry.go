package replication

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ipas/ipas/store"
)

// backoff returns the wait after the n-th consecutive failure: min doubled
// n-1 times, capped at max, with "equal jitter" (half fixed, half random)
// so that many jobs failing together do not retry in lockstep.
func backoff(n int, minWait, maxWait time.Duration) time.Duration {
	d := minWait
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// errLocalMismatch means the local bytes do not hash to the object's SHA-256.
var errLocalMismatch = errors.New("replication: local bytes do not match the object's SHA-256")

// isPoison reports errors that retrying cannot fix and that concern one job:
// its local bytes are missing or corrupt, or the remote rejects the object.
func isPoison(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCorrupt) ||
		errors.Is(err, store.ErrInvalidRange) || errors.Is(err, ErrRejected) ||
		errors.Is(err, errLocalMismatch)
}
