package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// keysTimeout bounds each step of keyRound.
const keysTimeout = 15 * time.Minute

// keyRound measures what a sync or a cleanup of a large tree costs a server:
// c.keys empty objects put by c.smallConc writers, then listed with
// ListObjectsV2 (pages of 1,000, one after the other) and deleted with
// DeleteObjects (1,000 keys a request, one after the other, as boto3 and the
// aws CLI send them); each step with the server's CPU time per 1,000 keys.
func keyRound(ctx context.Context, c config, s *subject, bucket string) error {
	ctx, cancel := context.WithTimeout(ctx, keysTimeout)
	defer cancel()
	keys := make([]string, c.keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("tree/%03d/%08d", i%1000, i)
	}
	put, err := putEmpty(ctx, s.client, bucket, keys, c.smallConc)
	if err != nil {
		return err
	}
	s.figs[metricKeysPut] = append(s.figs[metricKeysPut], put)

	perThousand := func(d time.Duration) float64 { return d.Seconds() * 1000 * 1000 / float64(len(keys)) }
	cpu := s.srv.cpuMeter()
	start := time.Now()
	listed := 0
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("tree/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", bucket, err)
		}
		listed += len(page.Contents)
	}
	if listed != len(keys) {
		return fmt.Errorf("list %s: %d keys, want %d", bucket, listed, len(keys))
	}
	s.figs[metricListKeys] = append(s.figs[metricListKeys], float64(listed)/time.Since(start).Seconds())
	s.figs[metricListCPU] = append(s.figs[metricListCPU], perThousand(cpu()))

	cpu = s.srv.cpuMeter()
	start = time.Now()
	for i := 0; i < len(keys); i += 1000 {
		batch := keys[i:min(i+1000, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for j, k := range batch {
			ids[j] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("delete objects: %d errors, first %s: %s", len(out.Errors), aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Code))
		}
	}
	s.figs[metricDeleteKeys] = append(s.figs[metricDeleteKeys], float64(len(keys))/time.Since(start).Seconds())
	s.figs[metricDeleteCPU] = append(s.figs[metricDeleteCPU], perThousand(cpu()))
	left, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("tree/")})
	if err != nil {
		return fmt.Errorf("list %s after delete: %w", bucket, err)
	}
	if len(left.Contents) > 0 {
		return fmt.Errorf("list %s after delete: %d keys left", bucket, len(left.Contents))
	}
	return nil
}

// putEmpty puts an empty object at every key from conc writers and returns PUTs per second.
func putEmpty(ctx context.Context, c *s3.Client, bucket string, keys []string, conc int) (float64, error) {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) {
					return
				}
				rctx, cancel := context.WithTimeout(ctx, requestTimeout)
				_, err := c.PutObject(rctx, &s3.PutObjectInput{Bucket: &bucket, Key: &keys[i], Body: nil})
				cancel()
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("put %s: %w", keys[i], err) })
					next.Store(int64(len(keys)))
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(len(keys)) / time.Since(start).Seconds(), nil
}
