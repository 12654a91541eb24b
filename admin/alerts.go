package admin

import (
	"context"
	"time"
)

// PathAlertTest sends a test alert through every configured channel (POST).
const PathAlertTest = "/_ipas/v1/alerts/test"

// Alert is a condition that needs a human (Status.Alerts): the daemon has
// notified it, or will, and reminds daily until it clears.
type Alert struct {
	// Kind names the condition: replication-stopped, job-quarantined,
	// oldest-pending, disk-full, scrub-corruption or budget-spent.
	Kind    string    `json:"kind"`
	Summary string    `json:"summary"`
	Detail  string    `json:"detail,omitempty"`
	Since   time.Time `json:"since"`
	// Notified is when the last notice (first alert or reminder) was made.
	Notified time.Time `json:"notified"`
	// Clearing is set while the condition no longer holds but has not
	// been clear long enough to be announced as resolved.
	Clearing bool `json:"clearing,omitempty"`
}

// Alerter is what the daemon offers to test its alert channels. Optional,
// like Archive: a Controller that implements it gets PathAlertTest.
type Alerter interface {
	// TestAlert sends a test notice through every channel now.
	TestAlert(ctx context.Context) (AlertTest, error)
}

// AlertTest is the body of POST PathAlertTest: one result per channel.
type AlertTest struct {
	Channels []AlertChannel `json:"channels"`
}

// AlertChannel is one channel's answer to a test alert.
type AlertChannel struct {
	Name  string `json:"name"` // e.g. "webhook https://ntfy.sh/..." or "email to a@example.com"
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// TestAlert sends a test alert through the daemon's channels.
func (c *Client) TestAlert(ctx context.Context) (AlertTest, error) {
	var out AlertTest
	err := c.do(ctx, "POST", PathAlertTest, nil, &out)
	return out, err
}
