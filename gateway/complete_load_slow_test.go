//go:build slow

package gateway

import "time"

// completeLoadDuration is long enough to have seen several lost Completes
// before the fix (about one in 250).
const completeLoadDuration = 2 * time.Minute
