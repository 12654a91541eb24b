package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

// flipBlobByte changes one byte in the middle of the blob file holding body,
// as a failing SD card would, and returns the file's path.
func flipBlobByte(t *testing.T, dataDir string, body []byte) string {
	t.Helper()
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	path := filepath.Join(dataDir, storeDir, "blobs", h[:2], h[2:4], h)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatalf("the blob of a %d-byte body: %v", len(body), err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
	return path
}

func getObject(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminWait)
	defer cancel()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	return b
}

// putMultipart uploads parts as one multipart object (kept locally as one blob
// per part).
func putMultipart(t *testing.T, c *s3.Client, bucket, key string, parts ...[]byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminWait)
	defer cancel()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, p := range parts {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}
}

// TestScrub_RepairsFromTheRemote: one flipped byte in the blob of a plain
// object and in a part of a multipart object are found by `gateway scrub`
// and repaired from the remote (a GET serves the right bytes afterwards); a
// corrupt blob whose object is not offsite yet (replication paused) is
// reported, loudly, and left as it is.
func TestScrub_RepairsFromTheRemote(t *testing.T) {
	g := testutil.StartVersityGW(t, "offsite")
	env := remoteEnv(g, g.Endpoint, "offsite")
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, env, "--config", reconcileConfig(t, "}\nstore: {scrub_interval: 0s"), "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	local := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("a tax return, page after page "), 4000) // 120 KB: a blob of its own
	part1, part2 := bytes.Repeat([]byte("first part "), 500_000), bytes.Repeat([]byte("second part "), 100_000)
	putObject(t, local, "docs", "tax.pdf", plain)
	putMultipart(t, local, "docs", "video.mp4", part1, part2)
	waitStatus(t, adminClient(p.endpoint), "every object replicated", idle)

	flipBlobByte(t, dataDir, plain)
	flipBlobByte(t, dataDir, part2)
	out := cliOK(t, env, "scrub", "--wait", "--json", "--endpoint", p.endpoint)
	var run admin.ScrubRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("scrub --wait --json: %v\n%s", err, out)
	}
	if run.Error != "" || run.Corrupt != 2 || run.Repaired != 2 || run.UnrepairableCount != 0 || run.Blobs < 3 {
		t.Fatalf("scrub: %+v; want 2 corrupt blobs, both repaired", run)
	}
	if got := getObject(t, local, "docs", "tax.pdf"); !bytes.Equal(got, plain) {
		t.Fatal("GET of the repaired plain object does not return its bytes")
	}
	if got := getObject(t, local, "docs", "video.mp4"); !bytes.Equal(got, append(append([]byte(nil), part1...), part2...)) {
		t.Fatal("GET of the repaired multipart object does not return its bytes")
	}
	if !strings.Contains(p.stderr.String(), "repaired a corrupt blob with the object's bytes from the remote") {
		t.Fatalf("no WARN line for the repair:\n%s", p.stderr)
	}

	// Not offsite yet: nothing to repair from.
	cliOK(t, env, "replication", "pause", "--endpoint", p.endpoint)
	pending := bytes.Repeat([]byte("only on the Pi so far "), 5000)
	putObject(t, local, "docs", "pending.doc", pending)
	path := flipBlobByte(t, dataDir, pending)
	damaged, _ := os.ReadFile(path)
	stdout, _, code := runCLI(t, env, "scrub", "--wait", "--endpoint", p.endpoint)
	if code != 1 || !strings.Contains(stdout, "CORRUPT docs/pending.doc") || !strings.Contains(stdout, "not offsite yet") ||
		!strings.Contains(stdout, "your own copy") || !strings.Contains(stdout, "1 unrepairable") {
		t.Fatalf("scrub of a corrupt blob not offsite: exit %d, want 1 and the object named with the fix:\n%s", code, stdout)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, damaged) {
		t.Fatal("a corrupt blob that is not offsite was changed")
	}
	status := cliOK(t, env, "status", "--endpoint", p.endpoint)
	if !strings.Contains(status, "1 corrupt objects not offsite: restore them from your own copy (docs/pending.doc)") {
		t.Fatalf("gateway status does not report the corrupt object that is not offsite:\n%s", status)
	}
	if !strings.Contains(p.stderr.String(), `"level":"error"`) || !strings.Contains(p.stderr.String(), "corrupt blob NOT repaired") {
		t.Fatalf("no ERROR line for the corrupt blob not offsite:\n%s", p.stderr)
	}
	stopGateway(t, p)
}
