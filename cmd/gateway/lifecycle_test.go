package main

import (
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
)

// TestServe_LifecycleCommand: `gateway lifecycle` runs the daemon's pass now
// and prints what it did; the admin API and `gateway status` report the last
// pass and the next one (s3.lifecycle_interval), and the report survives a
// restart. An upload younger than its rule's days is left alone.
func TestServe_LifecycleCommand(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	if err := os.WriteFile(cfgPath, []byte("s3:\n  lifecycle_interval: 12h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0"}
	p := startServe(t, adminTestEnv, args...)
	c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, b := range []string{"backup", "plain"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("tmp/fresh")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("backup"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{{ID: aws.String("tmp"),
			Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
			AbortIncompleteMultipartUpload: &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	var run admin.LifecycleRun
	out := cliOK(t, adminTestEnv, "lifecycle", "--json", "--endpoint", p.endpoint)
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("lifecycle --json: %v\n%s", err, out)
	}
	if run.Trigger != "request" || run.Buckets != 1 || run.UploadsAborted != 0 || run.Error != "" || run.Finished == nil {
		t.Fatalf("lifecycle --json: %+v; want one bucket with rules, nothing aborted", run)
	}
	text := cliOK(t, adminTestEnv, "lifecycle", "--endpoint", p.endpoint)
	if !strings.Contains(text, "1 buckets with rules; 0 noncurrent versions expired, 0 expired delete markers removed, 0 incomplete uploads aborted") {
		t.Fatalf("gateway lifecycle prints:\n%s", text)
	}
	for _, b := range []string{"backup", "plain"} {
		ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
		if err != nil || len(ups.Uploads) != 1 {
			t.Fatalf("%s: uploads after the pass: %v %v; want the fresh one", b, ups, err)
		}
	}
	if !strings.Contains(p.stderr.String(), `"bucket":"backup"`) || !strings.Contains(p.stderr.String(), "lifecycle applied") {
		t.Fatalf("no log line for the bucket:\n%s", p.stderr)
	}
	stopGateway(t, p)

	p = startServe(t, adminTestEnv, args...)
	st, err := adminClient(p.endpoint).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lc := st.Lifecycle
	if lc == nil || lc.Last == nil || lc.Last.Trigger != "request" || lc.Next == nil ||
		lc.Next.Sub(lc.Last.Started) != 12*time.Hour {
		t.Fatalf("status after a restart: %+v; want the last pass and the next 12 h after it", lc)
	}
	status := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint)
	if !strings.Contains(status, "Lifecycle") || !strings.Contains(status, "1 buckets with rules") {
		t.Fatalf("gateway status has no lifecycle line:\n%s", status)
	}
	stopGateway(t, p)
}
