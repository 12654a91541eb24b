package replication_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
)

// BenchmarkReplicateSmallObjects drains a backlog of small objects (1-64
// KiB, IPAS_BENCH_OBJECTS of them, 3,000 by default) from the real raft
// journal to versitygw on loopback. It reports objects/s and the CPU this
// process (journal, store and replicator; versitygw is a child) spends per
// replicated object. IPAS_BENCH_SMALL_OBJECTS sets Config.SmallObjects. Run
// it with -benchtime 1x.
func BenchmarkReplicateSmallObjects(b *testing.B) {
	n := 3000
	if s := os.Getenv("IPAS_BENCH_OBJECTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		n = v
	}
	gw := testutil.StartVersityGW(b, remoteBucket)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newEnvWith(b, gw, b.TempDir())
		node := openQueue(b, filepath.Join(e.dir, "raft"))
		if err := node.CreateBucket(ctxT(b), "photos", time.Time{}); err != nil {
			b.Fatal(err)
		}
		objs := make([]queue.Object, n)
		for k := range objs {
			data := randomBytes(1<<10+k*997%(63<<10), uint64(k+1))
			blob, err := e.store.Put(ctxT(b), bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			objs[k] = queue.Object{Bucket: "photos", Key: fmt.Sprintf("round%d/img%05d.jpg", i, k),
				VersionID: queue.NewVersionID(time.Now()), Blob: blob.Digest.String(), SHA256: blob.Digest.String(),
				Size: blob.Size, ContentType: "image/jpeg"}
		}
		for _, err := range node.PutObjects(ctxT(b), objs) {
			if err != nil {
				b.Fatal(err)
			}
		}
		cfg := testConfig()
		cfg.MultipartThreshold = replication.DefaultConfig().MultipartThreshold
		if s := os.Getenv("IPAS_BENCH_SMALL_OBJECTS"); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				b.Fatal(err)
			}
			cfg.SmallObjects = v
		}
		j := replication.QueueJournal{Node: node}
		r, err := replication.New(cfg, j, e.store, e.newRemote(gw.Endpoint), nil, testLogger(b))
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := processCPU(b)
		start := time.Now()
		b.StartTimer()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, j) }()
		waitFor(b, "backlog drained", func() bool {
			js, err := node.Jobs(0, 1)
			return err == nil && len(js) == 0
		})
		b.StopTimer()
		elapsed, cpu := time.Since(start), processCPU(b)-cpu0
		cancel()
		wg.Wait()
		if got := r.Status().ReplicatedObjects; got != int64(n) {
			b.Fatalf("replicated %d objects, want %d", got, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "objects/s")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/object")
		b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "cores")
		if err := node.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
