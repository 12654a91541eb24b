package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ipas/ipas/replication"
)

// DefaultListPageSize is the number of objects a LIST request asks for:
// S3's maximum, so that a listing costs as few requests as it can.
const DefaultListPageSize = 1000

// HeadObject implements replication.Remote.
func (c *Client) HeadObject(ctx context.Context, name string) (replication.RemoteObject, error) {
	return c.head(ctx, "head", name, c.Key(name), "")
}

func (c *Client) head(ctx context.Context, op, name, key, versionID string) (replication.RemoteObject, error) {
	out, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(c.cfg.Bucket), Key: aws.String(key), VersionId: optional(versionID)})
	if err != nil {
		return replication.RemoteObject{}, classify(op, name, err)
	}
	return objectHeaders{
		size: aws.ToInt64(out.ContentLength), etag: out.ETag, lastModified: out.LastModified,
		contentType: out.ContentType, contentEncoding: out.ContentEncoding, disposition: out.ContentDisposition,
		language: out.ContentLanguage, cacheControl: out.CacheControl, expiresRaw: out.ExpiresString,
		expires: out.Expires, metadata: out.Metadata, versionID: out.VersionId,
	}.object(op, name)
}

// GetObject implements replication.Remote with one GET, ranged unless the
// whole object is asked for. The caller closes the body.
func (c *Client) GetObject(ctx context.Context, name string, off, length int64) (io.ReadCloser, replication.RemoteObject, error) {
	return c.get(ctx, "get", name, c.Key(name), "", off, length)
}

// GetObjectVersion is GetObject of one version of name on a remote bucket
// with versioning (restore reads noncurrent versions so).
func (c *Client) GetObjectVersion(ctx context.Context, name, versionID string, off, length int64) (io.ReadCloser, replication.RemoteObject, error) {
	return c.get(ctx, "get version "+versionID+" of", name, c.Key(name), versionID, off, length)
}

// GetObjectAt is GetObject of the version loc names (the latest when
// loc.VersionID is "").
func (c *Client) GetObjectAt(ctx context.Context, loc replication.Location, off, length int64) (io.ReadCloser, replication.RemoteObject, error) {
	if loc.VersionID != "" {
		return c.GetObjectVersion(ctx, loc.Name, loc.VersionID, off, length)
	}
	return c.GetObject(ctx, loc.Name, off, length)
}

func (c *Client) get(ctx context.Context, op, name, key, versionID string, off, length int64) (io.ReadCloser, replication.RemoteObject, error) {
	if off < 0 {
		return nil, replication.RemoteObject{}, fmt.Errorf("remote: %s %s: negative offset %d", op, name, off)
	}
	if length == 0 {
		// S3 has no empty range: describe the object, send no bytes.
		obj, err := c.head(ctx, op, name, key, versionID)
		if err != nil {
			return nil, obj, err
		}
		return http.NoBody, obj, nil
	}
	in := &s3.GetObjectInput{Bucket: aws.String(c.cfg.Bucket), Key: aws.String(key), VersionId: optional(versionID)}
	switch {
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	out, err := c.s3.GetObject(ctx, in)
	if err != nil {
		return nil, replication.RemoteObject{}, classify(op, name, err)
	}
	size := aws.ToInt64(out.ContentLength)
	if in.Range != nil {
		total, err := rangeTotal(aws.ToString(out.ContentRange))
		if err != nil {
			out.Body.Close()
			return nil, replication.RemoteObject{}, fmt.Errorf("remote: %s %s: %w", op, name, err)
		}
		size = total
	}
	obj, err := objectHeaders{
		size: size, etag: out.ETag, lastModified: out.LastModified,
		contentType: out.ContentType, contentEncoding: out.ContentEncoding, disposition: out.ContentDisposition,
		language: out.ContentLanguage, cacheControl: out.CacheControl, expiresRaw: out.ExpiresString,
		expires: out.Expires, metadata: out.Metadata, versionID: out.VersionId,
	}.object(op, name)
	if err != nil {
		out.Body.Close()
		return nil, obj, err
	}
	return out.Body, obj, nil
}

// rangeTotal is the object size in a Content-Range ("bytes 0-99/1234").
func rangeTotal(cr string) (int64, error) {
	_, total, ok := strings.Cut(cr, "/")
	n, err := strconv.ParseInt(total, 10, 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("content-range %q has no object size", cr)
	}
	return n, nil
}

// ListObjects implements replication.Remote with ListObjectsV2. Keys under
// the prefix that are not local names (the control directory) are skipped.
func (c *Client) ListObjects(ctx context.Context, opts replication.ListOptions, fn func([]replication.ListedObject) error) (replication.ListStats, error) {
	var st replication.ListStats
	in := &s3.ListObjectsV2Input{
		Bucket:  aws.String(c.cfg.Bucket),
		Prefix:  aws.String(c.prefix + opts.Prefix),
		MaxKeys: aws.Int32(int32(c.listPageSize)),
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(c.prefix + opts.StartAfter)
	}
	page := make([]replication.ListedObject, 0, c.listPageSize)
	for {
		out, err := c.s3.ListObjectsV2(ctx, in)
		st.Requests++
		if err != nil {
			return st, classify("list", c.prefix+opts.Prefix, err)
		}
		page = page[:0]
		for _, o := range out.Contents {
			name, ok := strings.CutPrefix(aws.ToString(o.Key), c.prefix)
			if !ok || strings.HasPrefix(name, controlDir) {
				continue
			}
			page = append(page, replication.ListedObject{
				Name: name, Size: aws.ToInt64(o.Size), ETag: unquote(o.ETag), LastModified: aws.ToTime(o.LastModified),
			})
		}
		if len(page) > 0 {
			st.Objects += len(page)
			if err := fn(page); err != nil {
				return st, err
			}
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return st, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}
