package replication_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
)

// TestConnectionResetsAndBlackHole: the link resets every connection now
// and then and black-holes everything for a while (the 30 s,
// scaled); the upload completes with no manual action, and only the
// interrupted parts are sent again.
func TestConnectionResetsAndBlackHole(t *testing.T) {
	gw := testutil.StartVersityGW(t, remoteBucket)
	px := testutil.StartProxy(t, gw.Addr)
	e := newEnvWith(t, gw, t.TempDir())
	size := 60<<20 + 99
	data := randomBytes(size, 3)
	e.put("videos", "trip.mp4", data)
	cfg := testConfig()
	cfg.Parts = 2 // each part takes about a second, less than the time between resets
	e.start(cfg, e.newRemote(px.Endpoint()), replication.NewBandwidth(10<<20, nil))

	var faults atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2500 * time.Millisecond):
			}
			if i == 1 {
				px.AddToxic(t, "blackhole", "timeout", "upstream", map[string]any{"timeout": 0})
				time.Sleep(3 * time.Second)
				px.RemoveToxic(t, "blackhole")
			} else {
				px.AddToxic(t, "reset", "reset_peer", "upstream", map[string]any{"timeout": 0})
				time.Sleep(100 * time.Millisecond)
				px.RemoveToxic(t, "reset")
			}
			faults.Add(1)
		}
	}()
	waitFor(t, "upload completed through the faults", func() bool { return e.journal.pending() == 0 })
	close(stop)
	wg.Wait()

	sent := px.UpstreamBytes()
	// Each fault interrupts at most the parts in flight.
	bound := int64(size) + faults.Load()*int64(cfg.Parts)*cfg.PartSize + requestOverhead
	t.Logf("object %s, %d faults, sent %s, bound %s", mib(float64(size)), faults.Load(), mib(float64(sent)), mib(float64(bound)))
	if sent > bound {
		t.Errorf("sent %d bytes for a %d-byte object through %d faults: more than the interrupted parts were resent", sent, size, faults.Load())
	}
	if got := firstOf(e.remoteSHA256("videos", "trip.mp4")); got != sha256Hex(data) {
		t.Errorf("remote sha256 %s, want %s", got, sha256Hex(data))
	}
}

// TestServerErrors: the remote answers some requests with 500
// InternalError and 503 SlowDown; replication completes.
func TestServerErrors(t *testing.T) {
	e := newEnv(t)
	up, _ := url.Parse(e.gw.Endpoint)
	rp := httputil.NewSingleHostReverseProxy(up)
	var n, injected atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 3 {
		case 1:
			injected.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		case 2:
			if strings.Contains(r.URL.RawQuery, "partNumber") || r.Method == http.MethodPut {
				injected.Add(1)
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`)
				return
			}
			rp.ServeHTTP(w, r)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(flaky.Close)
	var want []string
	for i := range 5 {
		d := randomBytes(1000+i, uint64(i))
		e.put("docs", fmt.Sprintf("f%d", i), d)
		want = append(want, sha256Hex(d))
	}
	large := randomBytes(12<<20, 9)
	e.put("docs", "large", large)
	// What the metrics count: each remote error by its code, and the
	// retries it caused.
	var mu sync.Mutex
	codes := map[string]int{}
	var partRetries, attemptsFailed atomic.Int64
	rem := e.newRemote(flaky.URL, remote.WithErrorHook(func(code string) { mu.Lock(); codes[code]++; mu.Unlock() }))
	r, err := replication.New(testConfig(), e.journal, e.store, rem, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	r.SetEvents(replication.Events{PartRetry: func() { partRetries.Add(1) }, AttemptFailed: func() { attemptsFailed.Add(1) }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.RunTerm(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, "replication through 500 and 503 errors", func() bool { return e.journal.pending() == 0 })
	for i, w := range want {
		if got := firstOf(e.remoteSHA256("docs", fmt.Sprintf("f%d", i))); got != w {
			t.Errorf("f%d: remote sha256 %s, want %s", i, got, w)
		}
	}
	if got := firstOf(e.remoteSHA256("docs", "large")); got != sha256Hex(large) {
		t.Errorf("large: remote sha256 %s, want %s", got, sha256Hex(large))
	}
	if injected.Load() == 0 {
		t.Fatal("no error was injected")
	}
	t.Logf("%d errors injected in %d requests", injected.Load(), n.Load())
	mu.Lock()
	defer mu.Unlock()
	t.Logf("errors seen by code %v, %d part retries, %d failed attempts", codes, partRetries.Load(), attemptsFailed.Load())
	if codes["SlowDown"] == 0 || codes["InternalError"] == 0 {
		t.Errorf("errors by code %v: want both SlowDown and InternalError counted", codes)
	}
	if codes["SlowDown"]+codes["InternalError"] > int(injected.Load()) {
		t.Errorf("errors by code %v: more than the %d injected", codes, injected.Load())
	}
	if partRetries.Load()+attemptsFailed.Load() == 0 {
		t.Error("no retry was reported")
	}
}

// TestPausesOnRefusal: with the remote bucket missing, and then with
// revoked credentials, replication pauses with the remote's error, keeps
// the job, and resumes by itself once the cause is fixed.
func TestPausesOnRefusal(t *testing.T) {
	e := newEnv(t)
	creds := &switchCreds{}
	// A revoked key pair: the SDK caches signing keys by access key ID, so
	// the revoked pair must differ in its ID, as real key pairs do.
	creds.set("revokedkey", "revoked-secret")
	data := []byte("important document")
	e.put("docs", "tax.pdf", data)
	r, _ := e.start(testConfig(), e.newRemote(e.gw.Endpoint, remoteWithCreds(creds)), nil)

	waitFor(t, "paused on bad credentials", func() bool { return r.Status().Paused })
	st := r.Status()
	if st.State != "paused" || !strings.Contains(st.PauseReason, "access key") {
		t.Errorf("status %q, reason %q: want paused with the remote's error", st.State, st.PauseReason)
	}
	if e.journal.pending() != 1 {
		t.Fatalf("job lost while paused")
	}
	// Fix the credentials but lose the bucket: still paused, now for NoSuchBucket.
	renameBucket(t, e, remoteBucket, "gone")
	creds.set(e.gw.AccessKey, e.gw.SecretKey)
	waitFor(t, "paused on the missing bucket", func() bool { return strings.Contains(r.Status().PauseReason, "NoSuchBucket") })
	if e.journal.pending() != 1 {
		t.Fatalf("job lost while paused")
	}
	renameBucket(t, e, "gone", remoteBucket)
	waitFor(t, "resumed and replicated", func() bool { return e.journal.pending() == 0 })
	if got := firstOf(e.remoteSHA256("docs", "tax.pdf")); got != sha256Hex(data) {
		t.Errorf("remote sha256 %s, want %s", got, sha256Hex(data))
	}
	if st := r.Status(); st.Paused {
		t.Errorf("still paused after the fix: %s", st.PauseReason)
	}
}

// switchCreds is a credentials provider whose keys the test can revoke and restore.
type switchCreds struct {
	mu  sync.Mutex
	key string
	sec string
}

func (s *switchCreds) set(k, v string) { s.mu.Lock(); s.key, s.sec = k, v; s.mu.Unlock() }

// Retrieve returns keys that expire at once, so that the SDK's cache asks again.
func (s *switchCreds) Retrieve(context.Context) (aws.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.sec, Source: "test",
		CanExpire: true, Expires: time.Now()}, nil
}

func remoteWithCreds(c *switchCreds) remote.Option { return remote.WithCredentials(c) }

func renameBucket(t *testing.T, e *env, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(e.gw.Dir, from), filepath.Join(e.gw.Dir, to)); err != nil {
		t.Fatal(err)
	}
}
