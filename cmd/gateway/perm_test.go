package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestServe_DataDirectoryIsOwnerOnly: with a umask of 0 and a world-writable
// parent, everything a real start creates under the data directory (store, raft
// log, fsm.db, the local remote's copy, credentials, locks) is owner-only:
// directories without group or other bits, files likewise. The drop folder is the
// user's share and keeps its own modes.
func TestServe_DataDirectoryIsOwnerOnly(t *testing.T) {
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o777); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(parent, "data")
	old := syscall.Umask(0)
	env := []string{"IPAS_ACCESS_KEY=PERMTESTKEY", "IPAS_SECRET_KEY=perm-test-secret"}
	p := startServe(t, env, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	syscall.Umask(old)
	c := s3Client(p.endpoint, "PERMTESTKEY", "perm-test-secret")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("perm")}); err != nil {
		t.Fatal(err)
	}
	for i, size := range []int{100, 300 << 10} { // a staged small object and a streamed one
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("perm"), Key: aws.String(string(rune('a' + i))),
			Body: bytes.NewReader(bytes.Repeat([]byte{byte(i)}, size))}); err != nil {
			t.Fatal(err)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
	var files int
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == filepath.Join(dataDir, "drop") {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: group or others can reach it", path, info.Mode().Perm())
		}
		if !d.IsDir() {
			files++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files under the data directory: the walk saw nothing", files)
	}
}
