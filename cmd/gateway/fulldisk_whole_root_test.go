//go:build root

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ipas/ipas/internal/testutil"
)

// TestServe_FullDiskWholeDataDir keeps the whole data directory (blobs,
// raft log, fsm.db, the local replica) on a 128 MiB tmpfs and fills it
// through S3, as a user would. Once a PUT answers 507, everything that
// reads or frees space must still work: GET (bytes equal), LIST, HEAD,
// DELETE, `gateway status`; a restart on the full disk serves reads; and
// deleting objects through S3 frees space so that a PUT works again, with
// no restart. Every acknowledged object that was not deleted reads back.
func TestServe_FullDiskWholeDataDir(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	mountTmpfs(t, dataDir, "128m")
	env := adminTestEnv
	args := []string{"--data-dir", dataDir, "--s3-addr", "127.0.0.1:0"}
	p := startServe(t, env, args...)
	c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bucket := aws.String("full")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	put := func(c *s3.Client, key string, body []byte) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)})
		return err
	}
	// Fill with smaller and smaller objects until even a small one does
	// not fit: 1 MiB, then 64 KiB, then 1 KiB ones (small ones are
	// journaled inline, so the raft log fills too).
	const size = 1 << 20
	acked := map[string][]byte{}
	var full error
	for n, objSize := range []int{size, 64 << 10, 1 << 10} {
		full = nil
		for i := 0; i < 2000 && full == nil; i++ {
			key := fmt.Sprintf("obj-%d-%04d", n, i)
			body := testutil.Content(n*10000+i, objSize)
			if full = put(c, key, body); full == nil {
				acked[key] = body
			}
		}
		assertFull(t, full)
	}
	t.Logf("%d objects acknowledged before 507: %v", len(acked), full)

	checkReads := func(c *s3.Client, endpoint string) {
		t.Helper()
		for key, want := range acked {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
			if err != nil {
				t.Fatalf("GET %s on a full disk: %v", key, err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("GET %s on a full disk: %d bytes, %v", key, len(got), err)
			}
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key)}); err != nil {
				t.Fatalf("HEAD %s on a full disk: %v", key, err)
			}
		}
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
		if err != nil {
			t.Fatalf("LIST on a full disk: %v", err)
		}
		if len(list.Contents) != len(acked) {
			t.Fatalf("LIST on a full disk: %d keys, want %d", len(list.Contents), len(acked))
		}
		if out, errOut, code := runCLI(t, adminTestEnv, "status", "--endpoint", endpoint); code != 0 {
			t.Fatalf("gateway status on a full disk: exit %d: %s%s", code, out, errOut)
		}
	}
	checkReads(c, p.endpoint)

	// A restart on the full disk comes up and serves reads.
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM on a full disk: %v; stderr:\n%s", err, p.stderr)
	}
	p = startServe(t, env, args...)
	c = s3Client(p.endpoint, adminTestKey, adminTestSecret)
	checkReads(c, p.endpoint)
	// The restart may have found room (the journal's reserve released
	// before it): a PUT then works, or is refused with the same 507.
	if body := testutil.Content(999, size); put(c, "after-restart", body) == nil {
		acked["after-restart"] = body
	}

	// Deleting through S3 frees the space: a PUT works again, no restart.
	deleted := 0
	for key := range acked {
		if deleted == len(acked)/2 {
			break
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(key)}); err != nil {
			t.Fatalf("DELETE %s on a full disk: %v", key, err)
		}
		delete(acked, key)
		deleted++
	}
	body := testutil.Content(1000, size)
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if err = put(c, "after-delete", body); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("PUT after deleting %d objects: %v", deleted, err)
	}
	acked["after-delete"] = body
	checkReads(c, p.endpoint)
}

// assertFull fails unless err is S3's answer for a full disk: 507
// InsufficientStorage with a message that says what to do.
func assertFull(t *testing.T, err error) {
	t.Helper()
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &api) || api.ErrorCode() != "InsufficientStorage" || !errors.As(err, &resp) || resp.HTTPStatusCode() != 507 {
		t.Fatalf("PUT on a full disk: %v, want 507 InsufficientStorage", err)
	}
	if !strings.Contains(api.ErrorMessage(), "delete") {
		t.Fatalf("507 message %q does not say how to free space", api.ErrorMessage())
	}
}
