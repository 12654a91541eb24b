package main

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/replication"
)

// headedObject is one object PUT through the gateway for the replication test, with
// what its remote copy must carry besides the bytes.
type headedObject struct {
	key       string
	body      []byte
	partSizes []int64 // the client's multipart parts; nil for a single PUT
}

// expiresAt is a fixed Expires header, in the form S3 keeps as is.
var expiresAt = time.Date(2033, 12, 1, 16, 0, 0, 0, time.UTC)

// putWithHeaders PUTs o through the gateway with content headers, user metadata and a
// CRC32C checksum, as one request or as a multipart upload of o.partSizes.
func putWithHeaders(t *testing.T, ctx context.Context, c *s3.Client, bucket string, o headedObject) {
	t.Helper()
	if o.partSizes == nil {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), Body: bytes.NewReader(o.body),
			ContentType: aws.String("text/plain; charset=utf-8"), CacheControl: aws.String("no-cache"), ContentLanguage: aws.String("fr"),
			ContentDisposition: aws.String(`attachment; filename="t.txt"`), Expires: aws.Time(expiresAt),
			Metadata: map[string]string{"owner": "alice"}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(o.key),
		ContentType: aws.String("video/mp4"), ContentEncoding: aws.String("identity"), CacheControl: aws.String("max-age=60"),
		Metadata: map[string]string{"camera": "pi"}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	var off int64
	for i, size := range o.partSizes {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(o.key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(o.body[off : off+size]), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
		off += size
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(o.key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
}

// checkRemoteMeta compares the remote copy's headers and metadata with what the
// gateway answers for the same object: ETag, checksum, content headers, user
// metadata, and the part sizes of a multipart object.
func checkRemoteMeta(t *testing.T, ctx context.Context, local, offsite *s3.Client, bucket, remoteBucket string, o headedObject) {
	t.Helper()
	want, err := local.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	got, err := offsite.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String(bucket + "/" + o.key)})
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]*string{
		"Content-Type": {want.ContentType, got.ContentType}, "Content-Encoding": {want.ContentEncoding, got.ContentEncoding},
		"Content-Disposition": {want.ContentDisposition, got.ContentDisposition}, "Content-Language": {want.ContentLanguage, got.ContentLanguage},
		"Cache-Control": {want.CacheControl, got.CacheControl}, "Expires": {want.ExpiresString, got.ExpiresString},
	} {
		if aws.ToString(pair[0]) != aws.ToString(pair[1]) {
			t.Errorf("%s: remote %s %q, the gateway answers %q", o.key, name, aws.ToString(pair[1]), aws.ToString(pair[0]))
		}
	}
	m, err := replication.DecodeObjectMeta(replication.RemoteHeaders{Metadata: got.Metadata})
	if err != nil {
		t.Fatal(err)
	}
	if wantETag := aws.ToString(want.ETag); `"`+m.ETag+`"` != wantETag {
		t.Errorf("%s: remote ipas-etag %q, the gateway answers %s", o.key, m.ETag, wantETag)
	}
	if sum := aws.ToString(want.ChecksumCRC32C); sum == "" || m.Checksums["CRC32C"] != sum {
		t.Errorf("%s: remote checksums %v, the gateway answers CRC32C %q (%s)", o.key, m.Checksums, sum, want.ChecksumType)
	}
	if !reflect.DeepEqual(m.PartSizes, o.partSizes) {
		t.Errorf("%s: remote part sizes %v, uploaded %v", o.key, m.PartSizes, o.partSizes)
	}
	if !reflect.DeepEqual(m.User, want.Metadata) || len(m.User) == 0 || len(m.Dropped) != 0 {
		t.Errorf("%s: remote user metadata %v (dropped %v), the gateway answers %v", o.key, m.User, m.Dropped, want.Metadata)
	}
	if o.partSizes == nil && aws.ToString(got.ExpiresString) != expiresAt.Format(http.TimeFormat) {
		t.Errorf("%s: remote Expires %q", o.key, aws.ToString(got.ExpiresString))
	}
}
