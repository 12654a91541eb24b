//go:build root

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
)

// TestServe_FullDisk mounts an 8 MiB tmpfs where the real daemon keeps its
// blobs (the journal stays on the test disk), fills it with a PUT that does
// not fit, and checks what a user would: the PUT fails with 507
// InsufficientStorage, nothing of it is left on the disk, the object stored
// before reads back byte-identical, and a PUT that fits works afterwards.
func TestServe_FullDisk(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	storeMount := filepath.Join(dataDir, storeDir)
	mountTmpfs(t, storeMount, "8m")
	env := []string{"IPAS_ACCESS_KEY=FULLDISKKEY", "IPAS_SECRET_KEY=full-disk-secret"}
	p := startServe(t, env, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	c := s3Client(p.endpoint, "FULLDISKKEY", "full-disk-secret")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bucket := aws.String("full-disk")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)})
		return err
	}
	kept := testutil.Content(1, 1<<20)
	if err := put("kept.bin", kept); err != nil {
		t.Fatal(err)
	}

	err := put("too-big.bin", testutil.Content(2, 12<<20))
	assertFull(t, err)

	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("too-big.bin")}); err == nil {
		t.Fatal("the failed PUT is visible")
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("kept.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, kept) {
		t.Fatalf("object stored before the disk filled: %d bytes, %v", len(got), err)
	}
	if tmp := filesUnder(t, filepath.Join(storeMount, "tmp")); len(tmp) != 0 {
		t.Fatalf("the failed PUT left temp files: %v", tmp)
	}
	if err := put("fits.bin", testutil.Content(3, 2<<20)); err != nil {
		t.Fatalf("a PUT that fits after a full disk: %v", err)
	}
}

// mountTmpfs mounts a tmpfs of size (mount's syntax: 8m) at dir, creating
// it, and unmounts it at cleanup; without root the test is skipped.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("IPAS_REQUIRE_TOOLS") != "" {
			t.Fatalf("mount a tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// filesUnder lists the files (not directories) under dir.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
