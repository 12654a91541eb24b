package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestServe_CollectsReplacedAndDeletedBlobs runs the real daemon with a short
// collection interval: once an overwritten and a deleted object have been
// replicated (the default local copy), their blobs leave the disk, while the
// current version's blob stays and reads back byte-identical.
func TestServe_CollectsReplacedAndDeletedBlobs(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfgPath := filepath.Join(t.TempDir(), "ipas.yaml")
	if err := os.WriteFile(cfgPath, []byte("store: {gc_interval: 100ms}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"IPAS_ACCESS_KEY=GCTESTKEY", "IPAS_SECRET_KEY=gc-test-secret"}
	p := startServe(t, env, "--config", cfgPath, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	c := s3Client(p.endpoint, "GCTESTKEY", "gc-test-secret")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	put := func(key string, body []byte) {
		t.Helper()
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("gc-test"), Key: aws.String(key), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("gc-test")}); err != nil {
		t.Fatal(err)
	}
	old, current, deleted := []byte("version one of the report"), []byte("version two of the report"), []byte("a file deleted later")
	put("report.txt", old)
	put("report.txt", current)
	put("tmp.txt", deleted)
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("gc-test"), Key: aws.String("tmp.txt")}); err != nil {
		t.Fatal(err)
	}

	blobPath := func(b []byte) string {
		sum := sha256.Sum256(b)
		h := hex.EncodeToString(sum[:])
		return filepath.Join(dataDir, storeDir, "blobs", h[:2], h[2:4], h)
	}
	// Small objects are staged first and land in blobs/ with the journal's
	// next commit (store.Stage); the replaced and deleted ones may be
	// collected before or after that.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		_, errCurrent := os.Stat(blobPath(current))
		_, errOld := os.Stat(blobPath(old))
		_, errDeleted := os.Stat(blobPath(deleted))
		if errCurrent == nil && os.IsNotExist(errOld) && os.IsNotExist(errDeleted) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute: current blob %v; replaced/deleted blobs still on disk (%v, %v); stderr:\n%s",
				errCurrent, errOld, errDeleted, p.stderr)
		}
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("gc-test"), Key: aws.String("report.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, current) {
		t.Fatalf("current version read back %q, %v; want %q", got, err, current)
	}
}
