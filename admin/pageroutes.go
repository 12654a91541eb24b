package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// pageRoute serves the Archive and Diagnostics endpoints, when the
// Controller implements them.
func (h *Handler) pageRoute(path string) (route, bool) {
	arch, _ := h.ctrl.(Archive)
	diag, _ := h.ctrl.(Diagnostics)
	alerter, _ := h.ctrl.(Alerter)
	jobs, _ := h.ctrl.(Jobs)
	history, _ := h.ctrl.(History)
	switch {
	case history != nil && path == PathHistory:
		return route{method: http.MethodGet, get: func(ctx context.Context, _ url.Values) (any, error) { return history.RateHistory(ctx) }}, true
	case jobs != nil && path == PathRetry:
		return route{method: http.MethodPost, serve: func(ctx context.Context, body []byte) (any, error) {
			var req RetryRequest
			if err := decodeBody(body, &req); err != nil {
				return nil, err
			}
			if req.Job == "" {
				return nil, fmt.Errorf("%w: name the job: {\"job\": ID}", ErrInvalid)
			}
			return nil, jobs.RetryJob(ctx, req.Job)
		}}, true
	case alerter != nil && path == PathAlertTest:
		return route{method: http.MethodPost, serve: func(ctx context.Context, _ []byte) (any, error) { return alerter.TestAlert(ctx) }}, true
	case arch != nil && path == PathBuckets:
		return route{http.MethodPost, func(ctx context.Context, body []byte) (any, error) {
			var req CreateBucketRequest
			if err := decodeBody(body, &req); err != nil {
				return nil, err
			}
			return nil, arch.CreateBucket(ctx, req.Name)
		}, func(ctx context.Context, _ url.Values) (any, error) { return arch.Buckets(ctx) }}, true
	case arch != nil && path == PathObjects:
		return route{method: http.MethodGet, get: func(ctx context.Context, q url.Values) (any, error) {
			req, err := ParseListRequest(q)
			if err != nil {
				return nil, err
			}
			return arch.ListObjects(ctx, req)
		}}, true
	case arch != nil && path == PathDeleteObject:
		return route{method: http.MethodPost, serve: func(ctx context.Context, body []byte) (any, error) {
			var ref ObjectRef
			if err := decodeBody(body, &ref); err != nil {
				return nil, err
			}
			return nil, arch.DeleteObject(ctx, ref)
		}}, true
	case diag != nil && path == PathRemoteTest:
		return route{method: http.MethodPost, serve: func(ctx context.Context, _ []byte) (any, error) { return diag.TestRemote(ctx) }}, true
	case diag != nil && path == PathDrop:
		return route{method: http.MethodGet, get: func(ctx context.Context, _ url.Values) (any, error) { return diag.DropFolders(ctx) }}, true
	case diag != nil && path == PathLog:
		return route{method: http.MethodGet, get: func(ctx context.Context, q url.Values) (any, error) {
			lq, err := ParseLogQuery(q)
			if err != nil {
				return nil, err
			}
			return diag.Log(ctx, lq)
		}}, true
	}
	return route{}, false
}

// decodeBody reads a JSON request body; unknown fields are refused, so that
// a typo is not silently ignored.
func decodeBody(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: the body is not the JSON this endpoint takes: %v", ErrInvalid, err)
	}
	return nil
}

// ParseListRequest reads the query of GET PathObjects (bucket, prefix,
// after, limit).
func ParseListRequest(q url.Values) (ListRequest, error) {
	req := ListRequest{Bucket: q.Get("bucket"), Prefix: q.Get("prefix"), After: q.Get("after")}
	if req.Bucket == "" {
		return req, fmt.Errorf("%w: name the bucket: ?bucket=NAME", ErrInvalid)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxListLimit {
			return req, fmt.Errorf("%w: limit %q: use 1 to %d", ErrInvalid, s, MaxListLimit)
		}
		req.Limit = n
	}
	return req, nil
}

// ParseLogQuery reads the query of GET PathLog (level, after, limit).
func ParseLogQuery(q url.Values) (LogQuery, error) {
	lq := LogQuery{Level: q.Get("level")}
	if lq.Level != "" && !slices.Contains(LogLevels, lq.Level) {
		return lq, fmt.Errorf("%w: level %q: use one of %v", ErrInvalid, lq.Level, LogLevels)
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return lq, fmt.Errorf("%w: after %q: use the last of the previous page", ErrInvalid, s)
		}
		lq.After = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return lq, fmt.Errorf("%w: limit %q: use 1 or more", ErrInvalid, s)
		}
		lq.Limit = n
	}
	return lq, nil
}
