package gateway

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// manyParts is the number of parts of TestManyParts: what the aws CLI uses
// for an 80 GB file, and S3's limit.
const manyParts = 10000

// TestManyParts uploads one object in 10,000 small parts through
// aws-sdk-go-v2 from 16 clients at once, as the aws CLI does a large file:
// an UploadPart must cost the same at part 10,000 as at part 1 (the last
// 1,000 at least 0.8x as fast as the first 1,000, by median latency: the
// machine's other load sways it least), memory must
// stay flat (peak RSS of the test process, server and clients, under 64
// MiB), every ListParts page must list its parts, and Complete must give
// back the bytes.
func TestManyParts(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	mustBucket(t, c, "many")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("many"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	// The daemon's soft memory limit (memory_limit, 32 MiB by default).
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(32 << 20))
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(t)

	const workers = 16
	done := make([]time.Time, 0, manyParts)     // completion times, in order
	took := make([]time.Duration, 0, manyParts) // each call's latency, in that order
	var mu sync.Mutex
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for n := range next {
				sent := time.Now()
				_, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("many"), Key: aws.String("big"), UploadId: mp.UploadId,
					PartNumber: aws.Int32(int32(n)), Body: bytes.NewReader(partBody(n))})
				if err != nil {
					errs <- fmt.Errorf("part %d: %w", n, err)
					return
				}
				now := time.Now()
				mu.Lock()
				done, took = append(done, now), append(took, now.Sub(sent))
				mu.Unlock()
			}
		})
	}
	start := time.Now()
feed:
	for n := 1; n <= manyParts; n++ {
		select {
		case next <- n:
		case err := <-errs:
			t.Error(err)
			break feed
		}
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		return
	}
	// The rates of the first and last 1,000 parts, and, as the measure that
	// other load on the machine sways least, their median latencies.
	const window = 1000
	first := float64(window) / done[window-1].Sub(start).Seconds()
	last := float64(window) / done[manyParts-1].Sub(done[manyParts-window-1]).Seconds()
	firstMedian, lastMedian := median(took[:window]), median(took[manyParts-window:])
	t.Logf("UploadPart: %d parts in %s; first %d at %.0f/s (median %s), last %d at %.0f/s (median %s): %.2fx",
		manyParts, time.Since(start).Round(time.Millisecond), window, first, firstMedian, window, last, lastMedian,
		firstMedian.Seconds()/lastMedian.Seconds())
	if firstMedian.Seconds()/lastMedian.Seconds() < 0.8 {
		t.Errorf("UploadPart slowed down with the part count: median %s for the last %d parts, %s for the first", lastMedian, window, firstMedian)
	}

	// ListParts: 10 pages of 1,000, each as fast as the first.
	var listed []types.Part
	var marker *string
	for page := 0; ; page++ {
		out, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("many"), Key: aws.String("big"), UploadId: mp.UploadId, PartNumberMarker: marker})
		if err != nil {
			t.Fatalf("ListParts page %d: %v", page, err)
		}
		listed = append(listed, out.Parts...)
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = out.NextPartNumberMarker
	}
	if len(listed) != manyParts {
		t.Fatalf("ListParts listed %d parts, want %d", len(listed), manyParts)
	}
	parts := make([]types.CompletedPart, 0, manyParts)
	for i, p := range listed {
		if int(aws.ToInt32(p.PartNumber)) != i+1 || aws.ToInt64(p.Size) != int64(len(partBody(i+1))) {
			t.Fatalf("ListParts item %d: part %d of %d bytes", i, aws.ToInt32(p.PartNumber), aws.ToInt64(p.Size))
		}
		parts = append(parts, types.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("many"), Key: aws.String("big"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("CompleteMultipartUpload of %d parts: %v", manyParts, err)
	}
	peak := peakRSS(t)
	t.Logf("peak RSS while uploading, listing and completing: %.1f MiB", float64(peak)/(1<<20))
	if peak > 64<<20 {
		t.Errorf("peak RSS %.1f MiB, the budget is 64 MiB", float64(peak)/(1<<20))
	}

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("many"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	var want bytes.Buffer
	for n := 1; n <= manyParts; n++ {
		want.Write(partBody(n))
	}
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("GET of the completed object: %d bytes (want %d), %v", len(got), want.Len(), err)
	}
	if want := fmt.Sprintf(`"%s-%d"`, "", manyParts); !strings.HasSuffix(aws.ToString(out.ETag), want[3:]) {
		t.Fatalf("ETag %s does not end in -%d", aws.ToString(out.ETag), manyParts)
	}
}

// median returns the median of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// partBody is the content of part n: a few bytes that differ per part.
func partBody(n int) []byte { return []byte(strconv.Itoa(n) + ";") }

// resetPeakRSS resets the process's peak RSS (VmHWM) to its current RSS.
func resetPeakRSS(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSS reads VmHWM from /proc/self/status.
func peakRSS(t *testing.T) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}
