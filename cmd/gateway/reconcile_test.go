package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

// remoteEnv points the daemon at bucket on a versitygw, through endpoint.
func remoteEnv(g *testutil.VersityGW, endpoint, bucket string) []string {
	return append(append([]string(nil), adminTestEnv...), "IPAS_REMOTE_ENDPOINT="+endpoint, "IPAS_REMOTE_BUCKET="+bucket,
		"IPAS_REMOTE_REGION=us-east-1", "IPAS_REMOTE_ACCESS_KEY="+g.AccessKey, "IPAS_REMOTE_SECRET_KEY="+g.SecretKey)
}

// reconcileConfig writes a config: path-style remote, 6 MB multipart threshold.
func reconcileConfig(t *testing.T, extra string) string {
	path := filepath.Join(t.TempDir(), "ipas.yaml")
	body := "remote: {path_style: true}\nreplication: {multipart_threshold: 6000000" + extra + "}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// remoteSums lists bucket on the remote and returns the SHA-256 of each
// object's bytes, by remote key.
func remoteSums(t *testing.T, c *s3.Client, bucket string) map[string][32]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), adminWait)
	defer cancel()
	out := map[string][32]byte{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToString(o.Key)] = sha256.Sum256(b)
		}
	}
	return out
}

// waitRemoteHolds waits until the remote bucket holds every object of want
// ("bucket/key" -> bytes), byte-identical.
func waitRemoteHolds(t *testing.T, c *s3.Client, bucket string, want map[string][]byte) {
	t.Helper()
	var missing []string
	for deadline := time.Now().Add(2 * adminWait); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		got := remoteSums(t, c, bucket)
		missing = missing[:0]
		for name, body := range want {
			if got[name] != sha256.Sum256(body) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			return
		}
	}
	t.Fatalf("%d of %d objects never reached the remote bucket %s byte-identical, e.g. %v", len(missing), len(want), bucket, missing[:min(5, len(missing))])
}

func idle(st admin.Status) bool { return st.Journal.Jobs == 0 && st.Totals.QueueJobs == 0 }

// TestServe_RemoteSwitchUploadsEverything is the scenario of issue 11: a data
// directory that replicated to the built-in local copy is pointed at a real
// remote (versitygw A), then at another one (B). After each restart the whole
// archive reaches the new remote, byte-identical, with no action from the
// user; a restart with the same remote lists nothing again.
func TestServe_RemoteSwitchUploadsEverything(t *testing.T) {
	ga := testutil.StartVersityGW(t, "offsite-a")
	gb := testutil.StartVersityGW(t, "offsite-b")
	cfg := reconcileConfig(t, "")
	dataDir := filepath.Join(t.TempDir(), "data")
	args := []string{"--config", cfg, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0"}

	p := startServe(t, adminTestEnv, args...)
	local := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	want := map[string][]byte{}
	// "docs-old/..." sorts before "docs/..." on the remote, after it in the index.
	for _, b := range []string{"docs", "docs-old"} {
		if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		key := fmt.Sprintf("docs/%c/%02d.txt", "ax-"[i%3], i)
		want[key] = bytes.Repeat([]byte(fmt.Sprintf("object %d ", i)), 100+i)
	}
	want["docs-old/x-y/1"] = []byte("an old document")
	want["docs/video.mp4"] = bytes.Repeat([]byte("frame-0123456789"), 450_000) // 7.2 MB: multipart to a remote
	for name, body := range want {
		b, k, _ := strings.Cut(name, "/")
		putObject(t, local, b, k, body)
	}
	waitStatus(t, adminClient(p.endpoint), "the local copy holding everything", idle)
	stopGateway(t, p)

	for i, g := range []*testutil.VersityGW{ga, gb} {
		bucket := []string{"offsite-a", "offsite-b"}[i]
		p = startServe(t, remoteEnv(g, g.Endpoint, bucket), args...)
		st := waitStatus(t, adminClient(p.endpoint), "a start-up reconcile", func(st admin.Status) bool {
			return st.Reconcile != nil && st.Reconcile.Last != nil && st.Reconcile.Last.Trigger == "startup" && idle(st)
		})
		last := st.Reconcile.Last
		if last.Error != "" || last.Checked != int64(len(want)) || last.Missing != int64(len(want)) || last.Queued != int64(len(want)) {
			t.Fatalf("remote %s: start-up reconcile %+v, want all %d objects missing and queued", bucket, last, len(want))
		}
		if !strings.Contains(last.Reason, "changed") && !strings.Contains(last.Reason, "no remote recorded") {
			t.Fatalf("remote %s: reconcile reason %q does not say the remote changed", bucket, last.Reason)
		}
		waitRemoteHolds(t, s3Client(g.Endpoint, g.AccessKey, g.SecretKey), bucket, want)
		stopGateway(t, p)
	}

	// The same remote again: nothing to prove at start-up.
	p = startServe(t, remoteEnv(gb, gb.Endpoint, "offsite-b"), args...)
	time.Sleep(time.Second)
	st := cliStatus(t, adminTestEnv, p.endpoint)
	if st.Reconcile == nil || st.Reconcile.Running != nil || st.Reconcile.Last == nil || st.Reconcile.Last.Reason == "" ||
		!strings.Contains(st.Reconcile.Last.Reason, "offsite-b") {
		t.Fatalf("a restart with the same remote: reconcile %+v, want only the last pass, the one that moved to offsite-b", st.Reconcile)
	}
	stopGateway(t, p)
}

// requestCounter is a reverse proxy in front of the remote that counts what
// the daemon asks it, by kind: LIST, HEAD, GET (object bytes), and others by
// method.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
	url    string
}

func startRequestCounter(t *testing.T, upstream string) *requestCounter {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rc := &requestCounter{counts: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(u) // keeps the Host header: signatures stay valid
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodGet && q.Has("list-type"):
			kind = "LIST"
		case r.Method == http.MethodGet && q.Has("uploads"):
			kind = "LIST-UPLOADS"
		}
		rc.mu.Lock()
		rc.counts[kind]++
		rc.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

func (rc *requestCounter) take() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c := rc.counts
	rc.counts = map[string]int{}
	return c
}

// TestRemoteReconcile_RepairsTheRemote: an object deleted on the remote and
// another one changed there behind IPAS's back are found by `gateway remote
// reconcile` and uploaded again (byte-identical afterwards); objects only the
// remote holds are reported, not touched. The pass sends LIST requests only:
// one per 1,000 objects of each bucket plus one per remote bucket, never a
// HEAD or a GET of object bytes.
func TestRemoteReconcile_RepairsTheRemote(t *testing.T) {
	g := testutil.StartVersityGW(t, "offsite")
	counter := startRequestCounter(t, g.Endpoint)
	env := remoteEnv(g, counter.url, "offsite")
	p := startServe(t, env, "--config", reconcileConfig(t, ""), "--data-dir", filepath.Join(t.TempDir(), "data"), "--s3-addr", "127.0.0.1:0")
	local := s3Client(p.endpoint, adminTestKey, adminTestSecret)
	direct := s3Client(g.Endpoint, g.AccessKey, g.SecretKey)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, b := range []string{"docs", "photos"} {
		if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	const photos = 1500
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				putObject(t, local, "photos", fmt.Sprintf("img-%05d.jpg", i), []byte(fmt.Sprintf("photo number %d", i)))
			}
		}()
	}
	for i := range photos {
		work <- i
	}
	close(work)
	wg.Wait()
	docs := map[string][]byte{
		"docs/deleted-remotely.txt": bytes.Repeat([]byte("keep me "), 200),
		"docs/changed-remotely.txt": bytes.Repeat([]byte("the real content "), 100),
		"docs/untouched.txt":        []byte("fine"),
	}
	for name, body := range docs {
		putObject(t, local, "docs", strings.TrimPrefix(name, "docs/"), body)
	}
	waitStatus(t, adminClient(p.endpoint), "every object replicated", idle)

	// Behind IPAS's back: one object deleted, one overwritten with bytes of the
	// same size, two written that the archive never had.
	put := func(key string, body []byte) {
		if _, err := direct.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("offsite"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := direct.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("offsite"), Key: aws.String("docs/deleted-remotely.txt")}); err != nil {
		t.Fatal(err)
	}
	put("docs/changed-remotely.txt", bytes.Repeat([]byte("a fake content!! "), 100))
	put("docs/stranger.txt", []byte("not from IPAS"))
	put("old-bucket/kept.txt", []byte("deleted locally long ago"))

	cliOK(t, env, "replication", "pause", "--endpoint", p.endpoint) // count the reconcile's requests alone
	counter.take()
	out := cliOK(t, env, "remote", "reconcile", "--json", "--endpoint", p.endpoint)
	sent := counter.take()
	var run admin.ReconcileRun
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatalf("remote reconcile --json: %v\n%s", err, out)
	}
	if run.Error != "" || run.Trigger != "request" || run.Checked != photos+3 || run.Missing != 1 || run.Different != 1 ||
		run.Queued != 2 || run.RemoteOnly != 2 {
		t.Fatalf("reconcile found %+v; want %d checked, 1 missing, 1 different, 2 queued, 2 remote-only", run, photos+3)
	}
	if s := strings.Join(run.QueuedSample, ","); !strings.Contains(s, "docs/deleted-remotely.txt") || !strings.Contains(s, "docs/changed-remotely.txt") {
		t.Fatalf("queued %v, want the two damaged objects", run.QueuedSample)
	}
	if s := strings.Join(run.RemoteOnlySample, ","); s != "docs/stranger.txt,old-bucket/kept.txt" {
		t.Fatalf("remote-only sample %q", s)
	}
	// photos: 2 pages; docs: 1; then one request per remote bucket (docs,
	// old-bucket, photos) and one that finds no more, and old-bucket's page.
	if sent["LIST"] != int(run.ListRequests) || run.ListRequests != 8 || sent["HEAD"] != 0 || sent["GET"] != 0 {
		t.Fatalf("the remote saw %v for a reconcile that reports %d LIST requests; want 8 LIST, no HEAD, no GET", sent, run.ListRequests)
	}

	cliOK(t, env, "replication", "resume", "--endpoint", p.endpoint)
	waitRemoteHolds(t, direct, "offsite", docs)
	waitStatus(t, adminClient(p.endpoint), "the repairs replicated", idle)
	again := cliOK(t, env, "remote", "reconcile", "--endpoint", p.endpoint)
	for _, re := range []string{`missing +0 `, `different +0 `, `queued +0 uploads`, `remote-only +2 .*docs/stranger.txt, old-bucket/kept.txt`} {
		if !regexp.MustCompile(re).MatchString(again) {
			t.Fatalf("second reconcile does not say %q:\n%s", re, again)
		}
	}
	status := cliOK(t, env, "status", "--endpoint", p.endpoint)
	if !strings.Contains(status, "Reconcile") || !strings.Contains(status, "0 missing, 0 different, 0 queued, 2 remote-only") {
		t.Fatalf("gateway status does not show the last reconcile:\n%s", status)
	}
	stopGateway(t, p)
}
