package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

// TestServe_ReleaseQuarantined: a blob damaged on disk before its upload
// gets its job quarantined (the upload would have sent wrong bytes), which
// raises a job-quarantined alert; once the bytes are put right, `gateway
// replication retry BUCKET/KEY` releases the job, the object goes offsite
// byte-identical, and the alert resolves. An unknown job is a clear error.
func TestServe_ReleaseQuarantined(t *testing.T) {
	hook := testutil.StartWebhook(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "ipas.yaml")
	cfg := fmt.Sprintf("replication: {paused: true, backoff_min: 100ms, backoff_max: 500ms, poll_interval: 100ms}\n"+
		"alerts: {interval: 200ms, resolve_after: 0s, disk_percent: 100, webhooks: [{url: %q}]}\n", hook.URL+"/hook")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, adminTestEnv, "--config", cfgPath, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	api := adminClient(p.endpoint)
	local := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("a tax return, page after page "), 4000) // 120 KB: a blob of its own
	putObject(t, local, "docs", "tax.pdf", body)
	flipBlobByte(t, dataDir, body)
	cliOK(t, adminTestEnv, "replication", "resume", "--endpoint", p.endpoint)

	st := waitStatus(t, api, "the job quarantined", func(s admin.Status) bool { return s.Totals.Quarantined == 1 })
	if len(st.Failing) != 1 || !st.Failing[0].Quarantined || st.Failing[0].Key != "tax.pdf" {
		t.Fatalf("failing jobs: %+v", st.Failing)
	}
	notices := func(r []testutil.WebhookRequest) []string {
		var out []string
		for _, q := range r {
			var n struct{ Event, Alert string }
			json.Unmarshal(q.Body, &n)
			out = append(out, n.Event+":"+n.Alert)
		}
		return out
	}
	hook.WaitFor(t, "the quarantine alert", adminWait, func(r []testutil.WebhookRequest) bool {
		return strings.Contains(strings.Join(notices(r), " "), "firing:job-quarantined")
	})
	st = waitStatus(t, api, "the alert in the status", func(s admin.Status) bool {
		return len(s.Alerts) == 1 && s.Alerts[0].Kind == "job-quarantined" && strings.Contains(s.Alerts[0].Detail, "docs/tax.pdf")
	})

	_, errOut, code := runCLI(t, adminTestEnv, "replication", "retry", "--endpoint", p.endpoint, "no-such-job")
	if code != 1 || !strings.Contains(errOut, "no replication job") {
		t.Errorf("retry of an unknown job: exit %d: %s", code, errOut)
	}

	flipBlobByte(t, dataDir, body) // the same byte again: the bytes are right once more
	if out := cliOK(t, adminTestEnv, "replication", "retry", "--endpoint", p.endpoint, "docs/tax.pdf"); !strings.Contains(out, "1 job(s) retried") {
		t.Errorf("retry: %s", out)
	}
	waitStatus(t, api, "the object offsite", func(s admin.Status) bool {
		return s.Totals.Quarantined == 0 && s.Offsite.PendingObjects == 0 && len(s.Failing) == 0
	})
	if got := replicationStatus(t, local, "docs", "tax.pdf"); got != "COMPLETED" {
		t.Errorf("after the release: x-amz-replication-status %q", got)
	}
	// The chart's history: the minute in progress, with what was sent.
	h, err := api.RateHistory(ctx)
	if err != nil || h.IntervalSeconds != 60 || len(h.Rates) == 0 || h.Rates[len(h.Rates)-1] <= 0 || len(h.Limits) != len(h.Rates) {
		t.Errorf("rate history: %+v, %v", h, err)
	}
	hook.WaitFor(t, "the resolution", adminWait, func(r []testutil.WebhookRequest) bool {
		return strings.Contains(strings.Join(notices(r), " "), "resolved:job-quarantined")
	})
	checkLocalCopy(t, p, dataDir, "docs", "tax.pdf", body)
}
