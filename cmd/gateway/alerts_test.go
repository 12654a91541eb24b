package main

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestServe_Alerts runs the real daemon against a versitygw that refuses
// its key: replication stops on the error and the object stays pending
// past a one-second threshold, and a real webhook server and a real SMTP
// server (STARTTLS, AUTH) each receive both alerts once; the status shows
// them; `gateway alert test` reaches both. Restarted with the right key,
// the daemon does not repeat the alerts (their state is on disk) and, once
// the object is offsite, announces both as resolved. No secret is logged.
func TestServe_Alerts(t *testing.T) {
	vgw := testutil.StartVersityGW(t, "offsite")
	hook := testutil.StartWebhook(t)
	mail := testutil.StartSMTP(t, "ipas-mailer", "smtp-SECRET-pw", false)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	cfg := fmt.Sprintf(`remote: {path_style: true}
replication: {backoff_min: 100ms, backoff_max: 500ms, poll_interval: 100ms}
alerts:
  interval: 200ms
  oldest_pending: 1s
  resolve_after: 0s
  disk_percent: 100          # the test machine's disk is not what is tested
  webhooks:
    - {url: "%s/hook", token: hook-SECRET-token}
  email:
    server: %s
    username: ipas-mailer
    password: smtp-SECRET-pw
    from: "IPAS <ipas@example.com>"
    to: [me@example.com]
    ca_file: %s
`, hook.URL, mail.Addr, mail.CAFile)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	remoteEnv := func(secret string) []string {
		return append([]string{"IPAS_REMOTE_ENDPOINT=" + vgw.Endpoint, "IPAS_REMOTE_BUCKET=offsite",
			"IPAS_REMOTE_ACCESS_KEY=" + vgw.AccessKey, "IPAS_REMOTE_SECRET_KEY=" + secret}, adminTestEnv...)
	}
	args := []string{"--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0"}
	p := startServe(t, remoteEnv("not-the-remote-secret"), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	local := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	putObject(t, local, "docs", "a.txt", []byte("the only copy, for now"))

	type event struct{ Event, Alert, Title, Host string }
	events := func(reqs []testutil.WebhookRequest) []event {
		var out []event
		for _, r := range reqs {
			var e event
			if err := json.Unmarshal(r.Body, &e); err != nil {
				t.Fatalf("webhook body is not JSON: %s", r.Body)
			}
			if r.Header.Get("Authorization") != "Bearer hook-SECRET-token" {
				t.Errorf("webhook Authorization %q", r.Header.Get("Authorization"))
			}
			out = append(out, e)
		}
		return out
	}
	count := func(reqs []testutil.WebhookRequest, ev, kind string) int {
		n := 0
		for _, e := range events(reqs) {
			if e.Event == ev && e.Alert == kind {
				n++
			}
		}
		return n
	}
	hook.WaitFor(t, "both alerts", adminWait, func(r []testutil.WebhookRequest) bool {
		return count(r, "firing", "replication-stopped") == 1 && count(r, "firing", "oldest-pending") == 1
	})
	mails := mail.Wait(t, 2, adminWait)
	subjects := ""
	for _, m := range mails {
		if !m.TLS || m.Auth != "ipas-mailer" || m.To[0] != "me@example.com" {
			t.Errorf("mail envelope %+v", m)
		}
		subjects += m.Data
	}
	if !strings.Contains(subjects, "replication stopped: the remote refuses our requests") || !strings.Contains(subjects, "X-IPAS-Alert: oldest-pending") {
		t.Errorf("mails:\n%s", subjects)
	}
	st := cliStatus(t, adminTestEnv, p.endpoint)
	kinds := map[string]bool{}
	for _, a := range st.Alerts {
		kinds[a.Kind] = true
	}
	if !kinds["replication-stopped"] || !kinds["oldest-pending"] || st.Replication.State != admin.StateError {
		t.Errorf("status: state %s, alerts %+v", st.Replication.State, st.Alerts)
	}
	if out := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint); !strings.Contains(out, "ALERT") {
		t.Errorf("gateway status shows no alert:\n%s", out)
	}

	// Several checks later, each alert is still one notice.
	time.Sleep(time.Second)
	if r := hook.Requests(); len(r) != 2 {
		t.Errorf("after more checks: %d webhook notices, want 2: %+v", len(r), events(r))
	}

	out := cliOK(t, adminTestEnv, "alert", "test", "--endpoint", p.endpoint)
	if !strings.Contains(out, "ok      webhook "+hook.URL+"/hook") || !strings.Contains(out, "ok      email to me@example.com") {
		t.Errorf("gateway alert test:\n%s", out)
	}
	if r := hook.Requests(); count(r, "test", "test") != 1 {
		t.Errorf("the test alert did not reach the webhook: %+v", events(r))
	}
	mail.Wait(t, 3, adminWait)

	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("shutdown: %v\n%s", err, p.stderr)
	}
	logs := p.stderr.String()

	// With the right key the object goes offsite: both alerts resolve, once.
	p = startServe(t, remoteEnv(vgw.SecretKey), args...)
	reqs := hook.WaitFor(t, "both resolutions", adminWait, func(r []testutil.WebhookRequest) bool {
		return count(r, "resolved", "replication-stopped") == 1 && count(r, "resolved", "oldest-pending") == 1
	})
	if count(reqs, "firing", "replication-stopped") != 1 || count(reqs, "firing", "oldest-pending") != 1 {
		t.Errorf("the restart repeated an alert: %+v", events(reqs))
	}
	mail.Wait(t, 5, adminWait)
	st = waitStatus(t, adminClient(p.endpoint), "no alert", func(s admin.Status) bool { return len(s.Alerts) == 0 })
	if st.Offsite.PendingObjects != 0 {
		t.Errorf("resolved while %d objects are pending", st.Offsite.PendingObjects)
	}
	for _, secret := range []string{"hook-SECRET-token", "smtp-SECRET-pw", "not-the-remote-secret", vgw.SecretKey} {
		if strings.Contains(logs+p.stderr.String(), secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
	}
}
