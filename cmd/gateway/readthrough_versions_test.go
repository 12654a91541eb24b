package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

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
		name := "unversioned remote"
		if remoteVersioned {
			name = "versioned remote"
		}
		t.Run(name, func(t *testing.T) {
			vgw := testutil.StartVersityGWVersioning(t, restoreBucket)
			if remoteVersioned {
				vgw.EnableVersioning(t, restoreBucket)
			}
			s := newRestoreSetup(t, vgw.Endpoint, vgw)
			cfg, err := os.ReadFile(s.cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.cfgPath, append(cfg, "store: {cache_on_read: never}\n"...), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			p := s.serve(t, filepath.Join(t.TempDir(), "data"))
			defer s.stop(t, p)
			c := s3Client(p.endpoint, restoreAK, restoreSK)
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
				t.Fatal(err)
			}
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
			if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("photos"),
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
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
