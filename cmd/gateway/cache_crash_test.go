//go:build crash

package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
)

// TestCrashEvictAndReadThrough SIGKILLs the real daemon while `gateway
// evict` evicts a bucket (journal entries and the collector freeing blobs),
// and while concurrent GETs read evicted objects through from a real
// versitygw and re-cache them (cache_on_read: always: blobs stored as they
// stream, journaled once checked). After every restart every object reads
// back byte-identical, whether its bytes are local or on the remote only.
func TestCrashEvictAndReadThrough(t *testing.T) {
	s, _ := newCacheSetup(t, "store: {cache_on_read: always}\n", "")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dataDir := filepath.Join(t.TempDir(), "data")
	p := s.serve(t, dataDir)
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("crash")}); err != nil {
		t.Fatal(err)
	}
	sums := map[string][32]byte{}
	for i := range 48 {
		size := 256 << 10
		if i%8 == 0 {
			size = 6 << 20 // several blocks, a multipart upload to the remote
		}
		key := fmt.Sprintf("o/%02d", i)
		body := testutil.Content(i, size)
		if err := putBytes(ctx, c, "crash", key, body); err != nil {
			t.Fatal(err)
		}
		sums[key] = sha256.Sum256(body)
	}
	s.waitReplicated(t, p)
	rng := rand.New(rand.NewPCG(12, 0))
	checkAll := func(cycle int) {
		t.Helper()
		for key, want := range sums {
			got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("crash"), Key: aws.String(key)})
			if err != nil || sha256.Sum256(got) != want {
				t.Fatalf("cycle %d: GET %s after the restart: %v, %d bytes\n%s", cycle, key, err, len(got), p.stderr)
			}
		}
	}
	for cycle := range 6 {
		var wg sync.WaitGroup
		if cycle%2 == 0 { // kill during an eviction
			cmd := exec.CommandContext(ctx, buildGateway(t), "evict", "--endpoint", p.endpoint, "crash")
			cmd.Env = append(cmd.Environ(), s.env...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() { defer wg.Done(); cmd.Wait() }()
			time.Sleep(time.Duration(20+rng.IntN(150)) * time.Millisecond)
		} else { // kill during read-throughs that re-cache
			cliOK(t, s.env, "evict", "--endpoint", p.endpoint, "crash")
			for i := 0; i < 48; i += 4 {
				key := fmt.Sprintf("o/%02d", i)
				wg.Add(1)
				go func() {
					defer wg.Done()
					getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("crash"), Key: aws.String(key)})
				}()
			}
			time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		}
		p.cmd.Process.Kill()
		p.cmd.Wait()
		wg.Wait()
		p = s.serve(t, dataDir)
		c = s3Client(p.endpoint, restoreAK, restoreSK)
		st := cliStatus(t, s.env, p.endpoint)
		checkAll(cycle)
		t.Logf("cycle %d: killed with %d KiB on the remote only, %d KiB local (journal index %d); after the restart every object reads back",
			cycle, st.Cache.RemoteOnlyBytes>>10, st.Cache.LocalBytes>>10, st.Journal.AppliedIndex)
	}
	s.stop(t, p)
}
