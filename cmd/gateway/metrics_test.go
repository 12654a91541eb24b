package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	dto "github.com/prometheus/client_model/go"

	"github.com/ipas/ipas/internal/testutil"
)

const metricsTestToken = "metrics-test-token-0123456789"

// notifySocket is the NOTIFY_SOCKET of a service manager: it records every
// message the daemon sends.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "ipas-sd-") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "notify")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:k]))
			n.mu.Unlock()
		}
	}()
	return n
}

// count returns how many messages contain s.
func (n *notifySocket) count(s string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		if strings.Contains(m, s) {
			c++
		}
	}
	return c
}

func (n *notifySocket) waitFor(t *testing.T, s string, atLeast int) {
	t.Helper()
	for deadline := time.Now().Add(adminWait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n.count(s) >= atLeast {
			return
		}
	}
	t.Fatalf("systemd was not sent %q %d times; got %q", s, atLeast, n.msgs)
}

type scraper struct {
	t    *testing.T
	base string
}

func (s scraper) get(path, token string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scrape parses /metrics with Prometheus' text parser.
func (s scraper) scrape() map[string]*dto.MetricFamily {
	s.t.Helper()
	code, body := s.get("/metrics", metricsTestToken)
	if code != http.StatusOK {
		s.t.Fatalf("scrape: %d %s", code, body)
	}
	return testutil.ParseMetrics(s.t, body)
}

// value is the metric's value (a histogram's count) for the series whose
// labels include labels; -1 when there is none.
func (s scraper) value(name string, labels ...string) float64 {
	return testutil.MetricValue(s.scrape(), name, labels...)
}

// waitValue waits until the metric satisfies ok.
func (s scraper) waitValue(what, name string, ok func(float64) bool, labels ...string) float64 {
	s.t.Helper()
	var v float64
	for deadline := time.Now().Add(adminWait); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if v = s.value(name, labels...); ok(v) {
			return v
		}
	}
	s.t.Fatalf("%s: %s%v stayed at %v", what, name, labels, v)
	return v
}

func metricsURL(t *testing.T, p *gatewayProcess) string {
	t.Helper()
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(line, "gateway ready") {
			var l struct {
				Metrics string `json:"metrics"`
			}
			json.Unmarshal([]byte(line), &l)
			if l.Metrics == "" {
				t.Fatalf("the ready line names no metrics address: %s", line)
			}
			return l.Metrics
		}
	}
	t.Fatal("no ready line")
	return ""
}

// TestMetrics_RealBinary scrapes the real daemon: each metric moves when its
// event happens; /metrics needs the token, /healthz and /readyz do not and
// say one word; systemd hears READY=1, watchdog pings only while the store
// takes writes, RELOADING=1 on SIGHUP and STOPPING=1 at the end.
func TestMetrics_RealBinary(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	drop := filepath.Join(dir, "drop")
	os.MkdirAll(drop, 0o755)
	sd := listenNotify(t)
	env := append([]string{"NOTIFY_SOCKET=" + sd.path, "WATCHDOG_USEC=400000", "IPAS_METRICS_TOKEN=" + metricsTestToken}, adminTestEnv...)
	p := startServe(t, env, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0", "--drop", drop+"=inbox")
	m := scraper{t: t, base: metricsURL(t, p)}
	sd.waitFor(t, "READY=1", 1)
	sd.waitFor(t, "WATCHDOG=1", 2)

	// The token is required; health answers anyone, with a word.
	for _, tc := range []struct {
		path, token string
		code        int
		body        string
	}{
		{"/metrics", "", 401, ""},
		{"/metrics", "not-the-token-at-all", 401, ""},
		{"/healthz", "", 200, "ok\n"},
		{"/readyz", "", 200, "ready\n"},
	} {
		if code, body := m.get(tc.path, tc.token); code != tc.code || (tc.body != "" && body != tc.body) {
			t.Errorf("GET %s (token %q): %d %q, want %d %q", tc.path, tc.token, code, body, tc.code, tc.body)
		}
	}
	// On the S3 address, /healthz is a bucket: unsigned, it is refused.
	if resp, err := http.Get(p.endpoint + "/healthz"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GET /healthz on the S3 address: %v %v, want 403", resp, err)
	}

	// A PUT moves the request counter, bytes in, the journal commits and the
	// store; with replication paused, the object waits as pending.
	cliOK(t, adminTestEnv, "replication", "pause", "--endpoint", p.endpoint)
	fams := m.scrape()
	commits := testutil.MetricValue(fams, "ipas_journal_commit_duration_seconds")
	puts := max(0, testutil.MetricValue(fams, "ipas_s3_requests_total", "operation", "PutObject", "status", "200"))
	s3c := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("metrics "), 32<<10) // 256 KiB
	putObject(t, s3c, "photos", "a.jpg", body)
	// A request is counted once its handler returns, just after the client
	// has its answer.
	m.waitValue("the PUT counted", "ipas_s3_requests_total", func(v float64) bool { return v == puts+1 }, "operation", "PutObject", "status", "200")
	fams = m.scrape()
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ipas_s3_requests_total", []string{"operation", "PutObject", "status", "200"}, puts + 1},
		{"ipas_s3_requests_total", []string{"operation", "CreateBucket", "status", "200"}, 1},
		{"ipas_s3_received_bytes_total", []string{"operation", "PutObject"}, float64(len(body))},
		{"ipas_s3_request_duration_seconds", []string{"operation", "PutObject"}, puts + 1},
		{"ipas_store_objects", nil, 1},
		{"ipas_store_bytes", nil, float64(len(body))},
		{"ipas_replication_paused", nil, 1},
		{"ipas_replication_pending_objects", nil, 1},
		{"ipas_replication_pending_bytes", nil, float64(len(body))},
		{"ipas_replication_queue_jobs", nil, 1},
	} {
		if got := testutil.MetricValue(fams, c.name, c.labels...); got != c.want {
			t.Errorf("after a PUT, paused: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := testutil.MetricValue(fams, "ipas_journal_commit_duration_seconds"); got < commits+2 {
		t.Errorf("journal commits %v -> %v after a bucket and a PUT", commits, got)
	}
	if got := testutil.MetricValue(fams, "ipas_store_disk_free_bytes"); got <= 0 {
		t.Errorf("disk free %v", got)
	}
	time.Sleep(1100 * time.Millisecond)
	if age := m.value("ipas_replication_oldest_pending_age_seconds"); age < 1 {
		t.Errorf("oldest pending age %v after a second paused, want >= 1", age)
	}
	// A GET moves bytes out.
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("a.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	m.waitValue("bytes out after a GET", "ipas_s3_sent_bytes_total", func(v float64) bool { return v == float64(len(body)) }, "operation", "GetObject")
	// An unsigned request counts as refused.
	http.Get(p.endpoint + "/photos/a.jpg")
	m.waitValue("an unsigned GET counted as refused", "ipas_s3_requests_total", func(v float64) bool { return v == 1 }, "operation", "GetObject", "status", "403")

	// Resumed, the object goes offsite: pending drains, uploads count.
	cliOK(t, adminTestEnv, "replication", "resume", "--endpoint", p.endpoint)
	m.waitValue("upload after resume", "ipas_replication_pending_objects", func(v float64) bool { return v == 0 })
	fams = m.scrape()
	if got := testutil.MetricValue(fams, "ipas_replication_sent_bytes_total"); got < float64(len(body)) {
		t.Errorf("sent bytes %v after uploading %d", got, len(body))
	}
	if testutil.MetricValue(fams, "ipas_replication_replicated_objects_total") < 1 || testutil.MetricValue(fams, "ipas_replication_pending_bytes") != 0 ||
		testutil.MetricValue(fams, "ipas_replication_oldest_pending_age_seconds") != 0 || testutil.MetricValue(fams, "ipas_replication_paused") != 0 ||
		testutil.MetricValue(fams, "ipas_replication_last_replicated_timestamp_seconds") < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Error("after the upload: replicated, pending, age, paused or last replicated did not move")
	}
	for _, name := range []string{"ipas_replication_part_retries_total", "ipas_replication_failed_attempts_total",
		"ipas_replication_upload_rate_bytes_per_second", "process_resident_memory_bytes", "go_goroutines"} {
		if testutil.MetricValue(fams, name) < 0 {
			t.Errorf("%s is not exported", name)
		}
	}

	// Drop folder: a file is ingested, a symbolic link skipped.
	os.WriteFile(filepath.Join(drop, "scan.pdf"), []byte("scanned"), 0o644)
	os.Symlink("/etc/hostname", filepath.Join(drop, "link"))
	m.waitValue("drop-folder file ingested", "ipas_drop_files_ingested_total", func(v float64) bool { return v == 1 })
	m.waitValue("drop-folder link skipped", "ipas_drop_files_skipped_total", func(v float64) bool { return v == 1 })

	// A store that cannot take a file: not ready, and no watchdog pings.
	tmp := filepath.Join(dataDir, storeDir, "tmp")
	if err := os.Rename(tmp, tmp+".away"); err != nil {
		t.Fatal(err)
	}
	if code, body := m.get("/readyz", ""); code != 503 || body != "not ready\n" {
		t.Errorf("/readyz with the store unwritable: %d %q", code, body)
	}
	if code, body := m.get("/healthz", ""); code != 200 || body != "ok\n" {
		t.Errorf("/healthz with the store unwritable: %d %q (the process is up)", code, body)
	}
	time.Sleep(400 * time.Millisecond) // a ping in flight may land
	before := sd.count("WATCHDOG=1")
	time.Sleep(time.Second) // five ping intervals
	if got := sd.count("WATCHDOG=1"); got != before {
		t.Errorf("%d watchdog pings while the store was unwritable", got-before)
	}
	if err := os.Rename(tmp+".away", tmp); err != nil {
		t.Fatal(err)
	}
	sd.waitFor(t, "WATCHDOG=1", before+2)
	if code, body := m.get("/readyz", ""); code != 200 || body != "ready\n" {
		t.Errorf("/readyz once the store is back: %d %q", code, body)
	}

	// SIGHUP reloads inside RELOADING=1 ... READY=1; SIGTERM says STOPPING=1.
	p.cmd.Process.Signal(syscall.SIGHUP)
	sd.waitFor(t, "RELOADING=1", 1)
	sd.waitFor(t, "READY=1", 2)
	stopGateway(t, p)
	if sd.count("STOPPING=1") != 1 {
		t.Errorf("no STOPPING=1 at shutdown: %q", sd.msgs)
	}
}

// TestMetrics_GeneratedTokenAndPublic: without metrics.token, a 0600 token
// file is generated and required; metrics.public needs none; metrics.address
// "" serves nothing.
func TestMetrics_GeneratedTokenAndPublic(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	p := startServe(t, adminTestEnv, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	m := scraper{t: t, base: metricsURL(t, p)}
	path := filepath.Join(dataDir, MetricsTokenFile)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v, want mode 0600", fi, err)
	}
	raw, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(raw))
	if code, _ := m.get("/metrics", ""); code != 401 {
		t.Errorf("without the token: %d", code)
	}
	if code, _ := m.get("/metrics", token); code != 200 {
		t.Errorf("with the generated token: %d", code)
	}
	if strings.Contains(p.stderr.String(), token) {
		t.Error("the token is in the log")
	}
	stopGateway(t, p)

	cfgPath := filepath.Join(dir, "ipas.yaml")
	os.WriteFile(cfgPath, []byte("metrics:\n  public: true\n"), 0o600)
	p = startServe(t, adminTestEnv, "--config", cfgPath, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0")
	m = scraper{t: t, base: metricsURL(t, p)}
	if code, body := m.get("/metrics", ""); code != 200 || !strings.Contains(body, "ipas_journal_commit_duration_seconds") {
		t.Errorf("public: %d", code)
	}
	stopGateway(t, p)
}

func TestMetricsConfig_Validate(t *testing.T) {
	for _, tc := range []struct {
		metrics, token string
		ok             bool
	}{
		{":9002", "", true},
		{"", "", true},
		{"127.0.0.1:0", "", true},
		{":9002", "0123456789abcdef", true},
		{":9002", "short", false},
		{"localhost", "", false},
		{":9000", "", false},
		{"127.0.0.1:9001", "", false},
	} {
		c := DefaultConfig()
		c.Metrics.Address, c.Metrics.Token = tc.metrics, tc.token
		err := c.Validate()
		var ce *ConfigError
		switch {
		case tc.ok && err != nil:
			t.Errorf("metrics %q token %q: %v", tc.metrics, tc.token, err)
		case !tc.ok && (!asConfigError(err, &ce) || !strings.HasPrefix(ce.Field, "metrics.") || ce.Fix == ""):
			t.Errorf("metrics %q token %q: got %v, want a metrics.* ConfigError with a fix", tc.metrics, tc.token, err)
		}
	}
}

func asConfigError(err error, ce **ConfigError) bool {
	e, ok := err.(*ConfigError)
	*ce = e
	return ok
}
