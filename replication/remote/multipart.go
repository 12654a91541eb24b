package remote

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ipas/ipas/replication"
)

// CreateMultipartUpload implements replication.Remote.
func (c *Client) CreateMultipartUpload(ctx context.Context, name string, meta replication.ObjectMeta) (string, error) {
	h := c.encode(name, meta)
	in := &s3.CreateMultipartUploadInput{
		Bucket:             aws.String(c.cfg.Bucket),
		Key:                aws.String(c.Key(name)),
		Metadata:           h.Metadata,
		ContentType:        optional(h.ContentType),
		ContentEncoding:    optional(h.ContentEncoding),
		ContentDisposition: optional(h.ContentDisposition),
		ContentLanguage:    optional(h.ContentLanguage),
		CacheControl:       optional(h.CacheControl),
		Expires:            expires(h.Expires),
	}
	c.applyStorage(&in.StorageClass, &in.ServerSideEncryption, &in.SSEKMSKeyId)
	out, err := c.s3.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", classify("create multipart upload", name, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart implements replication.Remote.
func (c *Client) UploadPart(ctx context.Context, name, uploadID string, number int, body io.Reader, size int64, md5 []byte) (string, error) {
	out, err := c.s3.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:        aws.String(c.cfg.Bucket),
		Key:           aws.String(c.Key(name)),
		UploadId:      aws.String(uploadID),
		PartNumber:    aws.Int32(int32(number)),
		Body:          body,
		ContentLength: aws.Int64(size),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(md5)),
	}, unsignedPayload)
	if err != nil {
		return "", classify(fmt.Sprintf("upload part %d", number), name, err)
	}
	return strings.Trim(aws.ToString(out.ETag), `"`), nil
}

// ListParts implements replication.Remote.
func (c *Client) ListParts(ctx context.Context, name, uploadID string) ([]replication.RemotePart, error) {
	var out []replication.RemotePart
	p := s3.NewListPartsPaginator(c.s3, &s3.ListPartsInput{
		Bucket:   aws.String(c.cfg.Bucket),
		Key:      aws.String(c.Key(name)),
		UploadId: aws.String(uploadID),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, classify("list parts", name, err)
		}
		for _, pt := range page.Parts {
			out = append(out, replication.RemotePart{
				Number: int(aws.ToInt32(pt.PartNumber)),
				ETag:   strings.Trim(aws.ToString(pt.ETag), `"`),
				Size:   aws.ToInt64(pt.Size),
			})
		}
	}
	return out, nil
}

// CompleteMultipartUpload implements replication.Remote.
func (c *Client) CompleteMultipartUpload(ctx context.Context, name, uploadID string, parts []replication.Part) error {
	sorted := append([]replication.Part(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Number < sorted[j].Number })
	cp := make([]types.CompletedPart, len(sorted))
	for i, p := range sorted {
		cp[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(`"` + p.ETag + `"`)}
	}
	_, err := c.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(c.cfg.Bucket),
		Key:             aws.String(c.Key(name)),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cp},
	})
	return classify("complete multipart upload", name, err)
}

// AbortMultipartUpload implements replication.Remote.
func (c *Client) AbortMultipartUpload(ctx context.Context, name, uploadID string) error {
	_, err := c.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(c.cfg.Bucket),
		Key:      aws.String(c.Key(name)),
		UploadId: aws.String(uploadID),
	})
	return classify("abort multipart upload", name, err)
}

// ListMultipartUploads implements replication.Remote: uploads whose key is
// under the prefix, with the prefix removed.
func (c *Client) ListMultipartUploads(ctx context.Context) ([]replication.RemoteUpload, error) {
	var out []replication.RemoteUpload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(c.cfg.Bucket)}
	if c.prefix != "" {
		in.Prefix = aws.String(c.prefix)
	}
	for {
		page, err := c.s3.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, classify("list multipart uploads", c.prefix, err)
		}
		for _, u := range page.Uploads {
			k := aws.ToString(u.Key)
			if !strings.HasPrefix(k, c.prefix) {
				continue
			}
			out = append(out, replication.RemoteUpload{
				Name:      strings.TrimPrefix(k, c.prefix),
				UploadID:  aws.ToString(u.UploadId),
				Initiated: aws.ToTime(u.Initiated),
			})
		}
		if !aws.ToBool(page.IsTruncated) || (page.NextKeyMarker == nil && page.NextUploadIdMarker == nil) {
			return out, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}
