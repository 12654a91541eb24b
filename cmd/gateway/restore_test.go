package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/remoteindex"
)

// restoreObjects are the objects of the round trip, by "bucket/key".
var restoreObjects = []string{
	"docs/small.txt", "docs/sha256.bin", "docs/sha1.bin", "docs/crc32c.bin", "docs/default-crc64.bin",
	"docs/big.bin", "docs/video.mp4", "photos/2026/beach.jpg",
}

// populate puts the round trip's objects through the S3 API and the drop
// folder, and one object that it deletes again.
func populate(t *testing.T, ctx context.Context, c *s3.Client, dataDir string) {
	t.Helper()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(key string, body []byte, f func(*s3.PutObjectInput)) {
		in := &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String(key), Body: bytes.NewReader(body)}
		if f != nil {
			f(in)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("small.txt", []byte("a tax return\n"), func(in *s3.PutObjectInput) {
		in.ContentType, in.CacheControl = aws.String("text/plain; charset=utf-8"), aws.String("max-age=60")
		in.ContentDisposition, in.ContentEncoding = aws.String(`attachment; filename="tax.txt"`), aws.String("x-test")
		in.ContentLanguage, in.Expires = aws.String("de-CH"), &expires
		in.Metadata = map[string]string{"owner": "alice", "camera": "pi 5"}
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	})
	put("sha256.bin", testutil.Content(1, 70_000), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 })
	put("sha1.bin", testutil.Content(2, 3_000), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha1 })
	put("crc32c.bin", testutil.Content(3, 123_457), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
	put("default-crc64.bin", testutil.Content(4, 10), nil)
	put("big.bin", testutil.Content(5, 9<<20+77), nil) // one piece, larger than a range: fetched in ranges
	put("gone.txt", []byte("deleted later"), nil)

	// Multipart with odd part sizes and a composite checksum.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("docs"), Key: aws.String("video.mp4"),
		ContentType: aws.String("video/mp4"), Metadata: map[string]string{"trip": "alps"}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	var done []types.CompletedPart
	for i, size := range []int{5<<20 + 1, 5<<20 + 333, 4321} {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("docs"), Key: aws.String("video.mp4"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(testutil.Content(10+i, size)), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("docs"), Key: aws.String("video.mp4"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatal(err)
	}

	// The default drop folder: each first-level directory is a bucket.
	drop := filepath.Join(dataDir, "drop", "photos", "2026")
	os.MkdirAll(drop, 0o755)
	if err := os.WriteFile(filepath.Join(drop, "beach.jpg"), testutil.Content(6, 200_000), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("2026/beach.jpg")}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the dropped file was not ingested in 30 s")
		}
	}
}

func viewAll(t *testing.T, ctx context.Context, c *s3.Client) map[string]objectView {
	t.Helper()
	out := map[string]objectView{}
	for _, name := range restoreObjects {
		b, k, _ := strings.Cut(name, "/")
		out[name] = viewObject(t, ctx, c, b, k)
	}
	return out
}

// checkRestored serves dataDir and compares what clients see with want.
func (s *restoreSetup) checkRestored(t *testing.T, ctx context.Context, dataDir string, want map[string]objectView, wantGone bool) {
	t.Helper()
	p := s.serve(t, dataDir)
	defer s.stop(t, p)
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	got := viewAll(t, ctx, c)
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("%s after the restore:\n got %+v\nwant %+v", name, got[name], w)
		}
	}
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("docs"), Key: aws.String("gone.txt")})
	if gone := err != nil; gone != wantGone {
		t.Errorf("docs/gone.txt (deleted before the restore): gone %v, want %v", gone, wantGone)
	}
	if strings.Contains(p.stderr.String(), "remote changed") {
		t.Errorf("the daemon on the restored directory took its remote for a new one:\n%s", p.stderr)
	}
	if st := cliStatus(t, s.env, p.endpoint); st.Journal.Jobs != 0 {
		t.Errorf("the restored archive queued %d uploads, want none: %+v", st.Journal.Jobs, st.Journal)
	}
}

// TestRestore_RoundTrip puts objects of every kind through the daemon,
// replicates them to versitygw, deletes the data directory and restores it
// with `gateway restore`: with the remote index, with --no-index, with a
// damaged index and an index of another archive (both refused, the listing
// used instead), with --include-deleted; and a remote object changed behind
// IPAS's back fails alone, with a clear error, and nothing bad lands locally.
func TestRestore_RoundTrip(t *testing.T) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	work := t.TempDir()
	dataDir := filepath.Join(work, "data")

	p, c := s.servePopulated(t, ctx, dataDir)
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("gone.txt")}); err != nil {
		t.Fatal(err)
	}
	want := viewAll(t, ctx, c)
	s.stop(t, p)
	if !strings.Contains(p.stderr.String(), "remote index uploaded") {
		t.Fatalf("no remote index was uploaded at shutdown:\n%s", p.stderr)
	}
	if _, err := os.Stat(filepath.Join(s.remoteDir, ".ipas", "index", "latest")); err != nil {
		t.Fatalf("the remote has no index pointer: %v", err)
	}
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}

	t.Run("with the remote index", func(t *testing.T) {
		run := s.restore(t, dataDir)
		if run.code != 0 || !strings.Contains(run.stderr, "object list: remote index") {
			t.Fatalf("restore: %s", run)
		}
		// Only the deleted object, absent from the index and too recent for
		// its listing date alone to prove it older, needed a HEAD.
		if n := headRequests(run.stderr); n != 1 {
			t.Errorf("%d HEAD requests with the index, want 1 (the deleted object):\n%s", n, run.stderr)
		}
		if !strings.Contains(run.stdout, `"name":"docs/gone.txt","size":13,"status":"skipped","reason":"deleted locally`) {
			t.Errorf("the deleted object is not reported as skipped:\n%s", run.stdout)
		}
		s.checkRestored(t, ctx, dataDir, want, true)
	})
	t.Run("a second run changes nothing", func(t *testing.T) {
		run := s.restore(t, dataDir, "--merge")
		if run.code != 0 || !strings.Contains(run.stderr, "0 restored") || strings.Contains(run.stdout, `"status":"restored"`) {
			t.Fatalf("a second restore: %s", run)
		}
	})
	t.Run("into a non-empty data directory without --merge", func(t *testing.T) {
		run := s.restore(t, dataDir)
		if run.code == 0 || !strings.Contains(run.stderr, "not empty") || !strings.Contains(run.stderr, "--merge") {
			t.Fatalf("restore into a restored archive without --merge: %s", run)
		}
	})
	t.Run("include deleted", func(t *testing.T) {
		run := s.restore(t, dataDir, "--merge", "--include-deleted")
		if run.code != 0 || !strings.Contains(run.stdout, `"name":"docs/gone.txt","size":13,"status":"restored"`) {
			t.Fatalf("--include-deleted: %s", run)
		}
	})
	t.Run("without the index", func(t *testing.T) {
		dir := filepath.Join(work, "noindex")
		run := s.restore(t, dir, "--no-index")
		if run.code != 0 || !strings.Contains(run.stderr, "HEAD") || !strings.Contains(run.stderr, "--no-index") {
			t.Fatalf("restore --no-index: %s", run)
		}
		// Without the index a deleted object cannot be told apart: it comes back.
		s.checkRestored(t, ctx, dir, want, false)
	})
	t.Run("an index of another archive is refused", func(t *testing.T) {
		dir := filepath.Join(work, "other")
		os.MkdirAll(dir, 0o750)
		os.WriteFile(filepath.Join(dir, archiveIDFile), []byte("archive-someone-else\n"), 0o600)
		run := s.restore(t, dir)
		if run.code != 0 || !strings.Contains(run.stderr, "another archive") || !strings.Contains(run.stderr, "listing the remote") {
			t.Fatalf("restore with an index of another archive: %s", run)
		}
	})
	t.Run("a truncated index is refused", func(t *testing.T) {
		// The daemons started on restored directories uploaded snapshots too:
		// damage the one the pointer names.
		var ptr remoteindex.Pointer
		b, err := os.ReadFile(filepath.Join(s.remoteDir, ".ipas", "index", "latest"))
		if err != nil || json.Unmarshal(b, &ptr) != nil {
			t.Fatalf("read the index pointer: %v %s", err, b)
		}
		snap := filepath.Join(s.remoteDir, ".ipas", filepath.FromSlash(ptr.Current))
		st, err := os.Stat(snap)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(snap, st.Size()/2); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(work, "truncated")
		run := s.restore(t, dir)
		if run.code != 0 || !strings.Contains(run.stderr, "truncated") || !strings.Contains(run.stderr, "listing the remote") {
			t.Fatalf("restore with a truncated index: %s", run)
		}
		s.checkRestored(t, ctx, dir, want, false)
	})
	t.Run("a remote object changed behind IPAS's back", func(t *testing.T) {
		victim := filepath.Join(s.remoteDir, "docs", "sha1.bin")
		b, err := os.ReadFile(victim)
		if err != nil {
			t.Fatal(err)
		}
		b[100] ^= 0xff
		if err := os.WriteFile(victim, b, 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(work, "corrupt")
		run := s.restore(t, dir)
		if run.code != 1 {
			t.Fatalf("restore of a corrupt remote object: want exit 1: %s", run)
		}
		for _, w := range []string{"FAILED docs/sha1.bin", "SHA-256", "fix:", "1 failed"} {
			if !strings.Contains(run.stderr, w) {
				t.Errorf("the summary does not mention %q:\n%s", w, run.stderr)
			}
		}
		cfg := DefaultConfig()
		cfg.DataDir = dir
		a, err := openArchive(ctx, cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		defer a.close(ctx)
		if _, err := a.node.Object("docs", "sha1.bin"); err == nil {
			t.Error("the corrupt object is in the restored index")
		}
		if o, err := a.node.Object("docs", "video.mp4"); err != nil || o.Size != 10<<20+334+4321 {
			t.Errorf("the other objects were not restored: video.mp4 %+v %v", o, err)
		}
	})
}
