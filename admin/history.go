package admin

import (
	"context"
	"net/http"
	"time"
)

// PathHistory reports the upload rate and the limit over the last day (GET).
const PathHistory = "/_ipas/v1/replication/history"

// LimitPaused in RateHistory.Limits marks an interval in which uploads were
// paused (by an operator, a timetable, an error or the budget).
const LimitPaused = -1

// RateHistory is the body of GET PathHistory: one value per interval,
// oldest first, the last one ending at End. It covers the time since the
// daemon started, at most a day.
type RateHistory struct {
	End             time.Time `json:"end"`
	IntervalSeconds int       `json:"interval_seconds"`
	// Rates are the bytes sent to the remote per second, averaged over
	// each interval.
	Rates []int64 `json:"bytes_per_second"`
	// Limits are the bandwidth limit in force at the end of each interval
	// in bytes/s: 0 is unlimited, LimitPaused paused.
	Limits []int64 `json:"limit_bytes_per_second"`
}

// History is what the daemon offers for the upload chart. Optional, like
// Archive: a Controller that implements it gets PathHistory.
type History interface {
	RateHistory(ctx context.Context) (RateHistory, error)
}

// RateHistory returns the upload rate over the last day.
func (c *Client) RateHistory(ctx context.Context) (RateHistory, error) {
	var out RateHistory
	err := c.do(ctx, http.MethodGet, PathHistory, nil, &out)
	return out, err
}
