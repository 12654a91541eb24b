package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/internal/testutil"
)

// newCacheSetup is a real daemon replicating to a real versitygw through
// toxiproxy, with extra configuration lines and replication settings
// (", KEY: VALUE" added to the setup's).
func newCacheSetup(t *testing.T, extra, replication string) (*restoreSetup, *testutil.Proxy) {
	t.Helper()
	vgw := testutil.StartVersityGW(t, restoreBucket)
	proxy := testutil.StartProxy(t, vgw.Addr)
	s := newRestoreSetup(t, proxy.Endpoint(), vgw)
	base, err := os.ReadFile(s.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(base), "replication: {", "replication: {"+strings.TrimPrefix(replication, ", ")+", ", 1)
	if replication == "" {
		cfg = string(base)
	}
	if err := os.WriteFile(s.cfgPath, []byte(cfg+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	return s, proxy
}

// servePhotos starts a daemon of newCacheSetup (extra: configuration lines)
// on a data directory of its own, stopped when the test ends, and creates
// its bucket "photos".
func servePhotos(t *testing.T, ctx context.Context, extra string) (*restoreSetup, *testutil.Proxy, *gatewayProcess, *s3.Client, string) {
	t.Helper()
	s, proxy := newCacheSetup(t, extra, "")
	dataDir := filepath.Join(t.TempDir(), "data")
	p := s.serve(t, dataDir)
	t.Cleanup(func() { s.stop(t, p) })
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	return s, proxy, p, c, dataDir
}

// blobBytes sums the sizes of the blob files under dataDir.
func blobBytes(t *testing.T, dataDir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(filepath.Join(dataDir, storeDir, "blobs"), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func putBytes(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

// TestServe_EvictAndFetch: `gateway evict` on a running daemon frees the disk
// of what is verified offsite and only of that (an object whose upload waits
// and one under store.keep_local stay, and are counted); an evicted object
// reads back byte-identical through the remote, a range fetching within one
// block of itself; `gateway fetch` brings it back, checked, so that it is
// served with the remote cut, while an object still evicted answers 503
// SlowDown and the one never offsite is served from the disk. Status shows
// the cache's figures.
func TestServe_EvictAndFetch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, proxy, p, c, dataDir := servePhotos(t, ctx, "store: {cache_on_read: never, keep_local: [photos/keep/]}\n")
	content := map[string][]byte{
		"a.bin": testutil.Content(1, 8<<20), "b.bin": testutil.Content(2, 1<<20),
		"keep/k.bin": testutil.Content(3, 1<<20), "small.txt": testutil.Content(4, 100),
	}
	for key, body := range content {
		if err := putBytes(ctx, c, "photos", key, body); err != nil {
			t.Fatal(err)
		}
	}
	s.waitReplicated(t, p)
	cliOK(t, s.env, "replication", "pause", "--endpoint", p.endpoint)
	content["late.bin"] = testutil.Content(5, 1<<20)
	if err := putBytes(ctx, c, "photos", "late.bin", content["late.bin"]); err != nil {
		t.Fatal(err)
	}

	out := cliOK(t, s.env, "evict", "--endpoint", p.endpoint, "photos")
	wantOut := "5 objects matched: 3 evicted (9.0 MiB freed once collected), 0 on the remote only already, 1 not offsite yet (kept), 1 kept by store.keep_local"
	if !strings.Contains(out, wantOut) {
		t.Errorf("gateway evict said %q, want %q", out, wantOut)
	}
	// The small object's blob may still be staged, moved into blobs/ after
	// the collection: the next one takes it.
	if got, want := blobBytes(t, dataDir), int64(2<<20); got < want || got > want+100 {
		t.Errorf("blobs on disk after the eviction: %d bytes, want %d (the kept and the waiting object)", got, want)
	}
	waitCache(t, s.env, p.endpoint, "9 MiB on the remote only", func(st admin.CacheStatus) bool {
		return st.RemoteOnlyBytes == 9<<20+100 && st.NotOffsiteBytes == 1<<20 && st.PinnedBytes == 1<<20
	})

	checkRangeFetch(t, ctx, c, proxy, "photos", "a.bin", content["a.bin"], 3_000_000, 1000)
	for key, body := range content {
		if key == "b.bin" {
			continue // read with the remote cut, below: none of its blocks in memory
		}
		got, out, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key)})
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("GET %s: %v, %d bytes", key, err, len(got))
		}
		evicted := key == "a.bin" || key == "small.txt"
		if h := cachedHeader(out.ResultMetadata); (h == "false") != evicted {
			t.Errorf("GET %s: X-Ipas-Cached %q, evicted %v", key, h, evicted)
		}
	}

	out = cliOK(t, s.env, "fetch", "--endpoint", p.endpoint, "photos/a.bin")
	if !strings.Contains(out, "1 objects matched: 1 fetched (8.0 MiB), 0 local already, 0 failed") {
		t.Errorf("gateway fetch said %q", out)
	}
	proxy.Cut()
	for _, key := range []string{"a.bin", "late.bin", "keep/k.bin"} {
		got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key)})
		if err != nil || !bytes.Equal(got, content[key]) {
			t.Errorf("GET %s with the remote cut: %v, %d bytes; want it from the disk", key, err, len(got))
		}
	}
	_, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("b.bin")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "SlowDown" {
		t.Errorf("GET of an evicted object with the remote cut: %v, want 503 SlowDown", err)
	}
	waitCache(t, s.env, p.endpoint, "the fetched object local, reads counted", func(st admin.CacheStatus) bool {
		return st.Hits > 0 && st.Misses > 0 && st.ReadThroughBytes >= 8<<20 && st.EvictedObjects == 3 && st.RemoteOnlyBytes == 1<<20+100
	})
	proxy.Heal(t)

	// The remote copy of an evicted object damaged behind IPAS's back: the
	// GET and the fetch fail saying so, and nothing is cached.
	flipByte(t, filepath.Join(s.remoteDir, "photos", "b.bin"), 1234)
	_, _, err = getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("b.bin")})
	if !errors.As(err, &api) || api.ErrorCode() != "InternalError" || !strings.Contains(api.ErrorMessage(), "does not match") {
		t.Errorf("GET of an evicted object whose remote copy is damaged: %v; want 500 InternalError saying it does not match", err)
	}
	out, errOut, code := runCLI(t, s.env, "fetch", "--endpoint", p.endpoint, "photos/b.bin")
	if code != 1 || !strings.Contains(out, "1 failed") || !strings.Contains(errOut, "does not match") {
		t.Errorf("gateway fetch of a damaged remote copy: exit %d\n%s%s", code, out, errOut)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("b.bin")})
	if err != nil || cachedHeader(h.ResultMetadata) != "false" {
		t.Errorf("HEAD after the failed fetch: %v, X-Ipas-Cached %q; want false (nothing cached)", err, cachedHeader(h.ResultMetadata))
	}
}

// checkRangeFetch GETs bytes [off, off+n) of bucket/key, whose bytes are on
// the remote only, checks them against body, and that the remote sent (as
// proxy counts) at most one block and the headers.
func checkRangeFetch(t *testing.T, ctx context.Context, c *s3.Client, proxy *testutil.Proxy, bucket, key string, body []byte, off, n int64) {
	t.Helper()
	before := proxy.DownstreamBytes()
	got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))})
	fetched := proxy.DownstreamBytes() - before
	if err != nil || !bytes.Equal(got, body[off:off+n]) {
		t.Fatalf("range GET of %s/%s on the remote only: %v, %d bytes", bucket, key, err, len(got))
	}
	t.Logf("a %d-byte range GET of %s/%s on the remote only fetched %d bytes from the remote", n, bucket, key, fetched)
	if fetched > archive.BlockSize+16<<10 {
		t.Errorf("a %d-byte range fetched %d bytes from the remote, want within one block (%d)", n, fetched, archive.BlockSize)
	}
}

// waitCache polls `gateway status --json` until its cache figures satisfy ok.
func waitCache(t *testing.T, env []string, endpoint, what string, ok func(admin.CacheStatus) bool) {
	t.Helper()
	var st *admin.CacheStatus
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if st = cliStatus(t, env, endpoint).Cache; st != nil && ok(*st) {
			return
		}
	}
	t.Fatalf("status never showed %s: %+v", what, st)
}
