package queue

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
)

// BenchmarkRawWAL is the ceiling the journal is measured against: the same
// 200-byte ObjectPut commands from 64 writers, appended straight to raft-wal
// with group commit (whatever queued while the previous append was syncing
// goes into the next one, one log entry per command) and no raft, no
// proposer, no state machine. The target is half of this.
func BenchmarkRawWAL(b *testing.B) {
	const writers = 64
	w, err := wal.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	type req struct {
		data []byte
		done chan error
	}
	var (
		mu    sync.Mutex
		queue []req
		wake  = make(chan struct{}, 1)
		stop  = make(chan struct{})
		index uint64
	)
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		var logs []*raft.Log
		for {
			mu.Lock()
			batch := queue
			queue = nil
			mu.Unlock()
			if len(batch) == 0 {
				select {
				case <-wake:
					continue
				case <-stop:
					return
				}
			}
			logs = logs[:0]
			for _, r := range batch {
				index++
				logs = append(logs, &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: r.data})
			}
			err := w.StoreLogs(logs)
			for _, r := range batch {
				r.done <- err
			}
		}
	}()
	var seq atomic.Int64
	c := command{Op: opObjectPut, Time: time.Now(), Bucket: "bench", Key: "k", Object: benchObject(0)}
	b.ReportMetric(float64(len(c.encode())), "B/cmd")
	objs := benchObjects(b.N)
	b.SetParallelism(writers / 2) // GOMAXPROCS is 2 here
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		done := make(chan error, 1)
		for pb.Next() {
			o := objs[seq.Add(1)-1]
			c := command{Op: opObjectPut, Time: time.Now(), Bucket: o.Bucket, Key: o.Key, Object: o}
			mu.Lock()
			queue = append(queue, req{data: c.encode(), done: done})
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
			if err := <-done; err != nil {
				b.Error(fmt.Errorf("store logs: %w", err))
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
	close(stop)
	<-committed
}
