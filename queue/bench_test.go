package queue

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// benchObject is an ObjectPut whose encoded command is about 200 bytes.
func benchObject(i int64) Object {
	key := fmt.Sprintf("photos/2026/11/IMG_%07d.jpg", i)
	o := testObject("bench", key, key)
	o.ContentType = "image/jpeg"
	o.Metadata = map[string]string{"mtime": "1763726400", "source": "camera-roll"}
	return o
}

// benchObjects builds the objects of a run before its timer starts.
func benchObjects(n int) []Object {
	objs := make([]Object, n)
	for i := range objs {
		objs[i] = benchObject(int64(i + 1))
	}
	return objs
}

func benchNode(b *testing.B) *Node {
	b.Helper()
	cfg := testConfig(b.TempDir())
	if v, err := strconv.Atoi(os.Getenv("QUEUE_BENCH_INFLIGHT")); err == nil {
		cfg.MaxInflightEntries = v
	}

	n := New(cfg, zerolog.Nop())
	if err := n.Open(ctxT(b)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close(ctxT(b)) })
	if err := n.CreateBucket(ctxT(b), "bench", time.Time{}); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkPropose measures committed ObjectPuts per second through the
// batching proposer, from 1 and from 64 concurrent writers.
func BenchmarkPropose(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			n := benchNode(b)
			ctx := ctxT(b)
			var seq atomic.Int64
			c := command{Op: opObjectPut, Time: time.Now(), Bucket: "bench", Key: "k", Object: benchObject(0)}
			b.ReportMetric(float64(len(c.encode())), "B/cmd")
			objs := benchObjects(b.N)           // the writers' own work is not the journal's
			b.SetParallelism((writers + 1) / 2) // GOMAXPROCS is 2 here
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := n.PutObject(ctx, objs[seq.Add(1)-1]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
			s, _ := n.Stats()
			b.ReportMetric(float64(b.N)/float64(s.AppliedIndex), "cmds/entry")
		})
	}
}

// BenchmarkPutObjects measures a bulk ingest: PutObjects calls of 2,000
// objects from 4 concurrent callers.
func BenchmarkPutObjects(b *testing.B) {
	const chunk, callers = 2000, 4
	n := benchNode(b)
	ctx := ctxT(b)
	var seq atomic.Int64
	b.SetParallelism(callers / 2)
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		objs := make([]Object, chunk)
		for pb.Next() {
			for i := range objs {
				objs[i] = benchObject(seq.Add(1))
			}
			for _, err := range n.PutObjects(ctx, objs) {
				if err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*chunk)/time.Since(start).Seconds(), "cmds/s")
	s, _ := n.Stats()
	b.ReportMetric(float64(b.N*chunk)/float64(s.AppliedIndex), "cmds/entry")
}

// BenchmarkRawApply is the comparison: one command per raft.Apply, no
// proposer (raft's own group commit still shares fsyncs between writers).
func BenchmarkRawApply(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			n := benchNode(b)
			var seq atomic.Int64
			b.SetParallelism((writers + 1) / 2)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					o := benchObject(seq.Add(1))
					c := command{Op: opObjectPut, Time: time.Now(), Bucket: o.Bucket, Key: o.Key, Object: o}
					f := n.raft.Apply(appendEntry(nil, c.encode()), DefaultApplyTimeout)
					if err := f.Error(); err != nil {
						b.Error(err)
						return
					}
					if errs, ok := f.Response().([]error); !ok || errs[0] != nil {
						b.Errorf("response %v", f.Response())
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
		})
	}
}

// BenchmarkApplyEntry is the state machine alone: 512-command entries, one
// bbolt transaction each (with fsync), no raft.
func BenchmarkApplyEntry(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), fsmFile), 0o600, &bolt.Options{NoSync: os.Getenv("QUEUE_BENCH_NOSYNC") != ""})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Update(initSchema)
	db.Update(func(tx *bolt.Tx) error {
		_, err := applyCommand(tx, &command{Op: opBucketCreate, Time: time.Now(), Bucket: "bench"})
		return err
	})
	const perEntry = 512
	var i int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer() // encoding is the proposer's cost, not the state machine's
		var entry []byte
		for range perEntry {
			i++
			o := benchObject(i)
			c := command{Op: opObjectPut, Time: time.Now(), Bucket: o.Bucket, Key: o.Key, Object: o}
			entry = appendEntry(entry, c.encode())
		}
		b.StartTimer()
		if err := db.Update(func(tx *bolt.Tx) error { _, _, err := applyEntry(tx, entry, nil); return err }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*perEntry)/b.Elapsed().Seconds(), "cmds/s")
}
