package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/internal/testutil"
)

// smallFilesWriters put the files at once, as a backup client would.
const smallFilesWriters = 16

// smallFilesTimeout bounds the wait for every file to be offsite.
const smallFilesTimeout = 5 * time.Minute

// TestServe_ManySmallFilesReplicated: manySmallFiles files of 1-64 KiB PUT
// through the S3 API and as many written into a drop folder, at the same
// time, all reach versitygw byte-identical (the SHA-256 of every remote
// object); `gateway status` counts objects per second. It logs the rate.
func TestServe_ManySmallFilesReplicated(t *testing.T) {
	vgw := testutil.StartVersityGW(t, "offsite")
	dir := t.TempDir()
	drop := filepath.Join(dir, "drop")
	if err := os.MkdirAll(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append([]string{"IPAS_REMOTE_ENDPOINT=" + vgw.Endpoint, "IPAS_REMOTE_BUCKET=offsite", "IPAS_REMOTE_REGION=us-east-1",
		"IPAS_REMOTE_ACCESS_KEY=" + vgw.AccessKey, "IPAS_REMOTE_SECRET_KEY=" + vgw.SecretKey}, adminTestEnv...)
	cfgPath := filepath.Join(dir, "ipas.yaml")
	if err := os.WriteFile(cfgPath, []byte("remote: {path_style: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, env, "--config", cfgPath, "--data-dir", filepath.Join(dir, "data"), "--s3-addr", "127.0.0.1:0",
		"--drop", drop+"=dropped")
	local := manyConnClient(p.endpoint, adminTestKey, adminTestSecret)
	ctx, cancel := context.WithTimeout(context.Background(), 2*smallFilesTimeout)
	defer cancel()
	if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}

	// Status is read throughout, from the first file on: the rates it shows
	// while objects are replicated.
	ac := adminClient(p.endpoint)
	var fastest admin.Totals
	polled, stopPolling := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stopPolling:
				return
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			if st, err := ac.Status(ctx); err == nil {
				fastest.Rate, fastest.ObjectRate = max(fastest.Rate, st.Totals.Rate), max(fastest.ObjectRate, st.Totals.ObjectRate)
			}
		}
	}()

	want := map[string]string{} // remote key -> sha256
	var mu sync.Mutex
	var total int64
	start := time.Now()
	err := inParallel(2*manySmallFiles, smallFilesWriters, func(i int) error {
		body := smallFile(i)
		key := fmt.Sprintf("d%02d/f%05d.jpg", i%50, i)
		remoteKey := "photos/" + key
		var err error
		if i%2 == 0 {
			_, err = local.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader(body)})
		} else {
			remoteKey = "dropped/" + key
			err = writeDropFile(filepath.Join(drop, filepath.FromSlash(key)), body)
		}
		sum := sha256.Sum256(body)
		mu.Lock()
		want[remoteKey] = hex.EncodeToString(sum[:])
		total += int64(len(body))
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	written := time.Since(start)

	n := int64(len(want))
	var st admin.Status
	for deadline := time.Now().Add(smallFilesTimeout); ; time.Sleep(100 * time.Millisecond) {
		st, err = ac.Status(ctx)
		if err == nil && st.Totals.ReplicatedObjects >= n && st.Offsite.PendingObjects == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not offsite within %s: %+v %+v (%v)", smallFilesTimeout, st.Totals, st.Offsite, err)
		}
	}
	took := time.Since(start)
	t.Logf("%d files (%.1f MiB; half PUT, half dropped) written in %s, all offsite %s after the first: %.0f files/s end to end",
		n, float64(total)/(1<<20), written.Round(time.Millisecond), took.Round(time.Millisecond), float64(n)/took.Seconds())
	if st.Totals.ReplicatedObjects != n {
		t.Errorf("status: %d objects replicated, want %d", st.Totals.ReplicatedObjects, n)
	}

	close(stopPolling)
	<-polled
	t.Logf("status showed up to %.1f MiB/s and %.0f objects/s", fastest.Rate/(1<<20), fastest.ObjectRate)
	if fastest.Rate <= 0 || fastest.ObjectRate <= 0 {
		t.Errorf("status while %d small objects replicated: at most %.0f bytes/s and %.1f objects/s; want their rates, not 0",
			n, fastest.Rate, fastest.ObjectRate)
	}
	if out := cliOK(t, adminTestEnv, "status", "--endpoint", p.endpoint); !strings.Contains(out, " objects/s") {
		t.Errorf("gateway status does not count objects per second:\n%s", out)
	}

	offsite := manyConnClient(vgw.Endpoint, vgw.AccessKey, vgw.SecretKey)
	checkRemoteSums(t, ctx, offsite, "offsite", want)
	stopGateway(t, p)
}

// smallFile is file i: 1-64 KiB of random bytes, the same for the same i.
func smallFile(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	b := make([]byte, 1<<10+r.IntN(63<<10+1))
	for k := range b {
		b[k] = byte(r.Uint32())
	}
	return b
}

// writeDropFile writes a file as a copy into a share would: created, written,
// closed.
func writeDropFile(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, body, 0o644)
}

// checkRemoteSums lists bucket and downloads every object in want: no
// object missing or extra, each with the SHA-256 expected.
func checkRemoteSums(t *testing.T, ctx context.Context, c *s3.Client, bucket string, want map[string]string) {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); !strings.HasPrefix(k, ".ipas/") {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) != len(want) {
		t.Errorf("the remote holds %d objects, want %d", len(keys), len(want))
	}
	err := inParallel(len(keys), smallFilesWriters, func(i int) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[i])})
		if err != nil {
			return fmt.Errorf("get %s: %w", keys[i], err)
		}
		defer out.Body.Close()
		h := sha256.New()
		if _, err := io.Copy(h, out.Body); err != nil {
			return fmt.Errorf("get %s: %w", keys[i], err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want[keys[i]] {
			return fmt.Errorf("remote %s: sha256 %s, want %s", keys[i], got, want[keys[i]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// inParallel calls fn(0..n-1) on workers goroutines and returns the first error.
func inParallel(n, workers int, fn func(i int) error) error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n && errs[w] == nil; i += workers {
				errs[w] = fn(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// manyConnClient is s3Client with a connection kept for each writer.
func manyConnClient(endpoint, ak, sk string) *s3.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = smallFilesWriters
	return s3Client(endpoint, ak, sk, func(o *s3.Options) {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	})
}
