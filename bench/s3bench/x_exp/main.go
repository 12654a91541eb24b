package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
	"github.com/rs/zerolog"
)

func main() {
	dir := flag.String("dir", "/var/tmp", "")
	conc := flag.Int("conc", 16, "")
	d := flag.Duration("d", 5*time.Second, "")
	mode := flag.String("mode", "both", "store|queue|both")
	flag.Parse()
	ctx := context.Background()
	root, _ := os.MkdirTemp(*dir, "exp-")
	defer os.RemoveAll(root)
	st := store.New(filepath.Join(root, "store"), zerolog.Nop())
	if err := st.Open(ctx); err != nil {
		panic(err)
	}
	n := queue.New(queue.DefaultConfig(filepath.Join(root, "j")), zerolog.Nop())
	if err := n.Open(ctx); err != nil {
		panic(err)
	}
	n.WaitLeader(ctx)
	n.CreateBucket(ctx, "b", time.Now())
	var ops atomic.Int64
	var tStore, tQueue atomic.Int64
	stop := time.Now().Add(*d)
	var wg sync.WaitGroup
	var ctr atomic.Int64
	for w := 0; w < *conc; w++ {
		wg.Go(func() {
			body := make([]byte, 4096)
			for time.Now().Before(stop) {
				i := ctr.Add(1)
				binary.LittleEndian.PutUint64(body, uint64(i))
				binary.LittleEndian.PutUint64(body[8:], uint64(time.Now().UnixNano()))
				dg := fmt.Sprintf("%064x", i)
				t0 := time.Now()
				if *mode != "queue" {
					b, err := st.Put(ctx, bytes.NewReader(body))
					if err != nil {
						panic(err)
					}
					dg = b.Digest.String()
					defer st.Unpin(b.Digest)
				}
				t1 := time.Now()
				if *mode != "store" {
					if err := n.PutObject(ctx, queue.Object{Bucket: "b", Key: fmt.Sprint(i), VersionID: queue.NewVersionID(t1), Blob: dg, Size: 4096, ETag: "00", SHA256: dg}); err != nil {
						panic(err)
					}
				}
				t2 := time.Now()
				tStore.Add(int64(t1.Sub(t0)))
				tQueue.Add(int64(t2.Sub(t1)))
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	o := ops.Load()
	fmt.Printf("%s conc=%d: %.0f ops/s, store %.2f ms, queue %.2f ms avg\n", *mode, *conc, float64(o)/d.Seconds(),
		float64(tStore.Load())/float64(o)/1e6, float64(tQueue.Load())/float64(o)/1e6)
	n.Close(ctx)
	st.Close(ctx)
}
