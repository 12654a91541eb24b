//go:build root

package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sys/unix"

	"github.com/ipas/ipas/internal/testutil"
)

// usedMax samples the used bytes of the file system at dir until stop, and
// returns the highest.
func usedMax(dir string, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var fs unix.Statfs_t
			if unix.Statfs(dir, &fs) == nil {
				peak = max(peak, int64(fs.Blocks-fs.Bavail)*int64(fs.Bsize))
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func s3Status(err error) (code string, status int) {
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	return code, status
}

// TestServe_CacheCapacity: the daemon's blobs on a real 256 MiB tmpfs with
// store.capacity 75% (192 MiB), a real versitygw behind toxiproxy as the
// remote. Writing twice the file system's size while replication runs: the
// used bytes never pass the capacity, and every object reads back
// byte-identical (the evicted ones through the remote). With the remote cut,
// writes go on until the capacity is full of data not offsite, then are
// refused with 507 saying why and how to fix it; every object written since
// the cut reads back from the disk with the remote still cut (none was
// evicted); once the remote is back, writes resume by themselves.
func TestServe_CacheCapacity(t *testing.T) {
	const fsSize, objSize = 256 << 20, 4 << 20
	s, proxy := newCacheSetup(t, "store: {capacity: 75%, cache_on_read: never}\n",
		"backoff_min: 200ms, backoff_max: 1s, unreachable_after: 1s")
	dataDir := filepath.Join(t.TempDir(), "data")
	storeMount := filepath.Join(dataDir, storeDir)
	mountTmpfs(t, storeMount, fmt.Sprint(fsSize))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := s.serve(t, dataDir)
	defer s.stop(t, p)
	c := s3Client(p.endpoint, restoreAK, restoreSK)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("fill")}); err != nil {
		t.Fatal(err)
	}
	sums := map[string][32]byte{}
	var refused atomic.Int64
	// put writes key, retrying what a full capacity refuses until it is
	// accepted or until the deadline; it returns the last refusal.
	put := func(key string, seed int, deadline time.Time) error {
		body := testutil.Content(seed, objSize)
		for {
			err := putBytes(ctx, c, "fill", key, body)
			if err == nil {
				sums[key] = sha256.Sum256(body)
				return nil
			}
			if code, _ := s3Status(err); code != "InsufficientStorage" && code != "SlowDown" {
				t.Fatalf("PUT %s: %v", key, err)
			}
			refused.Add(1)
			if time.Now().After(deadline) {
				return err
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	stop := make(chan struct{})
	peak := usedMax(storeMount, stop)
	for i := range 2 * fsSize / objSize {
		if err := put(fmt.Sprintf("a/%03d", i), i, time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("PUT a/%03d never accepted while replication runs: %v", i, err)
		}
	}
	close(stop)
	capacity, peakUsed := int64(0.75*fsSize), <-peak
	t.Logf("wrote %d MiB into a %d MiB file system: peak used %d KiB, capacity %d KiB, %d writes refused and retried",
		2*fsSize>>20, fsSize>>20, peakUsed>>10, capacity>>10, refused.Load())
	if got := peakUsed; got > capacity {
		t.Errorf("peak used %d bytes, over the capacity %d", got, capacity)
	}
	readAll := func(keys []string) {
		t.Helper()
		for _, key := range keys {
			got, _, err := getBytes(ctx, c, &s3.GetObjectInput{Bucket: aws.String("fill"), Key: aws.String(key)})
			if err != nil || sha256.Sum256(got) != sums[key] {
				t.Fatalf("GET %s: %v, %d bytes, SHA-256 differs: %v", key, err, len(got), sha256.Sum256(got) != sums[key])
			}
		}
	}
	var written []string
	for key := range sums {
		written = append(written, key)
	}
	readAll(written)

	// The remote goes away: writes fill the capacity with data not offsite.
	s.waitReplicated(t, p)
	proxy.Cut()
	var refusal error
	var afterCut []string
	stop = make(chan struct{})
	peak = usedMax(storeMount, stop)
	for i := 0; refusal == nil && i < fsSize/objSize; i++ {
		key := fmt.Sprintf("b/%03d", i)
		if refusal = put(key, 1000+i, time.Now().Add(15*time.Second)); refusal == nil {
			afterCut = append(afterCut, key)
		}
	}
	close(stop)
	if got := <-peak; got > capacity {
		t.Errorf("with the remote cut, peak used %d bytes, over the capacity %d", got, capacity)
	}
	code, status := s3Status(refusal)
	if code != "InsufficientStorage" || status != 507 {
		t.Fatalf("with the remote cut, writes were never refused 507: last %v", refusal)
	}
	for _, want := range []string{"waiting to be uploaded", "Nothing stored was lost", "Fix:", "store.capacity"} {
		if !strings.Contains(refusal.Error(), want) {
			t.Errorf("the 507 does not say %q: %v", want, refusal)
		}
	}
	t.Logf("with the remote cut, %d objects were accepted, then: %v", len(afterCut), refusal)
	if len(afterCut) == 0 {
		t.Fatal("no write was accepted after the cut: nothing offsite was evicted to make room")
	}
	readAll(afterCut) // from the disk: the remote is still cut
	if st := cliStatus(t, s.env, p.endpoint); st.Cache == nil || st.Cache.Refusing == "" {
		t.Errorf("status does not say writes are refused: %+v", st.Cache)
	}

	// The remote comes back: uploads complete, eviction makes room, and the
	// refused write is accepted without anyone doing anything.
	proxy.Heal(t)
	if err := put("b/resumed", 2000, time.Now().Add(2*time.Minute)); err != nil {
		t.Fatalf("writes did not resume after the remote came back: %v", err)
	}
	s.waitReplicated(t, p)
	var all []string
	for key := range sums {
		all = append(all, key)
	}
	readAll(all)
}
