package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// overwriteKeys is how many keys each writer of overwrites cycles through.
const overwriteKeys = 64

// versionsBucket holds the versions ListObjectVersions lists, put once.
const versionsBucket = "versions"

// name is how the table heads s's column.
func (s *subject) name() string {
	if s.versioned {
		return s.srv.name + " versioned"
	}
	return s.srv.name
}

func enableVersioning(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	if err != nil {
		return fmt.Errorf("versioning of %s: %w", bucket, err)
	}
	return nil
}

// overwrites runs conc writers for d, each putting size bytes over its own
// overwriteKeys keys round and round, and returns PUTs per second: in a
// versioned bucket every one after the first makes a noncurrent version.
func overwrites(ctx context.Context, c *s3.Client, bucket string, size int64, conc int, d time.Duration) (float64, error) {
	bodies := make([][]byte, conc)
	for w := range bodies {
		bodies[w] = make([]byte, size)
		copy(bodies[w], patternBlock)
	}
	ops, _, err := forDuration(conc, d, func(w, i int) error {
		key := fmt.Sprintf("over/%02d/%02d", w, i%overwriteKeys)
		copy(bodies[w], fmt.Sprintf("%s %08d", key, i)) // unique content
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		if _, err := c.PutObject(rctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(bodies[w])}); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		return nil
	})
	return ops, err
}

// versionsRound lists c.versions versions with ListObjectVersions (pages of
// 1,000, one after the other), after putting them in the first round: half
// as many keys, two empty versions each.
func versionsRound(ctx context.Context, c config, s *subject, round int) error {
	ctx, cancel := context.WithTimeout(ctx, keysTimeout)
	defer cancel()
	bucket := versionsBucket
	if round == 0 {
		if err := createBucket(ctx, s.client, bucket); err != nil {
			return err
		}
		if err := enableVersioning(ctx, s.client, bucket); err != nil {
			return err
		}
		keys := make([]string, 0, c.versions)
		for i := range (c.versions + 1) / 2 {
			keys = append(keys, fmt.Sprintf("tree/%03d/%08d", i%1000, i))
		}
		start := time.Now()
		for range 2 {
			if _, err := putEmpty(ctx, s.client, bucket, keys, c.smallConc); err != nil {
				return err
			}
		}
		s.figs[metricVersionsPut] = append(s.figs[metricVersionsPut], float64(2*len(keys))/time.Since(start).Seconds())
	}
	cpu := s.srv.cpuMeter()
	start := time.Now()
	listed, pages := 0, 0
	in := &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: aws.String("tree/")}
	for {
		page, err := s.client.ListObjectVersions(ctx, in)
		if err != nil {
			return fmt.Errorf("list versions of %s: %w", bucket, err)
		}
		pages++
		listed += len(page.Versions) + len(page.DeleteMarkers)
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
	want := 2 * ((c.versions + 1) / 2)
	if listed != want {
		return fmt.Errorf("list versions of %s: %d versions, want %d", bucket, listed, want)
	}
	s.figs[metricListVersions] = append(s.figs[metricListVersions], float64(pages)/time.Since(start).Seconds())
	s.figs[metricListVersionsCPU] = append(s.figs[metricListVersionsCPU], cpu().Seconds()*1000/float64(pages))
	return nil
}
