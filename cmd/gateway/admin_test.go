package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
)

const (
	adminTestKey    = "ADMINTESTKEY"
	adminTestSecret = "admin-test-secret"
	// adminWait bounds every wait for the daemon to reach a state.
	adminWait = 60 * time.Second
)

var adminTestEnv = []string{"IPAS_ACCESS_KEY=" + adminTestKey, "IPAS_SECRET_KEY=" + adminTestSecret}

// runCLI runs the gateway binary with args and returns its output and exit code.
func runCLI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildGateway(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("gateway %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// cliStatus is `gateway status --json` against the daemon at endpoint.
func cliStatus(t *testing.T, env []string, endpoint string) admin.Status {
	t.Helper()
	out, errOut, code := runCLI(t, env, "status", "--json", "--endpoint", endpoint)
	if code != 0 {
		t.Fatalf("gateway status: exit %d: %s", code, errOut)
	}
	var st admin.Status
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("gateway status --json is not the API document: %v\n%s", err, out)
	}
	return st
}

// cliOK runs a control command and expects exit 0.
func cliOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, env, args...)
	if code != 0 {
		t.Fatalf("gateway %v: exit %d: %s%s", args, code, out, errOut)
	}
	return out
}

// waitStatus polls the admin API until ok holds.
func waitStatus(t *testing.T, c *admin.Client, what string, ok func(admin.Status) bool) admin.Status {
	t.Helper()
	var st admin.Status
	var err error
	for deadline := time.Now().Add(adminWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err = c.Status(ctx)
		cancel()
		if err == nil && ok(st) {
			return st
		}
	}
	t.Fatalf("status never showed %s within %s (last: %+v, err %v)", what, adminWait, st, err)
	return st
}

func adminClient(endpoint string) *admin.Client {
	return &admin.Client{Endpoint: endpoint, Region: "us-east-1", AccessKey: adminTestKey, SecretKey: adminTestSecret}
}

func putObject(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminWait)
	defer cancel()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// TestAdmin_StatusPauseBandwidth drives the real daemon (default local remote)
// through the commands: an upload in progress shows in the status, a bandwidth
// change applies at once, a pause holds new objects back until resume.
func TestAdmin_StatusPauseBandwidth(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ipas.yaml")
	// 256 KiB/s makes a 1 MiB object take about 4 s: long enough to be seen uploading.
	os.WriteFile(cfgPath, []byte("replication:\n  bandwidth: 256KiB/s\n"), 0o600)
	p := startServe(t, adminTestEnv, "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0")
	api := adminClient(p.endpoint)
	s3c := s3Client(p.endpoint, adminTestKey, adminTestSecret)

	st := cliStatus(t, adminTestEnv, p.endpoint)
	if !st.Remote.Local || st.Remote.Bucket != localRemoteBucket {
		t.Fatalf("the default remote is not reported as the local copy: %+v", st.Remote)
	}
	if st.Replication.Bandwidth != "256KiB/s" || st.Replication.Limit != 256<<10 {
		t.Fatalf("configured bandwidth not in the status: %+v", st.Replication)
	}

	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	putObject(t, s3c, "photos", "big.jpg", big)
	st = waitStatus(t, api, "photos/big.jpg uploading", func(s admin.Status) bool {
		return len(s.Active) == 1 && s.Active[0].BytesDone > 0
	})
	if j := st.Active[0]; j.Bucket != "photos" || j.Key != "big.jpg" || j.Size != int64(len(big)) || j.Op != "put" {
		t.Fatalf("active job %+v, want the 1 MiB put of photos/big.jpg", j)
	}
	if st.Replication.State != admin.StateRunning || st.Totals.QueueJobs != 1 || st.Totals.QueueBytes != int64(len(big)) {
		t.Fatalf("while uploading: state %s, queue %d jobs %d bytes", st.Replication.State, st.Totals.QueueJobs, st.Totals.QueueBytes)
	}

	// Lift the cap from the command line: it applies to the upload in flight.
	cliOK(t, adminTestEnv, "replication", "bandwidth", "--endpoint", p.endpoint, "unlimited")
	st = waitStatus(t, api, "photos/big.jpg replicated", func(s admin.Status) bool {
		return s.Totals.ReplicatedObjects == 1 && s.Totals.QueueJobs == 0
	})
	if st.Totals.ReplicatedBytes != int64(len(big)) || st.Replication.Limit != 0 || st.Replication.Bandwidth != "unlimited" {
		t.Fatalf("after the upload: %+v %+v", st.Totals, st.Replication)
	}
	if st.Journal.Objects != 1 || st.Journal.Bytes != int64(len(big)) || st.Journal.Buckets != 1 {
		t.Fatalf("journal stats %+v, want 1 bucket, 1 object of %d bytes", st.Journal, len(big))
	}

	// Pause: a new object stays queued.
	if out := cliOK(t, adminTestEnv, "replication", "pause", "--endpoint", p.endpoint); !strings.Contains(out, "paused") {
		t.Fatalf("pause printed %q", out)
	}
	st = cliStatus(t, adminTestEnv, p.endpoint)
	if st.Replication.State != admin.StatePaused || !st.Replication.ManualPause {
		t.Fatalf("after pause: %+v", st.Replication)
	}
	putObject(t, s3c, "photos", "later.jpg", []byte("taken while paused"))
	waitStatus(t, api, "later.jpg queued", func(s admin.Status) bool { return s.Totals.QueueJobs == 1 })
	// A few seconds go by: nothing may be sent.
	time.Sleep(3 * time.Second)
	st = cliStatus(t, adminTestEnv, p.endpoint)
	if st.Totals.ReplicatedObjects != 1 || st.Totals.QueueJobs != 1 || st.Replication.State != admin.StatePaused {
		t.Fatalf("while paused: %d replicated, %d queued, state %s; want 1, 1, paused",
			st.Totals.ReplicatedObjects, st.Totals.QueueJobs, st.Replication.State)
	}
	cliOK(t, adminTestEnv, "replication", "resume", "--endpoint", p.endpoint)
	waitStatus(t, api, "later.jpg replicated after resume", func(s admin.Status) bool {
		return s.Totals.ReplicatedObjects == 2 && s.Totals.QueueJobs == 0 && s.Replication.State == admin.StateIdle
	})

	// A timetable is accepted and reported as written; a bad one changes nothing.
	tt := "Mon-Sun 00:00-24:00 100KiB/s, otherwise unlimited"
	cliOK(t, adminTestEnv, "replication", "bandwidth", "--endpoint", p.endpoint, tt)
	st = cliStatus(t, adminTestEnv, p.endpoint)
	if st.Replication.Bandwidth != tt || st.Replication.Limit != 100<<10 {
		t.Fatalf("after a timetable: %+v", st.Replication)
	}
	_, errOut, code := runCLI(t, adminTestEnv, "replication", "bandwidth", "--endpoint", p.endpoint, "fast please")
	if code != 1 || !strings.Contains(errOut, "fast please") {
		t.Fatalf("a bad bandwidth: exit %d, %q; want 1 naming it", code, errOut)
	}
	if st := cliStatus(t, adminTestEnv, p.endpoint); st.Replication.Bandwidth != tt {
		t.Fatalf("a refused bandwidth changed the setting to %q", st.Replication.Bandwidth)
	}

	// The human-readable form says what matters.
	out := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint)
	for _, want := range []string{"Replication  idle", "NOT offsite", tt, "2 objects"} {
		if !strings.Contains(out, want) {
			t.Errorf("gateway status does not show %q:\n%s", want, out)
		}
	}
	stopGateway(t, p)
}

// TestAdmin_RefusesUnsignedAndForged sends admin requests without a signature,
// with a wrong secret and with an unknown key: each gets 403 and changes nothing.
func TestAdmin_RefusesUnsignedAndForged(t *testing.T) {
	dir := t.TempDir()
	p := startServe(t, adminTestEnv, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0")
	for _, path := range []string{admin.PathStatus, admin.PathPause, admin.PathResume} {
		method := http.MethodPost
		if path == admin.PathStatus {
			method = http.MethodGet
		}
		req, _ := http.NewRequest(method, p.endpoint+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb admin.ErrorBody
		json.Unmarshal(body, &eb)
		if resp.StatusCode != http.StatusForbidden || eb.Error.Code != "AccessDenied" {
			t.Errorf("unsigned %s %s: %d %s, want 403 AccessDenied", method, path, resp.StatusCode, body)
		}
	}
	for name, env := range map[string][]string{
		"wrong secret": {"IPAS_ACCESS_KEY=" + adminTestKey, "IPAS_SECRET_KEY=guessed-secret"},
		"unknown key":  {"IPAS_ACCESS_KEY=SOMEONEELSE", "IPAS_SECRET_KEY=" + adminTestSecret},
	} {
		_, errOut, code := runCLI(t, env, "replication", "pause", "--endpoint", p.endpoint)
		if code != 1 || !strings.Contains(errOut, "refused our credentials") || !strings.Contains(errOut, "HTTP 403") {
			t.Errorf("%s: exit %d, %q; want 1 and a 403 explained", name, code, errOut)
		}
	}
	if st := cliStatus(t, adminTestEnv, p.endpoint); st.Replication.ManualPause {
		t.Fatal("a refused request paused replication")
	}
	// A key under the reserved prefix in a bucket is still S3's.
	s3c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx := context.Background()
	s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")})
	putObject(t, s3c, "docs", "_ipas/v1/status", []byte("just a file"))
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("_ipas/v1/status")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "just a file" {
		t.Fatalf("docs/_ipas/v1/status read back %q", got)
	}
	stopGateway(t, p)
}

// TestAdmin_GeneratedCredentialAndNotRunning: with no configured credential the
// commands use DATA_DIR/credentials.yaml, as serve does; with the daemon stopped
// they say so.
func TestAdmin_GeneratedCredentialAndNotRunning(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startServe(t, nil, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	if st := cliStatus(t, []string{"IPAS_DATA_DIR=" + dataDir}, p.endpoint); st.Journal.AppliedIndex == 0 {
		t.Fatalf("status with the generated credential: %+v", st.Journal)
	}
	addr := strings.TrimPrefix(p.endpoint, "http://")
	stopGateway(t, p)
	_, errOut, code := runCLI(t, nil, "status", "--data-dir", dataDir, "--s3-addr", addr)
	if code != 1 || !strings.Contains(errOut, "is `gateway serve` running on "+addr) {
		t.Fatalf("daemon stopped: exit %d, %q", code, errOut)
	}
}

// TestAdmin_SIGHUPAndBudgetAcrossRestart changes the bandwidth and the budget in
// the file and sends SIGHUP; a broken file then changes nothing. The month's
// upload count survives a restart.
func TestAdmin_SIGHUPAndBudgetAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "ipas.yaml")
	os.WriteFile(cfgPath, []byte("replication:\n  bandwidth: 1MiB/s\n  monthly_budget: 1GiB\n"), 0o600)
	args := []string{"--config", cfgPath, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0"}
	p := startServe(t, adminTestEnv, args...)
	api := adminClient(p.endpoint)

	os.WriteFile(cfgPath, []byte("replication:\n  bandwidth: 200KiB/s\n  monthly_budget: 2GiB\n"), 0o600)
	p.cmd.Process.Signal(syscall.SIGHUP)
	st := waitStatus(t, api, "the reloaded bandwidth", func(s admin.Status) bool { return s.Replication.Limit == 200<<10 })
	if st.Replication.Bandwidth != "200KiB/s" || st.Replication.Budget.Bytes != 2<<30 {
		t.Fatalf("after SIGHUP: %+v", st.Replication)
	}
	os.WriteFile(cfgPath, []byte("replication:\n  bandwidth: 3 pigeons\n"), 0o600)
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, p, "reload refused")
	if st := cliStatus(t, adminTestEnv, p.endpoint); st.Replication.Limit != 200<<10 || st.Replication.Budget.Bytes != 2<<30 {
		t.Fatalf("a broken config changed the settings: %+v", st.Replication)
	}
	if !strings.Contains(p.stderr.String(), "replication.bandwidth changed") {
		t.Errorf("the change was not logged:\n%s", p.stderr)
	}

	// Upload something, stop, and start again: the month's count carries over.
	cliOK(t, adminTestEnv, "replication", "bandwidth", "--endpoint", p.endpoint, "unlimited")
	s3c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("docs")})
	body := bytes.Repeat([]byte("invoice "), 40000) // 320 kB
	putObject(t, s3c, "docs", "invoice.pdf", body)
	st = waitStatus(t, api, "the upload counted", func(s admin.Status) bool { return s.Totals.ReplicatedObjects == 1 })
	if st.Replication.Budget.Used < int64(len(body)) {
		t.Fatalf("budget used %d after a %d-byte upload", st.Replication.Budget.Used, len(body))
	}
	used := st.Replication.Budget.Used
	stopGateway(t, p)
	var rec budgetRecord
	raw, err := os.ReadFile(filepath.Join(dataDir, budgetFileName))
	if err != nil || json.Unmarshal(raw, &rec) != nil || rec.Used != used || rec.Month != time.Now().Format(budgetMonthFormat) {
		t.Fatalf("budget file after shutdown: %s (%v); want %d bytes this month", raw, err, used)
	}

	os.WriteFile(cfgPath, []byte("replication:\n  monthly_budget: 2GiB\n"), 0o600)
	p = startServe(t, adminTestEnv, args...)
	if st := cliStatus(t, adminTestEnv, p.endpoint); st.Replication.Budget.Used != used {
		t.Fatalf("after a restart the month's count is %d, want %d", st.Replication.Budget.Used, used)
	}
	stopGateway(t, p)
}

// TestBudgetFile_MonthRollover: a count from an earlier month is not this month's.
func TestBudgetFile_MonthRollover(t *testing.T) {
	path := filepath.Join(t.TempDir(), budgetFileName)
	f := &budgetFile{path: path}
	os.WriteFile(path, []byte(`{"month":"2026-04","used":12345}`), 0o644)
	for _, tc := range []struct {
		now  time.Time
		want int64
	}{
		{time.Date(2026, 4, 30, 23, 59, 0, 0, time.Local), 12345},
		{time.Date(2026, 5, 1, 0, 0, 0, 0, time.Local), 0},
		{time.Date(2027, 4, 2, 0, 0, 0, 0, time.Local), 0},
	} {
		got, err := f.load(tc.now)
		if err != nil || got != tc.want {
			t.Errorf("load at %s: %d, %v; want %d", tc.now, got, err, tc.want)
		}
	}
	os.WriteFile(path, []byte("garbage"), 0o644)
	if _, err := f.load(time.Now()); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("a corrupt file: %v, want an error saying how to fix it", err)
	}
}

func waitLog(t *testing.T, p *gatewayProcess, line string) {
	t.Helper()
	for deadline := time.Now().Add(adminWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(p.stderr.String(), line) {
			return
		}
	}
	t.Fatalf("the log never said %q:\n%s", line, p.stderr)
}

func stopGateway(t *testing.T, p *gatewayProcess) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
}
