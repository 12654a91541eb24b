package remote

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/ipas/ipas/replication"
)

// Server-side copies. S3 copies up to 5 GiB in one CopyObject; a larger
// object is copied as a multipart upload of UploadPartCopy ranges.
const (
	// MaxCopyObject is the largest source of one CopyObject.
	MaxCopyObject = 5 << 30
	// CopyPartSize is the range of one UploadPartCopy.
	CopyPartSize = 1 << 30
)

// WithCopyLimits overrides MaxCopyObject and CopyPartSize (tests copy
// megabytes in parts).
func WithCopyLimits(maxSingle, partSize int64) Option {
	return func(o *options) { o.maxCopy, o.copyPart = maxSingle, partSize }
}

// CopyObject implements replication.RemoteVersions: a server-side copy of
// src (its version srcVersionID, or the latest when "") of size bytes onto
// dst, that sends no object bytes over the uplink. The copy keeps src's
// headers and metadata (a multipart copy sets meta, which must be src's).
// With srcETag the remote copies only if src's ETag is still that one
// (x-amz-copy-source-if-match), so that a copy never takes bytes a racing
// upload put there meanwhile: replication.ErrCopySourceChanged if not.
func (c *Client) CopyObject(ctx context.Context, src, srcVersionID, srcETag, dst string, size int64, meta replication.ObjectMeta) (replication.RemoteCopy, error) {
	source := c.copySource(src, srcVersionID)
	var ifMatch *string
	if srcETag != "" {
		ifMatch = aws.String(`"` + srcETag + `"`)
	}
	if size > c.maxCopy {
		return c.copyParts(ctx, src, source, ifMatch, dst, size, meta)
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(c.cfg.Bucket),
		Key:               aws.String(c.Key(dst)),
		CopySource:        aws.String(source),
		CopySourceIfMatch: ifMatch,
		MetadataDirective: types.MetadataDirectiveCopy,
	}
	c.applyStorage(&in.StorageClass, &in.ServerSideEncryption, &in.SSEKMSKeyId)
	out, err := c.s3.CopyObject(ctx, in)
	if err != nil {
		return replication.RemoteCopy{}, copyError(src, dst, err)
	}
	rc := replication.RemoteCopy{Size: size, VersionID: remoteVersionID(out.VersionId)}
	if out.CopyObjectResult != nil {
		rc.ETag = unquote(out.CopyObjectResult.ETag)
	}
	return rc, nil
}

// copyParts copies a source larger than one CopyObject may take.
func (c *Client) copyParts(ctx context.Context, src, source string, ifMatch *string, dst string, size int64, meta replication.ObjectMeta) (replication.RemoteCopy, error) {
	id, err := c.CreateMultipartUpload(ctx, dst, meta)
	if err != nil {
		return replication.RemoteCopy{}, err
	}
	done := false
	defer func() {
		if !done {
			c.AbortMultipartUpload(context.WithoutCancel(ctx), dst, id)
		}
	}()
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+c.copyPart {
		end := min(off+c.copyPart, size) - 1
		out, err := c.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: aws.String(c.cfg.Bucket), Key: aws.String(c.Key(dst)), UploadId: aws.String(id), PartNumber: aws.Int32(n),
			CopySource: aws.String(source), CopySourceIfMatch: ifMatch,
			CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			return replication.RemoteCopy{}, copyError(src, dst, err)
		}
		etag := ""
		if out.CopyPartResult != nil {
			etag = aws.ToString(out.CopyPartResult.ETag)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)})
	}
	out, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(c.cfg.Bucket), Key: aws.String(c.Key(dst)), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		return replication.RemoteCopy{}, classify("complete copy", dst, err)
	}
	done = true
	return replication.RemoteCopy{ETag: unquote(out.ETag), Size: size, VersionID: remoteVersionID(out.VersionId)}, nil
}

// copySource is the x-amz-copy-source of name: bucket and key, each path
// segment escaped, and the version.
func (c *Client) copySource(name, versionID string) string {
	segs := strings.Split(c.cfg.Bucket+"/"+c.Key(name), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	source := strings.Join(segs, "/")
	if versionID != "" {
		source += "?versionId=" + url.QueryEscape(versionID)
	}
	return source
}

func copyError(src, dst string, err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed" {
		return fmt.Errorf("remote: copy %s to %s: %w: %w", src, dst, replication.ErrCopySourceChanged, err)
	}
	return classify("copy", src+" to "+dst, err)
}
