package admin

import (
	"context"
	"encoding/json"
	"net/http"
)

// PathRetry retries a failing job at once, or releases a quarantined one
// (POST RetryRequest).
const PathRetry = "/_ipas/v1/replication/retry"

// RetryRequest is the body of POST PathRetry: the job's ID (Job.ID).
type RetryRequest struct {
	Job string `json:"job"`
}

// Jobs is what the daemon offers to act on one replication job. Optional,
// like Archive: a Controller that implements it gets PathRetry.
type Jobs interface {
	// RetryJob makes a failing job start now and a quarantined one start
	// again, its failures forgotten; an unknown job wraps ErrNotFound.
	RetryJob(ctx context.Context, id string) error
}

// RetryJob retries or releases the job id.
func (c *Client) RetryJob(ctx context.Context, id string) error {
	body, _ := json.Marshal(RetryRequest{Job: id}) // a string: cannot fail
	return c.do(ctx, http.MethodPost, PathRetry, body, nil)
}
