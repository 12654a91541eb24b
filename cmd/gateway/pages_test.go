package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
)

// TestAdmin_Pages drives the archive and diagnostics endpoints of the real
// daemon with the admin client: a bucket made through the API is an S3
// bucket, a listing rolls keys up into folders and pages through them with
// each object's replication state, a delete is an S3 delete, the remote
// test passes against the built-in copy, and the log holds the daemon's
// own lines.
func TestAdmin_Pages(t *testing.T) {
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	os.MkdirAll(filepath.Join(drop, "Not A Bucket"), 0o755)
	p := startServe(t, adminTestEnv, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0", "--drop", drop+"=*")
	api := adminClient(p.endpoint)
	s3c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx := context.Background()

	if err := api.CreateBucket(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatalf("a bucket created through the API is not an S3 bucket: %v", err)
	}
	var apiErr *admin.APIError
	if err := api.CreateBucket(ctx, "photos"); !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict {
		t.Errorf("creating photos twice: %v, want 409", err)
	}
	if err := api.CreateBucket(ctx, "No_Such"); !errors.Is(err, admin.ErrInvalid) {
		t.Errorf("an invalid bucket name: %v, want 400", err)
	}
	for _, k := range []string{"a.jpg", "b.jpg", "2025/x.jpg", "2025/y.jpg", "2026/z.jpg", "c.jpg"} {
		putObject(t, s3c, "photos", k, []byte("bytes of "+k))
	}
	// Folders and files in key order, three entries a page.
	var names []string
	req := admin.ListRequest{Bucket: "photos", Limit: 3}
	for pages := 0; ; pages++ {
		l, err := api.ListObjects(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(l.Prefixes) + len(l.Objects); n > 3 || pages > 3 {
			t.Fatalf("page %d has %d entries", pages, n)
		}
		names = append(names, l.Prefixes...)
		for _, o := range l.Objects {
			names = append(names, o.Key)
			if o.Size != int64(len("bytes of "+o.Key)) || o.Replication == "" || o.Modified.IsZero() {
				t.Errorf("entry %+v lacks its size, time or replication state", o)
			}
		}
		if l.Next == "" {
			break
		}
		req.After = l.Next
	}
	if got := strings.Join(names, " "); got != "2025/ 2026/ a.jpg b.jpg c.jpg" {
		t.Fatalf("the top level of photos: %q", got)
	}
	l, err := api.ListObjects(ctx, admin.ListRequest{Bucket: "photos", Prefix: "2025/"})
	if err != nil || len(l.Objects) != 2 || l.Objects[1].Key != "2025/y.jpg" || len(l.Prefixes) != 0 {
		t.Fatalf("photos/2025/: %+v, %v", l, err)
	}
	if _, err := api.ListObjects(ctx, admin.ListRequest{Bucket: "nope"}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("listing a missing bucket: %v, want 404", err)
	}

	if err := api.DeleteObject(ctx, admin.ObjectRef{Bucket: "photos", Key: "b.jpg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("b.jpg")}); err == nil {
		t.Fatal("photos/b.jpg is still there after its delete through the API")
	}
	if err := api.DeleteObject(ctx, admin.ObjectRef{Bucket: "photos", Key: "b.jpg"}); !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("deleting it again: %v, want 404", err)
	}

	rt, err := api.TestRemote(ctx)
	if err != nil || !rt.OK || !rt.Local || len(rt.Steps) < 5 || !strings.HasPrefix(rt.Verdict, "OK") {
		t.Fatalf("remote test against the built-in copy: %+v, %v", rt, err)
	}

	df, err := api.DropFolders(ctx)
	if err != nil || len(df.Folders) == 0 {
		t.Fatalf("drop folders: %+v, %v", df, err)
	}
	found := false
	for _, f := range df.Folders {
		found = found || (f.Path == drop && f.Bucket == "")
	}
	if !found || len(df.SkippedDirs) != 1 || df.SkippedDirs[0].Dir != "Not A Bucket" || df.SkippedDirs[0].Reason == "" {
		t.Fatalf("drop folders: %+v, want %s with its skipped directory", df, drop)
	}

	lp, err := api.Log(ctx, admin.LogQuery{Level: "info"})
	if err != nil {
		t.Fatal(err)
	}
	var ready, deleted bool
	for _, line := range lp.Lines {
		ready = ready || line.Message == "gateway ready"
		deleted = deleted || (line.Message == "object deleted by request" && line.Fields["key"] == "b.jpg")
		if line.Level == "debug" {
			t.Errorf("a debug line at level info: %+v", line)
		}
	}
	if !ready || !deleted || lp.Last == 0 {
		t.Fatalf("the log lacks the daemon's lines (ready %v, delete %v): %d lines", ready, deleted, len(lp.Lines))
	}
	if more, err := api.Log(ctx, admin.LogQuery{After: lp.Last + 1000}); err != nil || len(more.Lines) != 0 {
		t.Fatalf("lines after the last: %+v, %v", more, err)
	}
}
