//go:build !slow

package gateway

import "time"

// completeLoadDuration is how long TestCompleteUnderLoad runs.
const completeLoadDuration = 3 * time.Second
