package admin

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// PathLifecycle reports the lifecycle pass (GET) or starts one (POST), which
// applies the buckets' lifecycle rules (Lifecycler).
const PathLifecycle = "/_ipas/v1/lifecycle"

// Lifecycler is what the daemon offers to see and start the pass that
// applies the buckets' lifecycle configurations. Optional, like Cache.
type Lifecycler interface {
	// Lifecycle reports the pass, after starting one if start is true
	// (joining the one in progress, if any).
	Lifecycle(ctx context.Context, start bool) (Lifecycle, error)
}

// Lifecycle is the state of the lifecycle pass (body of PathLifecycle, and
// Status.Lifecycle).
type Lifecycle struct {
	Running *LifecycleRun `json:"running,omitempty"`
	Last    *LifecycleRun `json:"last,omitempty"`
	// Next is when the next scheduled pass is due; nil when the schedule
	// is off (s3.lifecycle_interval: 0).
	Next *time.Time `json:"next,omitempty"`
}

// LifecycleRun is one lifecycle pass.
type LifecycleRun struct {
	Run
	Buckets         int   `json:"buckets"`          // buckets with a lifecycle configuration
	UploadsAborted  int64 `json:"uploads_aborted"`  // AbortIncompleteMultipartUpload
	VersionsExpired int64 `json:"versions_expired"` // NoncurrentVersionExpiration
	MarkersRemoved  int64 `json:"markers_removed"`  // ExpiredObjectDeleteMarker
}

// lifecycleRoute serves PathLifecycle, when the Controller is a Lifecycler.
func (h *Handler) lifecycleRoute(path string) (route, bool) {
	l, ok := h.ctrl.(Lifecycler)
	if !ok || path != PathLifecycle {
		return route{}, false
	}
	return route{http.MethodPost, func(ctx context.Context, _ []byte) (any, error) { return l.Lifecycle(ctx, true) },
		func(ctx context.Context, _ url.Values) (any, error) { return l.Lifecycle(ctx, false) }}, true
}

// Lifecycle returns the lifecycle pass's state, after starting a pass if
// start is true.
func (c *Client) Lifecycle(ctx context.Context, start bool) (Lifecycle, error) {
	var out Lifecycle
	err := c.do(ctx, startMethod(start), PathLifecycle, nil, &out)
	return out, err
}
