// Command consolebench measures what the web console costs the daemon with
// a large archive: the overview's first paint with data in real chromium, a
// status read, the CPU an open idle console adds, and the daemon's peak RSS,
// side by side for archives of different sizes. The archive is built
// directly through the journal (restored, replicated objects that share one
// blob), so a million objects take seconds, not a million PUTs.
//
//	go run ./bench/consolebench -objects 1000,1000000 -rounds 3
package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/bench/internal/benchkit"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

const (
	accessKey = "CONSOLEBENCHKEY"
	secretKey = "console-bench-secret"
	chromium  = "/usr/bin/chromium"
	// batch is the objects of one journal call while populating.
	batch = 2000
)

// result is one archive size's row.
type result struct {
	objects   int
	populate  time.Duration
	statusMs  float64 // median GET /api/v1/status
	paintMs   float64 // median navigation to the overview showing the archive
	idleBase  float64 // % of one core, daemon alone
	idleOpen  float64 // % of one core, overview open and live
	peakRSS   int64   // KiB, VmHWM at the end
	peakAnon  int64   // KiB, the highest RssAnon sampled (heap, stacks: not the mmapped journal)
	quietAt   time.Duration
	statusLen int // bytes of the status document
}

func main() {
	sizes := flag.String("objects", "1000,1000000", "archive sizes to compare, comma-separated")
	rounds := flag.Int("rounds", 3, "page loads (and status reads x10) per size; medians are reported")
	idle := flag.Duration("idle", 20*time.Second, "how long each idle CPU measurement lasts")
	dir := flag.String("dir", "", "work directory (default: a temporary one, removed at the end)")
	flag.Parse()
	if err := run(*sizes, *rounds, *idle, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "consolebench:", err)
		os.Exit(1)
	}
}

func run(sizes string, rounds int, idle time.Duration, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "consolebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	bin, err := benchkit.BuildGateway(ctx, dir)
	if err != nil {
		return err
	}
	var results []result
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-objects: %q is not a count", s)
		}
		r, err := measure(ctx, bin, filepath.Join(dir, "n"+strconv.Itoa(n)), n, rounds, idle)
		if err != nil {
			return fmt.Errorf("%d objects: %w", n, err)
		}
		results = append(results, r)
	}
	fmt.Printf("\n| objects | populate | quiet after start | status GET (median) | overview with data (median of %d) | idle CPU, daemon alone | idle CPU, console open | peak RSS (VmHWM) | peak anonymous RSS | status document |\n", rounds)
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %d | %.1f s | %.0f s | %.1f ms | %.0f ms | %.2f%% | %.2f%% | %.1f MiB | %.1f MiB | %d B |\n", r.objects, r.populate.Seconds(),
			r.quietAt.Seconds(), r.statusMs, r.paintMs, r.idleBase, r.idleOpen, float64(r.peakRSS)/1024, float64(r.peakAnon)/1024, r.statusLen)
	}
	return nil
}

func measure(ctx context.Context, bin, dir string, n, rounds int, idle time.Duration) (result, error) {
	r := result{objects: n}
	data := filepath.Join(dir, "data")
	start := time.Now()
	if err := populate(ctx, data, n); err != nil {
		return r, err
	}
	r.populate = time.Since(start)
	cfg := filepath.Join(dir, "ipas.yaml")
	// No scheduled passes: the measurement is of the console, not of a scrub.
	if err := os.WriteFile(cfg, []byte("store: {scrub_interval: 0s}\nreplication: {reconcile_interval: 0s}\n"), 0o600); err != nil {
		return r, err
	}
	logf, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	g, err := benchkit.StartServe(ctx, bin, []string{"--config", cfg, "--data-dir", data, "--s3-addr", "127.0.0.1:0"},
		[]string{"IPAS_ACCESS_KEY=" + accessKey, "IPAS_SECRET_KEY=" + secretKey, "IPAS_CONSOLE_ADDR=127.0.0.1:0", "IPAS_METRICS_ADDR=127.0.0.1:0"}, logf)
	if err != nil {
		return r, err
	}
	defer g.Stop()
	anon := benchkit.WatchPeak(g.Pid(), "RssAnon:")
	api := &admin.Client{Endpoint: g.Endpoint, Region: "us-east-1", AccessKey: accessKey, SecretKey: secretKey}
	st, err := api.Status(ctx)
	if err != nil {
		return r, err
	}
	if st.Journal.Objects != int64(n) || st.Offsite.PendingObjects != 0 || st.Reconcile.Running != nil {
		return r, fmt.Errorf("the daemon does not see a quiet archive of %d objects: %+v %+v", n, st.Journal, st.Offsite)
	}
	// Start-up work (the store's first collection reads the whole index)
	// is over before anything is measured.
	t0 := time.Now()
	for time.Since(t0) < 3*time.Minute {
		if cpuPercent(g.Pid(), 2*time.Second) < 1 {
			break
		}
	}
	r.quietAt = time.Since(t0)
	r.idleBase = cpuPercent(g.Pid(), idle)

	hc, err := signIn(g.Console)
	if err != nil {
		return r, err
	}
	var lat []float64
	for range 10 * rounds {
		t0 := time.Now()
		resp, err := hc.Get(g.Console + "/api/v1/status")
		if err != nil {
			return r, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		r.statusLen = len(body)
	}
	r.statusMs = benchkit.Median(lat)

	bctx, stop, err := browser()
	if err != nil {
		return r, err
	}
	defer stop()
	if err := chromedp.Run(bctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(g.Console), chromedp.WaitVisible("#login-form"),
		chromedp.SendKeys("#access-key", accessKey), chromedp.SendKeys("#secret", secretKey),
		chromedp.Click(`#login-form button[type="submit"]`), chromedp.WaitVisible("#overview")); err != nil {
		return r, fmt.Errorf("sign in: %w", err)
	}
	// From the navigation's start to the overview showing the archive's
	// count, which arrives with the first status event.
	const painted = `new Promise((ok) => { const done = () => { const t = document.querySelector("#ov-archive").textContent;
		if (t.includes("object")) { ok(performance.now()); return true; } return false; };
		if (!done()) new MutationObserver((_, o) => { if (done()) o.disconnect(); }).observe(document.body, {subtree: true, childList: true, characterData: true}); })`
	var paints []float64
	for range rounds {
		var ms float64
		// A new document each time (not a fragment change of the same one).
		if err := chromedp.Run(bctx, chromedp.Navigate("about:blank"), chromedp.Navigate(g.Console+"/"),
			chromedp.Evaluate(painted, &ms, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })); err != nil {
			return r, fmt.Errorf("overview: %w", err)
		}
		paints = append(paints, ms)
	}
	r.paintMs = benchkit.Median(paints)
	time.Sleep(2 * time.Second)
	r.idleOpen = cpuPercent(g.Pid(), idle)
	if r.peakRSS, err = benchkit.PeakRSSKiB(strconv.Itoa(g.Pid())); err != nil {
		return r, err
	}
	r.peakAnon = anon()
	fmt.Fprintf(os.Stderr, "%d objects: status %v ms, paints %v ms\n", n, lat, paints)
	return r, nil
}

// populate builds a data directory of n replicated objects in one bucket,
// 1,000 per folder, through the journal; they share one small blob.
func populate(ctx context.Context, dir string, n int) error {
	st := store.New(filepath.Join(dir, "store"), zerolog.Nop())
	if err := st.Open(ctx); err != nil {
		return err
	}
	defer st.Close(ctx)
	content := []byte("a small file of the bench archive\n")
	blob, err := st.Put(ctx, bytes.NewReader(content))
	if err != nil {
		return err
	}
	node := queue.New(queue.DefaultConfig(filepath.Join(dir, "journal")), zerolog.Nop())
	if err := node.Open(ctx); err != nil {
		return err
	}
	defer node.Close(ctx)
	if err := node.WaitLeader(ctx); err != nil {
		return err
	}
	// The daemon's name for its built-in local copy: unchanged, so no
	// reconcile at start-up.
	if err := node.SetRemote(ctx, queue.RemoteIdentity{Endpoint: "local copy (DATA_DIR/local-remote)", Bucket: "ipas-replica"}); err != nil {
		return err
	}
	if err := node.CreateBucket(ctx, "bench", time.Now()); err != nil {
		return err
	}
	sum := md5.Sum(content)
	etag := hex.EncodeToString(sum[:])
	now := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := w * batch; first < n; first += 4 * batch {
				objs := make([]queue.Object, 0, batch)
				for i := first; i < min(n, first+batch); i++ {
					objs = append(objs, queue.Object{Bucket: "bench", Key: fmt.Sprintf("folder%04d/file%07d.txt", i/1000, i),
						VersionID: fmt.Sprintf("bench%010d", i), Blob: blob.Digest.String(), Size: int64(len(content)),
						ETag: etag, SHA256: blob.Digest.String(), ModTime: now, ContentType: "text/plain",
						Replica: queue.Replica{ETag: etag, Size: int64(len(content)), At: now}})
				}
				for _, err := range node.PutRestoredObjects(ctx, objs) {
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// signIn returns an HTTP client holding a console session.
func signIn(console string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	body, _ := json.Marshal(map[string]string{"access_key": accessKey, "secret": secretKey})
	resp, err := hc.Post(console+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("console sign-in: HTTP %d", resp.StatusCode)
	}
	return hc, nil
}

// browser starts Debian's chromium, headless.
func browser() (context.Context, func(), error) {
	if _, err := os.Stat(chromium); err != nil {
		return nil, nil, fmt.Errorf("%s is missing: apt-get install -y chromium", chromium)
	}
	profile, err := os.MkdirTemp("", "consolebench-chromium-")
	if err != nil {
		return nil, nil, err
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(profile))
	ctx, cancel := chromedp.NewContext(actx)
	return ctx, func() { cancel(); cancelAlloc(); os.RemoveAll(profile) }, nil
}

// cpuPercent is the process's CPU over d, in % of one core.
func cpuPercent(pid int, d time.Duration) float64 {
	before, t0 := cpuTicks(pid), time.Now()
	time.Sleep(d)
	return 100 * float64(cpuTicks(pid)-before) / 100 / time.Since(t0).Seconds()
}

// cpuTicks is user+system time in clock ticks (1/100 s) from /proc/PID/stat.
func cpuTicks(pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}
