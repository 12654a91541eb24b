package main

import (
	"bytes"
	"context"
	"encoding/json"
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

// TestServe_ReadThroughVersions: in a versioned bucket whose versions are all
// on the remote only (`gateway evict`), GET ?versionId= of a version that was
// overwritten after its eviction reads that version's own remote copy, not
// the plain copy that now holds the newer version: the versioned version,
// the null version put before versioning was enabled, and the current ones,
// each byte-identical. Objects over replication.multipart_threshold, so that
// the remote's server-side copies differ in ETag from the uploads. Once with
// a remote bucket without versioning (the versions directory), once with
// versioning Enabled (the remote's own version IDs).
func TestServe_ReadThroughVersions(t *testing.T) {
	for _, remoteVersioned := range []bool{false, true} {
		t.Run(remoteMode(remoteVersioned), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			s, p, c, _ := serveVersionedRemote(t, ctx, remoteVersioned, "store: {cache_on_read: never}\n")
			type version struct{ key, id string }
			content := map[version][]byte{}
			put := func(key string, seed int) {
				t.Helper()
				body := testutil.Content(seed, 7<<20)
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader(body)})
				if err != nil {
					t.Fatal(err)
				}
				id := aws.ToString(out.VersionId)
				if id == "" {
					id = "null"
				}
				content[version{key, id}] = body
				content[version{key, ""}] = body // the current one
			}
			evict := func() {
				t.Helper()
				s.waitReplicated(t, p)
				if out := cliOK(t, s.env, "evict", "--endpoint", p.endpoint, "photos"); !strings.Contains(out, "evicted") {
					t.Fatalf("gateway evict: %s", out)
				}
			}
			put("null.bin", 1) // before versioning: the null version
			enableVersioning(t, ctx, c, "photos")
			put("a.bin", 2)
			evict()
			put("a.bin", 3)
			put("null.bin", 4)
			evict()
			for v, want := range content {
				in := &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(v.key)}
				if v.id != "" {
					in.VersionId = aws.String(v.id)
				}
				got, out, err := getBytes(ctx, c, in)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("GET %s version %q: %v, %d bytes, equal %v", v.key, v.id, err, len(got), bytes.Equal(got, want))
					continue
				}
				if h := cachedHeader(out.ResultMetadata); h != "false" {
					t.Errorf("GET %s version %q: X-Ipas-Cached %q, want false (read through)", v.key, v.id, h)
				}
			}
		})
	}
}

func remoteMode(versioned bool) string {
	if versioned {
		return "versioned remote"
	}
	return "unversioned remote"
}

// serveVersionedRemote starts a daemon (extra: configuration lines)
// replicating to a real versitygw whose bucket has versioning Enabled or
// not, and creates its bucket "photos", unversioned; the daemon, on the
// data directory it returns, is stopped when the test ends.
func serveVersionedRemote(t *testing.T, ctx context.Context, remoteVersioned bool, extra string) (*restoreSetup, *gatewayProcess, *s3.Client, string) {
	t.Helper()
	vgw := testutil.StartVersityGWVersioning(t, restoreBucket)
	if remoteVersioned {
		vgw.EnableVersioning(t, restoreBucket)
	}
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	cfg, err := os.ReadFile(s.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.cfgPath, append(cfg, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	p := s.serve(t, dataDir)
	t.Cleanup(func() { s.stop(t, p) })
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	return s, p, c, dataDir
}

func enableVersioning(t *testing.T, ctx context.Context, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
}

// TestScrub_RepairsNoncurrentVersions: a flipped byte in the blob of a
// noncurrent version (the one ransomware's overwrite left behind) and of a
// null version is repaired by `gateway scrub` from that version's own remote
// copy, not from the plain copy, which holds the newer version; GET
// ?versionId= then returns the original bytes.
func TestScrub_RepairsNoncurrentVersions(t *testing.T) {
	for _, remoteVersioned := range []bool{false, true} {
		t.Run(remoteMode(remoteVersioned), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			s, p, c, dataDir := serveVersionedRemote(t, ctx, remoteVersioned, "store: {scrub_interval: 0s}\n")
			old := map[string][]byte{"null.doc": testutil.Content(1, 300_000), "a.doc": testutil.Content(2, 310_000)}
			ids := map[string]string{}
			put := func(key string, body []byte) {
				t.Helper()
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader(body)})
				if err != nil {
					t.Fatal(err)
				}
				if _, seen := ids[key]; !seen {
					ids[key] = aws.ToString(out.VersionId)
				}
			}
			put("null.doc", old["null.doc"])
			enableVersioning(t, ctx, c, "photos")
			put("a.doc", old["a.doc"])
			put("a.doc", testutil.Content(3, 320_000))
			put("null.doc", testutil.Content(4, 330_000))
			s.waitReplicated(t, p)
			for _, body := range old {
				flipBlobByte(t, dataDir, body)
			}
			out := cliOK(t, s.env, "scrub", "--wait", "--json", "--endpoint", p.endpoint)
			var run admin.ScrubRun
			if err := json.Unmarshal([]byte(out), &run); err != nil {
				t.Fatalf("scrub --wait --json: %v\n%s", err, out)
			}
			if run.Error != "" || run.Corrupt != 2 || run.Repaired != 2 || run.UnrepairableCount != 0 {
				t.Fatalf("scrub: %+v; want 2 corrupt blobs, both repaired", run)
			}
			for key, want := range old {
				id := ids[key]
				if id == "" {
					id = "null"
				}
				got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), VersionId: aws.String(id)})
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("GET %s version %s after the scrub: %v, %d bytes, equal %v", key, id, err, len(got), bytes.Equal(got, want))
				}
			}
		})
	}
}
