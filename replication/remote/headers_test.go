package remote_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/remotetest"
	"github.com/ipas/ipas/internal/testutil"
)

// TestRemoteCopyReadableWithoutIPAS: any S3 tool sees the content headers as
// headers and the user metadata under its own names; an object that IPAS did
// not write reads back as format 0 with its headers.
func TestRemoteCopyReadableWithoutIPAS(t *testing.T) {
	gw := testutil.StartVersityGW(t, "replica")
	r := newClient(t, gw.Endpoint, "replica", gw.AccessKey, gw.SecretKey, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	data := []byte("readable without ipas")
	meta := remotetest.Meta(data)
	sum := md5.Sum(data)
	if _, err := r.PutObject(ctx, "docs/plain.txt", bytes.NewReader(data), int64(len(data)), sum[:], meta); err != nil {
		t.Fatal(err)
	}
	direct := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(gw.AccessKey, gw.SecretKey, "")})
	h, err := direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("replica"), Key: aws.String("pi1/docs/plain.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ContentType) != meta.ContentType || aws.ToString(h.CacheControl) != meta.CacheControl ||
		aws.ToString(h.ContentDisposition) != meta.ContentDisposition || aws.ToString(h.ContentLanguage) != meta.ContentLanguage ||
		aws.ToString(h.ContentEncoding) != meta.ContentEncoding || aws.ToString(h.ExpiresString) != meta.Expires {
		t.Errorf("content headers are not real headers on the remote: %+v", h)
	}
	if h.Metadata["owner"] != "alice" || h.Metadata["ipas-format"] != "1" || h.Metadata["ipas-etag"] != meta.ETag {
		t.Errorf("remote metadata %v", h.Metadata)
	}

	foreign := []byte("put by another tool")
	if _, err := direct.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("replica"), Key: aws.String("pi1/docs/foreign"),
		Body: bytes.NewReader(foreign), ContentType: aws.String("text/csv"), Metadata: map[string]string{"who": "rclone"}}); err != nil {
		t.Fatal(err)
	}
	got, err := r.HeadObject(ctx, "docs/foreign")
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Format != 0 || got.Meta.SHA256 != "" || got.Meta.ContentType != "text/csv" || got.Meta.User["who"] != "rclone" || got.Size != int64(len(foreign)) {
		t.Errorf("foreign object: %+v", got)
	}
}
