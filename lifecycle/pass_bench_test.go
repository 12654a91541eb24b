package lifecycle_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/lifecycle"
	"github.com/ipas/ipas/queue"
)

// BenchmarkPassExpires runs the pass over a versioned bucket of 10,000 keys
// of three versions each, where a rule expires every noncurrent version:
// 20,000 deletions, journaled in batches of lifecycle.DefaultBatch, and one
// at a time for comparison. It reports deletions per second and raft entries
// per 1,000 deletions (go test -bench PassExpires -benchtime 1x ./lifecycle/).
func BenchmarkPassExpires(b *testing.B) {
	for _, batch := range []int{1, lifecycle.DefaultBatch} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) { benchmarkPass(b, batch) })
	}
}

func benchmarkPass(b *testing.B, batchSize int) {
	const keys, versions = 10_000, 3
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		qc := queue.DefaultConfig(filepath.Join(b.TempDir(), "journal"))
		qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
		node := queue.New(qc, zerolog.Nop())
		if err := node.Open(ctx); err != nil {
			b.Fatal(err)
		}
		if err := node.CreateBucket(ctx, "b", time.Now()); err != nil {
			b.Fatal(err)
		}
		if err := node.SetBucketSetting(ctx, "b", queue.SettingVersioning, queue.VersioningEnabled); err != nil {
			b.Fatal(err)
		}
		rules := `<LifecycleConfiguration><Rule><Filter></Filter><Status>Enabled</Status>` +
			`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`
		c, err := lifecycle.Parse([]byte(rules))
		if err != nil {
			b.Fatal(err)
		}
		stored, _ := c.Marshal()
		if err := node.SetBucketSetting(ctx, "b", queue.SettingLifecycle, string(stored)); err != nil {
			b.Fatal(err)
		}
		for v := range versions {
			batch := make([]queue.Object, 0, 1000)
			for k := range keys {
				now := time.Now()
				blob := fmt.Sprintf("%064x", v*keys+k+1)
				batch = append(batch, queue.Object{Bucket: "b", Key: fmt.Sprintf("docs/%06d", k), VersionID: queue.NewVersionID(now),
					Blob: blob, SHA256: blob, Size: 1, ETag: fmt.Sprintf("%032x", k), ModTime: now})
				if len(batch) == cap(batch) || k == keys-1 {
					for _, err := range node.PutObjects(ctx, batch) {
						if err != nil {
							b.Fatal(err)
						}
					}
					batch = batch[:0]
				}
			}
		}
		before, err := node.Stats()
		if err != nil {
			b.Fatal(err)
		}
		p := lifecycle.NewPass(node, zerolog.Nop())
		p.Batch = batchSize
		p.Now = func() time.Time { return time.Now().Add(3 * 24 * time.Hour) }
		b.StartTimer()
		start := time.Now()
		res, err := p.Run(ctx, nil)
		took := time.Since(start)
		b.StopTimer()
		if err != nil || res.VersionsExpired != keys*(versions-1) {
			b.Fatalf("pass: %+v, %v", res, err)
		}
		after, _ := node.Stats()
		b.ReportMetric(float64(res.VersionsExpired)/took.Seconds(), "deletions/s")
		b.ReportMetric(float64(after.AppliedIndex-before.AppliedIndex)*1000/float64(res.VersionsExpired), "entries/1000-deletions")
		node.Close(ctx)
		b.StartTimer()
	}
}
