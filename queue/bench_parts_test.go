package queue

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPartDone measures journaled part records per second, from 16
// writers, once a job (JobPartDone) or an upload (PutUploadPart) already
// holds 1,000 or 10,000 parts: with one record per part, both rates are
// the same. Run: go test -run '^$' -bench PartDone -benchtime 2000x ./queue/
func BenchmarkPartDone(b *testing.B) {
	for _, kind := range []string{"job", "upload"} {
		for _, at := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("%s/at=%d", kind, at), func(b *testing.B) {
				n := benchNode(b)
				ctx := ctxT(b)
				o := benchObject(1)
				if err := n.PutObject(ctx, o); err != nil {
					b.Fatal(err)
				}
				if err := n.JobStarted(ctx, o.VersionID, "up", 5<<20); err != nil {
					b.Fatal(err)
				}
				if err := n.CreateUpload(ctx, Upload{ID: "u", Bucket: "bench", Key: "k"}); err != nil {
					b.Fatal(err)
				}
				done := func(number int, etag string) error {
					if kind == "job" {
						return n.JobPartDone(ctx, o.VersionID, "up", Part{Number: number, ETag: etag, Size: 5 << 20})
					}
					blob := blobOf(etag)
					return n.PutUploadPart(ctx, "u", UploadPart{Number: number, Blob: blob, Size: 5 << 20, ETag: blob[:32]})
				}
				parallel(b, at, func(i int) error { return done(i+1, "first") })
				var next atomic.Int64
				b.ResetTimer()
				start := time.Now()
				// Rewriting the parts below at costs what adding part at+1 would.
				parallel(b, b.N, func(int) error {
					i := next.Add(1)
					return done(int(i%int64(at))+1, strconv.FormatInt(i, 10))
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "parts/s")
			})
		}
	}
}

// parallel calls fn(0..count-1) from 16 goroutines.
func parallel(b *testing.B, count int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(count); i = next.Add(1) - 1 {
				if err := fn(int(i)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
