package gateway

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCompleteUnderLoad runs multipart uploads (three parts of odd sizes,
// CRC32C) from loadWorkers SDK clients at once for completeLoadDuration, which
// keeps the CPUs busy as in a loaded CI run: every Complete must return its
// result. Before Complete waited for its first keep-alive to send its status,
// about one in 250 lost it (see TestCompleteClientSlowToFinishSending).
func TestCompleteUnderLoad(t *testing.T) {
	const loadWorkers = 8
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	mustBucket(t, c, "mpu")
	ctx, cancel := context.WithTimeout(context.Background(), completeLoadDuration+testTimeout)
	defer cancel()

	var mu sync.Mutex
	var completed int
	var failures []string
	deadline := time.Now().Add(completeLoadDuration)
	var wg sync.WaitGroup
	for w := range loadWorkers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				err := uploadThreeParts(ctx, c, fmt.Sprintf("w%d/%d", w, i))
				mu.Lock()
				completed++
				if err != nil {
					failures = append(failures, err.Error())
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("%d multipart uploads in %v, %d failed", completed, completeLoadDuration, len(failures))
	if len(failures) > 0 {
		t.Errorf("%d of %d multipart uploads failed; the first:\n%s", len(failures), completed, strings.Join(failures[:min(3, len(failures))], "\n"))
	}
}

// uploadThreeParts uploads key in bucket "mpu" in three parts of odd sizes
// with CRC32C and checks Complete's result.
func uploadThreeParts(ctx context.Context, c *s3.Client, key string) error {
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		return fmt.Errorf("create %s: %w", key, err)
	}
	var parts []types.CompletedPart
	for i, size := range []int{64<<10 + 1, 64<<10 + 333, 4321} {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(content(30+i, size)), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			return fmt.Errorf("part %d of %s: %w", n, key, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
	}
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return fmt.Errorf("complete %s: %w", key, err)
	}
	if !strings.HasSuffix(aws.ToString(out.ETag), `-3"`) || aws.ToString(out.ChecksumCRC32C) == "" {
		return fmt.Errorf("complete %s: ETag %s, CRC32C %q: want a three-part ETag and a checksum", key, aws.ToString(out.ETag), aws.ToString(out.ChecksumCRC32C))
	}
	return nil
}
