//go:build root

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/testutil"
)

// TestRestore_FullDisk restores onto a data directory whose restore area (a
// tmpfs) is too small for the objects in flight: the restore stops with an
// error that says the disk is full, keeps what it restored, and once space
// is freed (the tmpfs grown) the same command finishes the job.
func TestRestore_FullDisk(t *testing.T) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	work := t.TempDir()

	p := s.serve(t, filepath.Join(work, "origin"))
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("media")}); err != nil {
		t.Fatal(err)
	}
	const n, size = 6, 10 << 20
	for i := range n {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("media"), Key: aws.String(fmt.Sprintf("clip%d.mp4", i)),
			Body: bytes.NewReader(testutil.Content(i, size))}); err != nil {
			t.Fatal(err)
		}
	}
	s.waitReplicated(t, p)
	s.stop(t, p)

	dataDir := filepath.Join(work, "restored")
	area := filepath.Join(dataDir, restoreStateDir)
	os.MkdirAll(area, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", area).CombinedOutput(); err != nil {
		if os.Getenv("IPAS_REQUIRE_TOOLS") != "" {
			t.Fatalf("mount a tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", area).Run() })

	run := s.restore(t, dataDir, "--range-size=2097152")
	if run.code == 0 || !strings.Contains(run.stderr, "disk is full") || !strings.Contains(run.stderr, "run the same command again") {
		t.Fatalf("restore onto a full disk: want a non-zero exit that says the disk is full: %s", run)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=128m", area).CombinedOutput(); err != nil {
		t.Fatalf("grow the tmpfs: %v: %s", err, out)
	}
	run = s.restore(t, dataDir, "--range-size=2097152")
	if run.code != 0 {
		t.Fatalf("restore after space was freed: %s", run)
	}
	cfg := DefaultConfig()
	cfg.DataDir = dataDir
	a, err := openArchive(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	if st, _ := a.node.Stats(); st.Objects != n {
		t.Fatalf("%d objects restored, want %d", st.Objects, n)
	}
	if err := verifyArchive(ctx, a, io.Discard); err != nil {
		t.Fatalf("verify the restored archive: %v", err)
	}
}
