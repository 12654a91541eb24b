package remote

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ipas/ipas/replication"
)

// ListKeptVersions calls fn with each page of the versions the remote keeps
// besides the current objects under prefix (a local "bucket/" or ""): the
// objects under the versions directory (replication.VersionsDir, named as
// there), then, when the remote bucket has versioning, every version of a
// local name that is not the latest (named "bucket/key", with the remote's
// version ID). Delete markers are not listed: they have no bytes. A restore
// without the remote index finds the noncurrent versions so.
func (c *Client) ListKeptVersions(ctx context.Context, prefix string, fn func([]replication.ListedVersion) error) error {
	dir := &s3.ListObjectsV2Input{Bucket: aws.String(c.cfg.Bucket), Prefix: aws.String(c.prefix + replication.VersionsDir + prefix),
		MaxKeys: aws.Int32(int32(c.listPageSize))}
	for {
		out, err := c.s3.ListObjectsV2(ctx, dir)
		if err != nil {
			return classify("list versions", replication.VersionsDir+prefix, err)
		}
		page := make([]replication.ListedVersion, 0, len(out.Contents))
		for _, o := range out.Contents {
			name, _ := strings.CutPrefix(aws.ToString(o.Key), c.prefix)
			page = append(page, replication.ListedVersion{Name: name, Size: aws.ToInt64(o.Size), ETag: unquote(o.ETag),
				LastModified: aws.ToTime(o.LastModified)})
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			break
		}
		dir.ContinuationToken = out.NextContinuationToken
	}
	if on, err := c.Versioned(ctx); err != nil || !on {
		return err
	}
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(c.cfg.Bucket), Prefix: aws.String(c.prefix + prefix),
		MaxKeys: aws.Int32(int32(c.listPageSize))}
	for {
		out, err := c.s3.ListObjectVersions(ctx, in)
		if err != nil {
			return classify("list object versions", prefix, err)
		}
		page := make([]replication.ListedVersion, 0, len(out.Versions))
		for _, v := range out.Versions {
			name, ok := strings.CutPrefix(aws.ToString(v.Key), c.prefix)
			if !ok || aws.ToBool(v.IsLatest) || strings.HasPrefix(name, controlDir) {
				continue
			}
			page = append(page, replication.ListedVersion{Name: name, VersionID: remoteVersionID(v.VersionId),
				Size: aws.ToInt64(v.Size), ETag: unquote(v.ETag), LastModified: aws.ToTime(v.LastModified)})
		}
		if len(page) > 0 {
			if err := fn(page); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// HeadObjectVersion is HeadObject of one version of name ("" for the
// latest), on a remote bucket with versioning.
func (c *Client) HeadObjectVersion(ctx context.Context, name, versionID string) (replication.RemoteObject, error) {
	return c.head(ctx, "head", name, c.Key(name), versionID)
}
