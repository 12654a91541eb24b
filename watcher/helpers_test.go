package watcher

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// testTimeout bounds every wait in a test.
const testTimeout = 60 * time.Second

// testWindow is the quiet window of most tests: short, but well above the gaps of
// the writers in these tests.
const testWindow = 200 * time.Millisecond

// Interface conformance of the real journal and store.
var (
	_ Index = (*queue.Node)(nil)
	_ Blobs = (*store.Store)(nil)
)

// logBuffer collects log lines for assertions, and forwards warnings to t.Log.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// archive is a real journal and store in one data directory, as the daemon has,
// and the S3 gateway over them that tests read objects back through.
type archive struct {
	t      testing.TB
	dir    string
	node   *queue.Node
	store  *store.Store
	gw     *s3Gateway
	s3     *s3.Client
	closed bool
}

func openArchive(t testing.TB, dir string) *archive {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	st := store.New(filepath.Join(dir, "store"), log)
	if err := st.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	qc := queue.DefaultConfig(filepath.Join(dir, "journal"))
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	node := queue.New(qc, log)
	if err := node.Open(ctxT(t)); err != nil {
		st.Close(context.Background())
		t.Fatal(err)
	}
	a := &archive{t: t, dir: dir, node: node, store: st}
	t.Cleanup(a.close)
	a.gw = startGateway(t, a, log)
	a.s3 = a.gw.client
	return a
}

// close stops the gateway, then closes the journal and the store; calling it twice
// is harmless.
func (a *archive) close() {
	if a.closed {
		return
	}
	a.closed = true
	if a.gw != nil {
		if err := a.gw.close(); err != nil {
			a.t.Errorf("gateway: %v", err)
		}
	}
	a.node.Close(context.Background())
	a.store.Close(context.Background())
}

// running is a started Watcher.
type running struct {
	*Watcher
	logs   *logBuffer
	cancel context.CancelFunc
	done   chan error
}

// startWatcher opens and runs a watcher over a; tune may adjust it before Open.
func startWatcher(t testing.TB, a *archive, cfg Config, tune func(*Watcher)) *running {
	t.Helper()
	logs := &logBuffer{}
	log := zerolog.New(io.MultiWriter(logs, zerolog.ConsoleWriter{Out: testLogWriter{t}, NoColor: true})).Level(zerolog.InfoLevel)
	w := New(cfg.WithDefaults(), a.dir, a.node, a.store, log)
	w.RetryInterval = 200 * time.Millisecond
	w.PollInterval = 300 * time.Millisecond
	if tune != nil {
		tune(w)
	}
	if err := w.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Watcher: w, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

// stop stops Run and closes the watcher; calling it twice is harmless.
func (r *running) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case <-r.done:
	case <-time.After(testTimeout):
		panic("watcher did not stop")
	}
	r.Close(context.Background())
}

// testLogWriter sends log lines to t.Log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// folderCfg is a one-folder configuration with the test quiet window.
func folderCfg(path, bucket string) Config {
	f := DefaultFolder()
	f.Path, f.Bucket, f.QuietWindow = path, bucket, testWindow
	return Config{Folders: []Folder{f}, Workers: 4}
}

// pollInterval is how often eventually checks a condition.
const pollInterval = 20 * time.Millisecond

// eventually polls cond until it returns "" or the deadline passes.
func eventually(t testing.TB, what string, cond func() string) {
	t.Helper()
	eventuallyEvery(t, what, pollInterval, cond)
}

// eventuallyEvery is eventually for a cond that costs enough to slow the watcher
// down when checked too often, such as listing thousands of keys through S3.
func eventuallyEvery(t testing.TB, what string, every time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %s: %s", what, testTimeout, why)
		}
		time.Sleep(every)
	}
}

// versions counts the object versions journaled for bucket/key (one replication
// job each).
func versions(t testing.TB, a *archive, bucket string) map[string]int {
	t.Helper()
	out := map[string]int{}
	var after uint64
	for {
		jobs, err := a.node.Jobs(after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			return out
		}
		for _, j := range jobs {
			if j.Op == queue.JobPut && j.Bucket == bucket {
				out[j.Key]++
			}
			after = j.Seq
		}
	}
}

func writeFile(t testing.TB, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitIdle(t testing.TB, r *running) {
	t.Helper()
	if err := r.WaitIdle(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
