package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ipas/ipas/internal/testutil"
)

// TestServe_AbortsOldUploads configures s3.abort_incomplete_uploads_after
// to 3 s: an upload abandoned with a part disappears from the listing and
// its UploadPart answers NoSuchUpload, while an upload started later and
// still within its age survives, as with S3's lifecycle rule.
func TestServe_AbortsOldUploads(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	if err := os.WriteFile(cfgPath, []byte("s3:\n  abort_incomplete_uploads_after: 3s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, adminTestEnv, "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0")
	c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bucket := aws.String("expiry")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	create := func(key string) *string {
		mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return mp.UploadId
	}
	part := func(key string, id *string) error {
		_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(1),
			Body: bytes.NewReader(testutil.Content(7, 1<<20))})
		return err
	}
	old := create("abandoned.bin")
	if err := part("abandoned.bin", old); err != nil {
		t.Fatal(err)
	}
	var listed []string
	deadline := time.Now().Add(20 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		listed = listed[:0]
		for _, u := range out.Uploads {
			listed = append(listed, aws.ToString(u.Key))
		}
		if len(listed) == 0 {
			break
		}
	}
	if len(listed) != 0 {
		t.Fatalf("uploads still listed 20 s after they were 3 s old: %v", listed)
	}
	var api smithy.APIError
	if err := part("abandoned.bin", old); !errors.As(err, &api) || api.ErrorCode() != "NoSuchUpload" {
		t.Fatalf("UploadPart to an expired upload: %v, want NoSuchUpload", err)
	}
	fresh := create("fresh.bin")
	if err := part("fresh.bin", fresh); err != nil {
		t.Fatalf("UploadPart to a fresh upload: %v", err)
	}
}
