package admin

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// Paths of the cache endpoints (Cache).
const (
	// PathCache reports the cache (GET CacheStatus).
	PathCache = "/_ipas/v1/cache"
	// PathCacheEvict evicts now what is offsite under a bucket and prefix
	// (POST CacheRequest, answered EvictResult).
	PathCacheEvict = "/_ipas/v1/cache/evict"
	// PathCacheFetch brings back into the cache what is on the remote only
	// under a bucket and prefix (POST CacheRequest, answered FetchResult).
	PathCacheFetch = "/_ipas/v1/cache/fetch"
)

// Cache is what the daemon offers to see and steer the local cache of the
// remote. Optional, like Archive.
type Cache interface {
	CacheStatus(ctx context.Context) (CacheStatus, error)
	// Evict and Fetch wrap ErrNotFound for a missing bucket, ErrInvalid
	// for a request without one.
	Evict(ctx context.Context, req CacheRequest) (EvictResult, error)
	Fetch(ctx context.Context, req CacheRequest) (FetchResult, error)
}

// CacheRequest names the objects of Bucket whose keys start with Prefix
// ("" for the whole bucket; a key is a prefix of itself).
type CacheRequest struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
}

// CacheStatus is the disk as a cache of the remote (body of GET PathCache,
// and Status.Cache).
type CacheStatus struct {
	// Enabled is false without store.capacity: nothing is evicted by itself.
	Enabled bool `json:"enabled"`
	// Setting is store.capacity as configured; CapacityBytes, HighWater and
	// LowWater are in bytes, of a file system of FilesystemBytes of which
	// UsedBytes are used.
	Setting         string `json:"capacity_setting"`
	CapacityBytes   int64  `json:"capacity_bytes"`
	HighWaterBytes  int64  `json:"high_water_bytes"`
	LowWaterBytes   int64  `json:"low_water_bytes"`
	FilesystemBytes int64  `json:"filesystem_bytes"`
	UsedBytes       int64  `json:"used_bytes"`
	// As the last pass over the index found them: bytes of local objects,
	// of which evictable (verified offsite), pinned (store.keep_local) and
	// not yet offsite; bytes on the remote only.
	LocalBytes      int64      `json:"local_bytes"`
	EvictableBytes  int64      `json:"evictable_bytes"`
	PinnedBytes     int64      `json:"pinned_bytes"`
	NotOffsiteBytes int64      `json:"not_offsite_bytes"`
	RemoteOnlyBytes int64      `json:"remote_only_bytes"`
	LastPass        *time.Time `json:"last_pass,omitempty"`
	// Since the daemon started: GETs of local objects (hits) and of
	// remote-only ones (misses), bytes read through from the remote,
	// evictions and refused writes.
	Hits             int64   `json:"hits"`
	Misses           int64   `json:"misses"`
	HitRatio         float64 `json:"hit_ratio"`
	ReadThroughBytes int64   `json:"read_through_bytes"`
	EvictedObjects   int64   `json:"evicted_objects"`
	EvictedBytes     int64   `json:"evicted_bytes"`
	RefusedWrites    int64   `json:"refused_writes"`
	// Refusing says why writes are refused now (507); "" when they are not.
	Refusing string `json:"refusing,omitempty"`
}

// EvictResult is what an evict request did.
type EvictResult struct {
	Matched       int64 `json:"matched"`
	Evicted       int64 `json:"evicted"`
	EvictedBytes  int64 `json:"evicted_bytes"`
	AlreadyRemote int64 `json:"already_remote"`
	// NotOffsite and Pinned were left local: not verified on the remote
	// yet, or under store.keep_local.
	NotOffsite int64 `json:"not_offsite"`
	Pinned     int64 `json:"pinned"`
}

// FetchResult is what a fetch request did.
type FetchResult struct {
	Matched      int64  `json:"matched"`
	Fetched      int64  `json:"fetched"`
	FetchedBytes int64  `json:"fetched_bytes"`
	AlreadyLocal int64  `json:"already_local"`
	Failed       int64  `json:"failed"`
	FirstError   string `json:"first_error,omitempty"`
}

// cacheRoute serves the Cache endpoints, when the Controller implements it.
func (h *Handler) cacheRoute(path string) (route, bool) {
	c, ok := h.ctrl.(Cache)
	if !ok {
		return route{}, false
	}
	switch path {
	case PathCache:
		return route{method: http.MethodGet, get: func(ctx context.Context, _ url.Values) (any, error) { return c.CacheStatus(ctx) }}, true
	case PathCacheEvict:
		return route{method: http.MethodPost, serve: func(ctx context.Context, body []byte) (any, error) {
			var req CacheRequest
			if err := decodeBody(body, &req); err != nil {
				return nil, err
			}
			return c.Evict(ctx, req)
		}}, true
	case PathCacheFetch:
		return route{method: http.MethodPost, serve: func(ctx context.Context, body []byte) (any, error) {
			var req CacheRequest
			if err := decodeBody(body, &req); err != nil {
				return nil, err
			}
			return c.Fetch(ctx, req)
		}}, true
	}
	return route{}, false
}

// CacheStatus reports the cache.
func (c *Client) CacheStatus(ctx context.Context) (CacheStatus, error) {
	var out CacheStatus
	err := c.do(ctx, http.MethodGet, PathCache, nil, &out)
	return out, err
}

// Evict evicts what is offsite under req.
func (c *Client) Evict(ctx context.Context, req CacheRequest) (EvictResult, error) {
	var out EvictResult
	err := c.doJSON(ctx, PathCacheEvict, req, &out)
	return out, err
}

// Fetch brings back what is on the remote only under req.
func (c *Client) Fetch(ctx context.Context, req CacheRequest) (FetchResult, error) {
	var out FetchResult
	err := c.doJSON(ctx, PathCacheFetch, req, &out)
	return out, err
}
