package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ipas/ipas/bench/internal/benchkit"
)

// requestTimeout bounds one small request; big transfers are bounded by the caller's ctx.
const requestTimeout = 30 * time.Second

// newClient returns an SDK client for endpoint that does not retry, computing
// request checksums only where S3 requires them (the transfer manager still adds
// a CRC32 to every part). Over plain HTTP the SDK signs every payload's SHA-256.
func newClient(endpoint string) *s3.Client {
	return benchkit.NewS3Client(endpoint, benchAccessKey, benchSecretKey, func(o *s3.Options) {
		o.RetryMaxAttempts = 1
	})
}

func createBucket(ctx context.Context, c *s3.Client, bucket string) error {
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// multipartLive reports whether the server implements CreateMultipartUpload.
func multipartLive(ctx context.Context, c *s3.Client, bucket string) (bool, error) {
	key := "multipart-probe"
	out, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("probe multipart: %w", err)
	}
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: out.UploadId})
	return true, err
}

// smallPuts runs conc writers putting size-byte objects for d and returns PUTs
// per second, and how many objects each writer put at least (smallGets reads
// them). Every object has its own content, as the files of a backup do: a
// server that deduplicates content gets no discount.
func smallPuts(ctx context.Context, c *s3.Client, bucket string, size int64, conc int, d time.Duration) (float64, int, error) {
	bodies := make([][]byte, conc)
	for w := range bodies {
		bodies[w] = make([]byte, size)
		copy(bodies[w], patternBlock)
	}
	return forDuration(conc, d, func(w, i int) error {
		key := fmt.Sprintf("small/%02d/%08d", w, i)
		copy(bodies[w], key) // unique content
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		_, err := c.PutObject(rctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(bodies[w])})
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		return nil
	})
}

// smallGets runs conc readers for d, reader w getting the objects smallPuts's
// writer w put (n each, round and round), checks each one's length and returns
// GETs per second.
func smallGets(ctx context.Context, c *s3.Client, bucket string, size int64, conc, n int, d time.Duration) (float64, error) {
	ops, _, err := forDuration(conc, d, func(w, i int) error {
		key := fmt.Sprintf("small/%02d/%08d", w, i%n)
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		out, err := c.GetObject(rctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		var got int64
		if err == nil {
			got, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
		if err == nil && got != size {
			err = fmt.Errorf("read %d bytes, want %d", got, size)
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", key, err)
		}
		return nil
	})
	return ops, err
}

// forDuration runs conc workers for d, worker w calling op(w, 0), op(w, 1)...
// until the time is up or op fails. It returns the calls per second and the
// fewest calls a worker made, or the first error.
func forDuration(conc int, d time.Duration, op func(w, i int) error) (float64, int, error) {
	var ops atomic.Int64
	perWorker := make([]int, conc)
	var firstErr error
	var once sync.Once
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			for i := 0; time.Now().Before(stop); i++ {
				if err := op(w, i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				ops.Add(1)
				perWorker[w]++
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	return float64(ops.Load()) / time.Since(start).Seconds(), slices.Min(perWorker), nil
}

// bigPut uploads a size-byte object, as multipart with partSize parts and conc
// parts in flight when multipart is true, else in one PutObject. It returns MiB/s.
func bigPut(ctx context.Context, c *s3.Client, bucket, key string, size, partSize int64, conc int, multipart bool) (float64, error) {
	start := time.Now()
	var err error
	if multipart {
		up := manager.NewUploader(c, func(u *manager.Uploader) {
			u.PartSize = partSize
			u.Concurrency = conc
		})
		_, err = up.Upload(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: newPatternReader(size)})
	} else {
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key,
			Body: newPatternReader(size), ContentLength: aws.Int64(size)})
	}
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	return mibPerSec(size, time.Since(start)), nil
}

// bigPutMD5 uploads a size-byte object as multipart, conc parts of partSize in
// flight, each with its Content-MD5 as rclone and s3cmd send it, and returns MiB/s.
func bigPutMD5(ctx context.Context, c *s3.Client, bucket, key string, size, partSize int64, conc int) (float64, error) {
	start := time.Now()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", key, err)
	}
	parts := make([]types.CompletedPart, (size+partSize-1)/partSize)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			buf := make([]byte, partSize)
			for {
				i := next.Add(1) - 1
				if i >= int64(len(parts)) {
					return
				}
				n, _ := newPatternReader(size).ReadAt(buf[:min(partSize, size-i*partSize)], i*partSize)
				sum := md5.Sum(buf[:n])
				out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
					PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(buf[:n]),
					ContentMD5: aws.String(base64.StdEncoding.EncodeToString(sum[:]))})
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("put %s part %d: %w", key, i+1, err) })
					next.Store(int64(len(parts)))
					return
				}
				parts[i] = types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return 0, fmt.Errorf("put %s: complete: %w", key, err)
	}
	return mibPerSec(size, time.Since(start)), nil
}

// bigGet reads the object back, in conc ranged GETs of partSize when multipart
// is true, else in one GetObject, checks its length, and returns MiB/s.
func bigGet(ctx context.Context, c *s3.Client, bucket, key string, size, partSize int64, conc int, multipart bool) (float64, error) {
	start := time.Now()
	var n int64
	var err error
	if multipart {
		dl := manager.NewDownloader(c, func(d *manager.Downloader) {
			d.PartSize = partSize
			d.Concurrency = conc
		})
		n, err = dl.Download(ctx, discardAt{}, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	} else {
		var out *s3.GetObjectOutput
		if out, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}); err == nil {
			n, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("get %s: %w", key, err)
	}
	if n != size {
		return 0, fmt.Errorf("get %s: read %d bytes, want %d", key, n, size)
	}
	return mibPerSec(size, time.Since(start)), nil
}

func deleteObject(ctx context.Context, c *s3.Client, bucket, key string) error {
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

func mibPerSec(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }
