package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

// replicationStatus is the x-amz-replication-status a HEAD of bucket/key answers.
func replicationStatus(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminWait)
	defer cancel()
	out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head %s/%s: %v", bucket, key, err)
	}
	return string(out.ReplicationStatus)
}

func waitReplicationStatus(t *testing.T, c *s3.Client, bucket, key, want string) {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(adminWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = replicationStatus(t, c, bucket, key); got == want {
			return
		}
	}
	t.Fatalf("%s/%s: x-amz-replication-status stayed %q, want %q", bucket, key, got, want)
}

// TestServe_OffsiteProof drives the real daemon against a real versitygw: an
// object is PENDING while uploads are paused, and status counts it as not
// offsite; after resume it is COMPLETED on HEAD and GET and status shows the
// upload; with the remote stopped a new object is FAILED and status says
// REMOTE UNREACHABLE instead of running; a restart with another remote says
// that every object will be checked against it.
func TestServe_OffsiteProof(t *testing.T) {
	vgw := testutil.StartVersityGW(t, "offsite")
	env := append([]string{"IPAS_REMOTE_ENDPOINT=" + vgw.Endpoint, "IPAS_REMOTE_BUCKET=offsite", "IPAS_REMOTE_REGION=us-east-1",
		"IPAS_REMOTE_ACCESS_KEY=" + vgw.AccessKey, "IPAS_REMOTE_SECRET_KEY=" + vgw.SecretKey}, adminTestEnv...)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	cfg := "remote: {path_style: true}\nreplication: {paused: true, unreachable_after: 1s, backoff_min: 100ms, backoff_max: 500ms, poll_interval: 100ms}\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0"}
	p := startServe(t, env, args...)
	local := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	api := adminClient(p.endpoint)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	body := []byte(strings.Repeat("tax return ", 1000))
	before := time.Now().Add(-time.Second)
	putObject(t, local, "docs", "a.txt", body)

	// Paused: the version waits, and status counts it.
	if got := replicationStatus(t, local, "docs", "a.txt"); got != "PENDING" {
		t.Fatalf("a version waiting for its upload: x-amz-replication-status %q, want PENDING", got)
	}
	st := cliStatus(t, adminTestEnv, p.endpoint)
	o := st.Offsite
	if o.PendingObjects != 1 || o.PendingBytes != int64(len(body)) || o.OldestPending == nil || o.OldestPending.Before(before) ||
		o.LastUpload != nil || o.ETASeconds != nil {
		t.Fatalf("offsite while paused: %+v", o)
	}
	text := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint)
	if !strings.Contains(text, "1 objects (10.7 KiB) not yet offsite, the oldest put ") || !strings.Contains(text, "ETA unknown") {
		t.Fatalf("status while paused does not say what is not offsite:\n%s", text)
	}

	// Resumed: the version reaches the remote and says so.
	cliOK(t, adminTestEnv, "replication", "resume", "--endpoint", p.endpoint)
	waitReplicationStatus(t, local, "docs", "a.txt", "COMPLETED")
	got, err := local.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("a.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if got.ReplicationStatus != "COMPLETED" {
		t.Fatalf("GET of a replicated version: x-amz-replication-status %q", got.ReplicationStatus)
	}
	st = waitStatus(t, api, "everything offsite", func(s admin.Status) bool { return s.Offsite.PendingObjects == 0 })
	if st.Offsite.LastUpload == nil || st.Offsite.LastUpload.Before(before) || st.Offsite.ETASeconds == nil || *st.Offsite.ETASeconds != 0 {
		t.Fatalf("offsite after the upload: %+v", st.Offsite)
	}
	if text := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint); !strings.Contains(text, "everything is offsite; last upload ") {
		t.Fatalf("status after the upload:\n%s", text)
	}

	// The remote stops: the next version fails, and status says why.
	vgw.Stop()
	putObject(t, local, "docs", "b.txt", body)
	waitReplicationStatus(t, local, "docs", "b.txt", "FAILED")
	st = waitStatus(t, api, "remote unreachable", func(s admin.Status) bool { return s.Replication.State == admin.StateUnreachable })
	if st.Replication.UnreachableSince == nil || st.Replication.LastError == "" || st.Offsite.PendingObjects != 1 || st.Offsite.ETASeconds != nil {
		t.Fatalf("status with the remote stopped: %+v %+v", st.Replication, st.Offsite)
	}
	text = cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint)
	t.Logf("status with the remote stopped:\n%s", text)
	line := strings.SplitN(text, "\n", 2)[0]
	if !strings.Contains(line, "REMOTE UNREACHABLE since ") || !strings.Contains(line, "connection refused") || strings.Contains(line, "running") {
		t.Fatalf("status with the remote stopped:\n%s", text)
	}
	if got := replicationStatus(t, local, "docs", "a.txt"); got != "COMPLETED" {
		t.Fatalf("the replicated version became %q", got)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "remote changed") {
		t.Fatalf("the first start reported a changed remote:\n%s", p.stderr)
	}

	// Another remote bucket: the start says that every object will be checked.
	env2 := append(env, "IPAS_REMOTE_BUCKET=elsewhere")
	p = startServe(t, env2, args...)
	waitLog(t, p, "remote changed from "+vgw.Endpoint+" bucket offsite to "+vgw.Endpoint+" bucket elsewhere: every object will be checked against the new remote")
	stopGateway(t, p)
}
