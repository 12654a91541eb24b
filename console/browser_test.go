//go:build browser

package console_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

const (
	browserKey    = "BROWSERTESTKEY"
	browserSecret = "browser-test-secret"
	// EnvScreenshots names the directory the screenshots go to (default: a
	// temporary directory of the test).
	EnvScreenshots = "IPAS_SCREENSHOT_DIR"
	chromium       = "/usr/bin/chromium"
	browserWait    = 60 * time.Second
)

// daemon is a running `gateway serve`.
type daemon struct {
	cmd     *exec.Cmd
	s3      string
	console string
	dataDir string
}

// startDaemon builds and starts the real gateway with its console on a free port.
func startDaemon(t *testing.T, config string) *daemon {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/gateway").CombinedOutput(); err != nil {
		t.Fatalf("build gateway: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "ipas.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve", "--config", cfg, "--data-dir", dataDir,
		"--s3-addr", "127.0.0.1:0", "--log-level", "info")
	cmd.Env = append(os.Environ(), "IPAS_ACCESS_KEY="+browserKey, "IPAS_SECRET_KEY="+browserSecret, "IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan daemon, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct {
				Msg     string `json:"message"`
				S3      string `json:"s3_endpoint"`
				Console string `json:"console"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "gateway ready" {
				ready <- daemon{s3: line.S3, console: line.Console}
			}
		}
	}()
	select {
	case d := <-ready:
		d.cmd, d.dataDir = cmd, dataDir
		return &d
	case <-time.After(browserWait):
		t.Fatal("the gateway did not become ready")
		return nil
	}
}

// cpuTicks is the process's user+system CPU time in clock ticks (1/100 s).
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// newBrowser starts Debian's chromium, headless, with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("%s is missing: apt-get install -y chromium", chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// waitText waits until the text of the element matching sel contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) string {
	t.Helper()
	var got string
	for deadline := time.Now().Add(browserWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		err := chromedp.Run(ctx, chromedp.Evaluate(`(document.querySelector(`+strconv.Quote(sel)+`)||{}).textContent||""`, &got))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		if strings.Contains(got, want) {
			return got
		}
	}
	t.Fatalf("%s never showed %q (last: %q)", sel, want, got)
	return ""
}

// waitJS waits until the expression is true in the page.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	var ok bool
	for deadline := time.Now().Add(browserWait); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := chromedp.Run(ctx, chromedp.Evaluate(expr, &ok)); err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		if ok {
			return
		}
	}
	t.Fatalf("never true: %s", expr)
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// screenshot saves the viewport at width x height as NAME.png.
func screenshot(t *testing.T, ctx context.Context, dir, name string, width, height int64) {
	t.Helper()
	var png []byte
	run(t, ctx, "screenshot "+name, chromedp.EmulateViewport(width, height), chromedp.Sleep(300*time.Millisecond), chromedp.CaptureScreenshot(&png))
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// TestBrowser_ConsoleLive signs in with real chromium, puts an object with
// the AWS SDK and watches the overview change without a reload, follows the
// upload, pauses, resumes and changes the bandwidth, and checks each action
// with the admin API the CLI uses. The idle page is measured too.
func TestBrowser_ConsoleLive(t *testing.T) {
	shots := os.Getenv(EnvScreenshots)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// 256 KiB/s makes a 3 MiB object take about 12 s: long enough to watch,
	// and for an object pending over 2 s to raise an alert.
	hook := testutil.StartWebhook(t)
	d := startDaemon(t, "replication:\n  bandwidth: 256KiB/s\n  backoff_min: 100ms\n  backoff_max: 500ms\n"+
		"alerts: {interval: 200ms, oldest_pending: 2s, resolve_after: 0s, disk_percent: 100, webhooks: [{url: \""+hook.URL+"/hook\"}]}\n")
	api := &admin.Client{Endpoint: d.s3, Region: "us-east-1", AccessKey: browserKey, SecretKey: browserSecret}
	ctx := newBrowser(t)

	run(t, ctx, "open the console", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(d.console), chromedp.WaitVisible("#login-form"))
	screenshot(t, ctx, shots, "desktop-login", 1280, 800)
	run(t, ctx, "sign in",
		chromedp.SendKeys("#access-key", browserKey),
		chromedp.SendKeys("#secret", browserSecret),
		chromedp.Click(`#login-form button[type="submit"]`),
		chromedp.WaitVisible("#overview"))
	waitText(t, ctx, "#ov-archive", "0 objects")
	waitText(t, ctx, "#verdict", "NOT offsite")
	waitText(t, ctx, "#live", "Live")

	// The idle page: the daemon's own CPU with the page open and nothing to do.
	time.Sleep(2 * time.Second)
	before, start := cpuTicks(t, d.cmd.Process.Pid), time.Now()
	time.Sleep(10 * time.Second)
	used := float64(cpuTicks(t, d.cmd.Process.Pid)-before) / 100 / time.Since(start).Seconds()
	t.Logf("idle daemon with the console open: %.2f%% of one core", 100*used)
	if used > 0.02 {
		t.Errorf("the idle daemon with an open console used %.1f%% of a core, over 2%%", 100*used)
	}

	// A test alert from the overview reaches the webhook.
	run(t, ctx, "send a test alert", chromedp.Click("#alert-test"))
	waitText(t, ctx, "#alert-test-result", "sent: webhook "+hook.URL+"/hook")
	hook.WaitFor(t, "the test alert", browserWait, func(r []testutil.WebhookRequest) bool {
		return len(r) == 1 && strings.Contains(string(r[0].Body), `"event":"test"`)
	})

	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(d.s3), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: browserKey, SecretAccessKey: browserSecret}, nil
		})})
	body := bytes.Repeat([]byte("ipas console "), 3<<20/13)
	pctx, cancel := context.WithTimeout(context.Background(), browserWait)
	defer cancel()
	if _, err := s3c.CreateBucket(pctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(pctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("2026/holiday.jpg"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	// A bucket that a policy opens to anonymous reads is named on the overview.
	if _, err := s3c.CreateBucket(pctx, &s3.CreateBucketInput{Bucket: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketPolicy(pctx, &s3.PutBucketPolicyInput{Bucket: aws.String("shared"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "#public-warning", "anyone can read bucket shared without a key")
	// Live: no reload between the put and these.
	waitText(t, ctx, "#ov-archive", "1 object, 3.0 MiB")
	waitText(t, ctx, "#ov-state", "Uploading")
	waitText(t, ctx, "#alerts li[data-kind=oldest-pending]", "has not been offsite for")
	screenshot(t, ctx, shots, "desktop-overview", 1280, 800)

	run(t, ctx, "open Uploads", chromedp.Click(`a[data-page="uploads"]`), chromedp.WaitVisible("#uploads"))
	waitText(t, ctx, "#active", "photos/2026/holiday.jpg")
	waitText(t, ctx, "#up-limit", "256 KiB/s")
	// The chart: the upload so far against the 256 KiB/s limit.
	waitJS(t, ctx, `Number(document.querySelector("#up-chart").dataset.points) >= 1 && !!document.querySelector("#up-chart path.rate") && !!document.querySelector("#up-chart path.limit")`)
	waitText(t, ctx, "#up-chart-caption", "limit up to 256 KiB/s")
	screenshot(t, ctx, shots, "desktop-uploads", 1280, 800)

	run(t, ctx, "pause", chromedp.Click("#pause"))
	waitText(t, ctx, "#up-state", "Paused")
	if st, err := api.Status(pctx); err != nil || st.Replication.State != admin.StatePaused {
		t.Fatalf("after Pause in the console the admin API says %q (%v)", st.Replication.State, err)
	}
	run(t, ctx, "resume", chromedp.Click("#resume"))
	waitJS(t, ctx, `!document.querySelector("#pause").disabled && !document.querySelector("#up-state").textContent.includes("Paused")`)
	if st, err := api.Status(pctx); err != nil || st.Replication.ManualPause {
		t.Fatalf("after Resume in the console the admin API says %+v (%v)", st.Replication, err)
	}

	run(t, ctx, "set the bandwidth",
		// Focused first: the page's refresh leaves a focused field alone,
		// and once refilled between the clearing and the typing it made
		// "256 KiB/s1MiB/s".
		chromedp.Focus("#bandwidth"),
		chromedp.Evaluate(`document.querySelector("#bandwidth").value = ""`, nil),
		chromedp.SendKeys("#bandwidth", "1MiB/s"),
		chromedp.Click(`#bandwidth-form button[type="submit"]`))
	waitText(t, ctx, "#up-limit", "1.0 MiB/s")
	if st, err := api.Status(pctx); err != nil || st.Replication.Bandwidth != "1MiB/s" || st.Replication.Limit != 1<<20 {
		t.Fatalf("after the console's bandwidth change the admin API says %+v (%v)", st.Replication, err)
	}
	run(t, ctx, "a bandwidth that does not parse",
		chromedp.Focus("#bandwidth"),
		chromedp.Evaluate(`document.querySelector("#bandwidth").value = ""`, nil),
		chromedp.SendKeys("#bandwidth", "fast"),
		chromedp.Click(`#bandwidth-form button[type="submit"]`))
	waitText(t, ctx, "#up-error", "fast")
	const timetable = "Mon-Sun 00:00-12:00 2MiB/s, otherwise 1MiB/s"
	run(t, ctx, "set a timetable",
		chromedp.Focus("#bandwidth"),
		chromedp.Evaluate(`document.querySelector("#bandwidth").value = ""`, nil),
		chromedp.SendKeys("#bandwidth", timetable),
		chromedp.Click(`#bandwidth-form button[type="submit"]`))
	// The field already showed MiB/s before: wait for the daemon to take the
	// timetable (the submit is asynchronous), then check what it says.
	var st admin.Status
	for deadline := time.Now().Add(browserWait); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if st, err = api.Status(pctx); err == nil && st.Replication.Bandwidth == timetable || time.Now().After(deadline) {
			break
		}
	}
	if st.Replication.Bandwidth != timetable || (st.Replication.Limit != 1<<20 && st.Replication.Limit != 2<<20) {
		t.Fatalf("after the console's timetable the admin API says %+v", st.Replication)
	}
	waitText(t, ctx, "#up-limit", "MiB/s")

	// The upload finishes, live.
	waitText(t, ctx, "#active-empty", "Nothing is uploading")
	run(t, ctx, "open Overview", chromedp.Click(`a[data-page="overview"]`), chromedp.WaitVisible("#overview"))
	waitText(t, ctx, "#ov-uploaded", "1 object, 3.0 MiB")
	// Offsite now: the alert resolves, live.
	waitJS(t, ctx, `document.querySelectorAll("#alerts li").length === 0`)

	// A blob damaged before its upload: the job is quarantined; once the
	// bytes are right again, Release uploads it.
	if err := api.Pause(pctx); err != nil {
		t.Fatal(err)
	}
	tax := bytes.Repeat([]byte("a tax return, page after page "), 4000)
	if _, err := s3c.PutObject(pctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("tax.pdf"), Body: bytes.NewReader(tax)}); err != nil {
		t.Fatal(err)
	}
	flipBlobByte(t, d.dataDir, tax)
	if err := api.Resume(pctx); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "open Uploads", chromedp.Click(`a[data-page="uploads"]`), chromedp.WaitVisible("#uploads"))
	waitText(t, ctx, "#failing", "quarantined")
	waitText(t, ctx, "#failing button.retry", "Release")
	screenshot(t, ctx, shots, "desktop-uploads-quarantined", 1280, 800)
	flipBlobByte(t, d.dataDir, tax)
	var sideways bool
	run(t, ctx, "measure", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &sideways))
	if sideways {
		t.Error("the Uploads page with a quarantined job scrolls sideways")
	}
	run(t, ctx, "release", chromedp.Click("#failing button.retry"))
	waitJS(t, ctx, `!document.querySelector("#failing-empty").hidden`)
	for deadline := time.Now().Add(browserWait); ; time.Sleep(100 * time.Millisecond) {
		st, err := api.Status(pctx)
		if err == nil && st.Totals.Quarantined == 0 && st.Offsite.PendingObjects == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Release the admin API says %+v (%v)", st.Totals, err)
		}
	}
	run(t, ctx, "open Overview", chromedp.Click(`a[data-page="overview"]`), chromedp.WaitVisible("#overview"))
	waitText(t, ctx, "#ov-uploaded", "2 objects")

	// Phone size.
	screenshot(t, ctx, shots, "phone-overview", 390, 844)
	run(t, ctx, "open Uploads on the phone", chromedp.Click(`a[data-page="uploads"]`), chromedp.WaitVisible("#uploads"))
	screenshot(t, ctx, shots, "phone-uploads", 390, 844)
	var overflow bool
	run(t, ctx, "measure", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow))
	if overflow {
		t.Error("the Uploads page scrolls sideways on a 390 px wide phone")
	}

	run(t, ctx, "sign out", chromedp.Click("#logout"), chromedp.WaitVisible("#login-form"))
}

// flipBlobByte flips one byte in the middle of the blob that holds body (an
// object above s3.inline_max, stored as a blob of its own); twice restores it.
func flipBlobByte(t *testing.T, dataDir string, body []byte) {
	t.Helper()
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	path := filepath.Join(dataDir, "store", "blobs", h[:2], h[2:4], h)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the blob of a %d-byte body: %v", len(body), err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(path, b, 0o444); err != nil {
		t.Fatal(err)
	}
}
