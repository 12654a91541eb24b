package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/internal/testutil"
)

// TestRestore_MetadataOnly: `gateway restore --metadata-only` of a replicated
// archive downloads no object and says so; the daemon on it lists and HEADs
// every object as before (storage class STANDARD, X-Ipas-Cached: false),
// reads every GET through from the remote byte-identical (with
// store.cache_on_read: never, nothing becomes local), queues no upload, and
// its collector deletes nothing; `gateway verify` passes. A restore --merge
// of one object fetches it; a full `restore --merge` then fetches the rest
// (not that one again), and every object is byte-identical, with the same
// ETag, headers, metadata, checksums and parts as before.
func TestRestore_MetadataOnly(t *testing.T) {
	vgw := testutil.StartVersityGW(t, restoreBucket)
	s := newRestoreSetup(t, vgw.Endpoint, vgw)
	f, err := os.OpenFile(s.cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("store: {gc_interval: 100ms, cache_on_read: never}\n")
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")

	p, c := s.servePopulated(t, ctx, dataDir)
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("docs"), Key: aws.String("gone.txt")}); err != nil {
		t.Fatal(err)
	}
	want := viewAll(t, ctx, c)
	heads := map[string]*s3.HeadObjectOutput{}
	for _, name := range restoreObjects {
		b, k, _ := strings.Cut(name, "/")
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		heads[name] = h
	}
	s.stop(t, p)
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}

	run := s.restore(t, dataDir, "--metadata-only")
	if run.code != 0 {
		t.Fatalf("restore --metadata-only: %s", run)
	}
	for _, w := range []string{"8 restored", "0 B downloaded", "8 restored object(s)", "on the remote only", "reads them through", "gateway restore --merge", "store.cache_on_read"} {
		if !strings.Contains(run.stderr, w) {
			t.Errorf("the summary does not say %q:\n%s", w, run.stderr)
		}
	}
	if n := strings.Count(run.stderr, "on the remote only"); n != 1 {
		t.Errorf("the note is printed %d times, want once:\n%s", n, run.stderr)
	}
	if n := strings.Count(run.stdout, `"remote_only":true`); n != len(restoreObjects) {
		t.Errorf("%d JSON lines say remote_only, want %d:\n%s", n, len(restoreObjects), run.stdout)
	}
	verify := func(wantRemoteOnly string) {
		t.Helper()
		out, err := exec.Command(buildGateway(t), "verify", "--config", s.cfgPath, "--data-dir", dataDir).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "0 corrupt") || !strings.Contains(string(out), wantRemoteOnly) {
			t.Fatalf("gateway verify: %v, want 0 corrupt and %q:\n%s", err, wantRemoteOnly, out)
		}
	}
	verify("8 objects have their bytes on the remote only")

	t.Run("the daemon on a metadata-only restore", func(t *testing.T) {
		p := s.serve(t, dataDir)
		defer s.stop(t, p)
		c := s3Client(p.endpoint, restoreAK, restoreSK)
		for _, name := range restoreObjects {
			b, k, _ := strings.Cut(name, "/")
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
			if err != nil {
				t.Fatalf("HEAD %s: %v", name, err)
			}
			w := heads[name]
			if h.StorageClass != types.StorageClassStandard || aws.ToInt64(h.ContentLength) != aws.ToInt64(w.ContentLength) ||
				aws.ToString(h.ETag) != aws.ToString(w.ETag) || aws.ToString(h.ContentType) != aws.ToString(w.ContentType) ||
				!reflect.DeepEqual(h.Metadata, w.Metadata) || h.ReplicationStatus != types.ReplicationStatusCompleted {
				t.Errorf("HEAD %s: class %q, %d bytes, ETag %s, %s, %v, replication %q; before: %d bytes, ETag %s, %s, %v",
					name, h.StorageClass, aws.ToInt64(h.ContentLength), aws.ToString(h.ETag), aws.ToString(h.ContentType), h.Metadata, h.ReplicationStatus,
					aws.ToInt64(w.ContentLength), aws.ToString(w.ETag), aws.ToString(w.ContentType), w.Metadata)
			}
			if got := cachedHeader(h.ResultMetadata); got != "false" {
				t.Errorf("HEAD %s: X-Ipas-Cached %q, want false", name, got)
			}
			// Read through from the remote; cache_on_read: never keeps it remote-only.
			if got := viewObject(t, ctx, c, b, k); !reflect.DeepEqual(got, want[name]) {
				t.Errorf("GET %s read through:\n got %+v\nwant %+v", name, got, want[name])
			}
		}
		got := append(listAll(t, ctx, c, "docs"), listAll(t, ctx, c, "photos")...)
		if len(got) != len(restoreObjects) {
			t.Errorf("LIST: %v, want the %d restored objects", got, len(restoreObjects))
		}
		list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("docs")})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Contents {
			if o.StorageClass != types.ObjectStorageClassStandard {
				t.Errorf("LIST: %s has storage class %q, want STANDARD (read through)", aws.ToString(o.Key), o.StorageClass)
			}
		}
		time.Sleep(time.Second) // collections run every 100 ms
		if st := cliStatus(t, s.env, p.endpoint); st.Journal.Jobs != 0 {
			t.Errorf("the metadata-only archive queued %d uploads, want none", st.Journal.Jobs)
		}
	})

	// A restore of one object fetches that one object.
	run = s.restore(t, dataDir, "--merge", "--bucket", "docs", "--prefix", "small.txt")
	if run.code != 0 || !strings.Contains(run.stdout, `"name":"docs/small.txt","size":13,"status":"restored"`) ||
		strings.Count(run.stdout, `"status":"restored"`) != 1 || strings.Contains(run.stdout, `"remote_only":true`) {
		t.Fatalf("restore --merge of one remote-only object: %s", run)
	}
	// The full restore fetches the others, not that one again.
	run = s.restore(t, dataDir, "--merge")
	if run.code != 0 || strings.Count(run.stdout, `"status":"restored"`) != len(restoreObjects)-1 ||
		!strings.Contains(run.stdout, `"name":"docs/small.txt","size":13,"status":"skipped","reason":"already in the archive"`) ||
		strings.Contains(run.stderr, "on the remote only") {
		t.Fatalf("restore --merge after --metadata-only: %s", run)
	}
	verify("0 corrupt")
	out, _ := exec.Command(buildGateway(t), "verify", "--config", s.cfgPath, "--data-dir", dataDir).CombinedOutput()
	if strings.Contains(string(out), "remote only") {
		t.Errorf("verify still counts objects on the remote only:\n%s", out)
	}

	p = s.serve(t, dataDir)
	defer s.stop(t, p)
	c = s3Client(p.endpoint, restoreAK, restoreSK)
	time.Sleep(time.Second) // collections run every 100 ms: they must keep every blob
	got := viewAll(t, ctx, c)
	for name, w := range want {
		if !reflect.DeepEqual(got[name], w) {
			t.Errorf("%s after the restores:\n got %+v\nwant %+v", name, got[name], w)
		}
		b, k, _ := strings.Cut(name, "/")
		if h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)}); err != nil || h.StorageClass == types.StorageClassGlacier {
			t.Errorf("HEAD %s after the restores: %v, class %q", name, err, h.StorageClass)
		}
	}
	if st := cliStatus(t, s.env, p.endpoint); st.Journal.Jobs != 0 {
		t.Errorf("the restored archive queued %d uploads, want none", st.Journal.Jobs)
	}
}
