package gateway

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// TestCopyPinsItsSource: a copy holds its source's blobs against the collector
// until the new version is journaled. A collection that runs while the copy is in
// flight (here: just before its PutObject is journaled) and whose mark sees no
// reference (the source was deleted meanwhile) must not delete them; and a source whose blob is already gone answers NoSuchKey
// rather than journaling a version without bytes.
func TestCopyPinsItsSource(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "pins")
	body := content(7, 5000)
	put(t, c, "pins", "src", body)

	none := func(context.Context, func(store.Digest)) error { return nil }
	g.srv.idx = &collectBeforePut{Index: g.srv.idx, st: g.store, t: t, collect: none}
	if _, err := c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("pins"), Key: aws.String("dst"),
		CopySource: aws.String("pins/src")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("pins"), Key: aws.String("dst")}); string(got) != string(body) {
		t.Fatalf("copy read back %d bytes, want %d", len(got), len(body))
	}

	// The source's blob removed behind the index's back, as a collection racing a
	// delete of the source would: the copy must fail cleanly.
	put(t, c, "pins", "gone", content(8, 3000))
	o, err := g.node.Object("pins", "gone")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.SyncStaged(ctxT(t)); err != nil { // a small object's blob may still be staged
		t.Fatal(err)
	}
	blob := filepath.Join(g.dir, "store", "blobs", o.Blob[:2], o.Blob[2:4], o.Blob)
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	_, err = c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("pins"), Key: aws.String("dst2"),
		CopySource: aws.String("pins/gone")})
	wantCode(t, err, "NoSuchKey")
	_, err = c.UploadPartCopy(ctxT(t), &s3.UploadPartCopyInput{Bucket: aws.String("pins"), Key: aws.String("mp"),
		CopySource: aws.String("pins/gone"), PartNumber: aws.Int32(1), UploadId: createUpload(t, c, "pins", "mp")})
	wantCode(t, err, "NoSuchKey")
}

// collectBeforePut runs a full collection, whose mark reports nothing, right
// before each object version is journaled: the worst moment for a copy.
type collectBeforePut struct {
	Index
	st      *store.Store
	t       *testing.T
	collect store.MarkFunc
}

func (p *collectBeforePut) PutObject(ctx context.Context, o queue.Object) error {
	if _, err := p.st.Collect(ctx, p.collect); err != nil {
		p.t.Errorf("collect: %v", err)
	}
	return p.Index.PutObject(ctx, o)
}

func createUpload(t *testing.T, c *s3.Client, bucket, key string) *string {
	t.Helper()
	out, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	return out.UploadId
}
