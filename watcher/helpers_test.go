package watcher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

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

// archive is a real journal and store in one data directory, as the daemon has.
type archive struct {
	dir   string
	node  *queue.Node
	store *store.Store
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
	a := &archive{dir: dir, node: node, store: st}
	t.Cleanup(func() { a.close() })
	return a
}

func (a *archive) close() {
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

// readBack returns the current content of bucket/key, read back from the archive.
// It is the one place tests read objects; once the S3 gateway exists, an S3 GET
// can replace it.
func readBack(a *archive, bucket, key string) ([]byte, queue.Object, error) {
	o, err := a.node.Object(bucket, key)
	if err != nil {
		return nil, o, err
	}
	d, err := store.ParseDigest(o.Blob)
	if err != nil {
		return nil, o, err
	}
	rc, err := a.store.OpenBlob(context.Background(), d, o.Size, 0, -1)
	if err != nil {
		return nil, o, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return b, o, err
}

// eventually polls cond until it returns "" or the deadline passes.
func eventually(t testing.TB, what string, cond func() string) {
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
		time.Sleep(20 * time.Millisecond)
	}
}

// archived reports "" when bucket/key reads back as want.
func archived(a *archive, bucket, key string, want []byte) string {
	got, o, err := readBack(a, bucket, key)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(got, want) {
		return fmt.Sprintf("%s/%s: %d bytes read back, want %d (sha256 %x)", bucket, key, len(got), len(want), sha256.Sum256(want))
	}
	if o.SHA256 != fmt.Sprintf("%x", sha256.Sum256(want)) {
		return fmt.Sprintf("%s/%s: index sha256 %s", bucket, key, o.SHA256)
	}
	return ""
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

// listAll returns every key of bucket.
func listAll(t testing.TB, a *archive, bucket string) map[string]queue.Object {
	t.Helper()
	out := map[string]queue.Object{}
	after := ""
	for {
		objs, more, err := a.node.ListObjects(bucket, "", after, 1000)
		if errors.Is(err, queue.ErrNoSuchBucket) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			out[o.Key] = o
			after = o.Key
		}
		if !more {
			return out
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
