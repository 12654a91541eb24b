package replication_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/replication/remote"
	"github.com/ipas/ipas/store"
	"github.com/rs/zerolog"
)

// testTimeout bounds every wait in a test.
const testTimeout = 90 * time.Second

const remoteBucket = "replica"

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(testLogLevel)
}

// testConfig shortens every timer so faults resolve in seconds.
func testConfig() replication.Config {
	c := replication.DefaultConfig()
	c.PartSize = replication.MinPartSize
	c.MultipartThreshold = replication.MinPartSize + 1
	c.BackoffMin = 50 * time.Millisecond
	c.BackoffMax = 500 * time.Millisecond
	c.ProbeInterval = 200 * time.Millisecond
	c.StallTimeout = 2 * time.Second
	c.PollInterval = 50 * time.Millisecond
	c.OrphanMinAge = 0
	return c
}

// env is one local archive (store + journal) replicating to versitygw.
type env struct {
	t       testing.TB
	gw      *testutil.VersityGW
	store   *store.Store
	journal *fileJournal
	dir     string
	direct  *s3.Client // straight to versitygw, for assertions
}

func newEnv(t testing.TB) *env {
	t.Helper()
	gw := testutil.StartVersityGW(t, remoteBucket)
	return newEnvWith(t, gw, t.TempDir())
}

func newEnvWith(t testing.TB, gw *testutil.VersityGW, dir string) *env {
	t.Helper()
	st := store.New(filepath.Join(dir, "store"), testLogger(t))
	if err := st.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	j, err := openFileJournal(filepath.Join(dir, "journal.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !durableJournal(t) {
		j.path = ""
	}
	direct := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(gw.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(gw.AccessKey, gw.SecretKey, ""),
	})
	return &env{t: t, gw: gw, store: st, journal: j, dir: dir, direct: direct}
}

// closeStore releases the store (its directory lock) for a child process.
func (e *env) closeStore() {
	e.t.Helper()
	if err := e.store.Close(ctxT(e.t)); err != nil {
		e.t.Fatal(err)
	}
}

// reopen opens the store and reloads the journal from disk, as a restarted
// process would.
func (e *env) reopen() {
	e.t.Helper()
	st := store.New(filepath.Join(e.dir, "store"), testLogger(e.t))
	if err := st.Open(ctxT(e.t)); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close(context.Background()) })
	j, err := openFileJournal(filepath.Join(e.dir, "journal.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.store, e.journal = st, j
}

// remoteConfig points at endpoint (versitygw itself or a proxy in front).
func (e *env) remoteConfig(endpoint string) remote.Config {
	c := remote.DefaultConfig()
	c.Endpoint, c.Bucket, c.Prefix, c.PathStyle = endpoint, remoteBucket, "pi1", true
	c.AccessKey, c.SecretKey = e.gw.AccessKey, e.gw.SecretKey
	return c
}

func (e *env) newRemote(endpoint string, opts ...remote.Option) *remote.Client {
	e.t.Helper()
	opts = append([]remote.Option{remote.WithResponseTimeout(3 * time.Second)}, opts...)
	c, err := remote.New(ctxT(e.t), e.remoteConfig(endpoint), testLogger(e.t), opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// put stores data locally and journals its replication job.
func (e *env) put(bucket, key string, data []byte) replication.Job {
	e.t.Helper()
	b, err := e.store.Put(ctxT(e.t), bytes.NewReader(data))
	if err != nil {
		e.t.Fatal(err)
	}
	j := replication.Job{
		ID: queue.NewVersionID(time.Now()), Op: replication.OpPut, Bucket: bucket, Key: key,
		Size:   int64(len(data)),
		Pieces: []replication.Piece{{Blob: b.Digest.String(), Size: b.Size}},
		Meta: replication.ObjectMeta{
			SHA256: b.Digest.String(), ModTime: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			ContentType: "application/x-test", User: map[string]string{"owner": "alice"},
		},
	}
	e.journal.add(j)
	return j
}

// start runs a Replicator until the test ends or stop is called.
func (e *env) start(cfg replication.Config, rem replication.Remote, bw *replication.Bandwidth) (*replication.Replicator, func()) {
	e.t.Helper()
	r, err := replication.New(cfg, e.journal, e.store, rem, bw, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.RunTerm(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	e.t.Cleanup(stop)
	return r, stop
}

// remoteSHA256 downloads prefix/bucket/key from versitygw and hashes it.
func (e *env) remoteSHA256(bucket, key string) (string, *s3.GetObjectOutput) {
	e.t.Helper()
	out, err := e.direct.GetObject(ctxT(e.t), &s3.GetObjectInput{Bucket: aws.String(remoteBucket), Key: aws.String("pi1/" + bucket + "/" + key)})
	if err != nil {
		e.t.Fatalf("get remote %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, out.Body); err != nil {
		e.t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), out
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	return b
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func mib(n float64) string { return fmt.Sprintf("%.1f MiB", n/(1<<20)) }

// durableJournal says whether a test needs its journal on disk (a child
// process reads it); the others keep it in memory, which is faster.
func durableJournal(t testing.TB) bool { return strings.HasPrefix(t.Name(), "TestResume") }

// testLogLevel is raised to Debug when chasing a failure.
var testLogLevel = zerolog.WarnLevel
