package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// Buckets lists the buckets.
func (c *Client) Buckets(ctx context.Context) (BucketList, error) {
	var out BucketList
	err := c.do(ctx, http.MethodGet, PathBuckets, nil, &out)
	return out, err
}

// CreateBucket creates a bucket.
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	return c.doJSON(ctx, PathBuckets, CreateBucketRequest{Name: name}, nil)
}

// ListObjects returns one page of a bucket.
func (c *Client) ListObjects(ctx context.Context, req ListRequest) (Listing, error) {
	q := url.Values{"bucket": {req.Bucket}}
	if req.Prefix != "" {
		q.Set("prefix", req.Prefix)
	}
	if req.After != "" {
		q.Set("after", req.After)
	}
	if req.Limit > 0 {
		q.Set("limit", strconv.Itoa(req.Limit))
	}
	var out Listing
	err := c.do(ctx, http.MethodGet, PathObjects+"?"+q.Encode(), nil, &out)
	return out, err
}

// DeleteObject deletes an object.
func (c *Client) DeleteObject(ctx context.Context, ref ObjectRef) error {
	return c.doJSON(ctx, PathDeleteObject, ref, nil)
}

// TestRemote runs the checks of `gateway remote test` in the daemon.
func (c *Client) TestRemote(ctx context.Context) (RemoteTest, error) {
	var out RemoteTest
	err := c.do(ctx, http.MethodPost, PathRemoteTest, nil, &out)
	return out, err
}

// DropFolders reports the drop folders.
func (c *Client) DropFolders(ctx context.Context) (DropFolders, error) {
	var out DropFolders
	err := c.do(ctx, http.MethodGet, PathDrop, nil, &out)
	return out, err
}

// Log returns the recent log.
func (c *Client) Log(ctx context.Context, lq LogQuery) (LogPage, error) {
	q := url.Values{}
	if lq.Level != "" {
		q.Set("level", lq.Level)
	}
	if lq.After > 0 {
		q.Set("after", strconv.FormatUint(lq.After, 10))
	}
	if lq.Limit > 0 {
		q.Set("limit", strconv.Itoa(lq.Limit))
	}
	path := PathLog
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out LogPage
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

func (c *Client) doJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, body, out)
}
