package gateway

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/store"
)

// TestSignedPayloadCheckedByStore: a PUT or UploadPart body whose signed SHA-256
// the store checks (instead of the body hashing it twice) is still refused when
// it does not match, whatever its size, and leaves no blob; a matching one is
// stored with that SHA-256 as its address.
func TestSignedPayloadCheckedByStore(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "sig")
	cr, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String("sig"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	partURL := fmt.Sprintf("%s/sig/mp?partNumber=1&uploadId=%s", g.URL, aws.ToString(cr.UploadId))
	for _, n := range []int{11, 3 << 20} {
		good, bad := content(30, n), content(31, n)
		for _, url := range []string{g.URL + "/sig/obj", partURL} {
			req := signed(t, "PUT", url, good, testAccessKey, testSecret, time.Now())
			req.Body = io.NopCloser(bytes.NewReader(bad))
			if status, code, _ := rawDo(t, g, req); status != 400 || code != "XAmzContentSHA256Mismatch" {
				t.Fatalf("%d-byte tampered body to %s: %d %s, want 400 XAmzContentSHA256Mismatch", n, url, status, code)
			}
			if ok, _ := g.store.Has(store.Digest(sha256.Sum256(bad))); ok {
				t.Fatalf("%d-byte tampered body to %s was stored", n, url)
			}
		}
		_, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("sig"), Key: aws.String("obj")})
		wantCode(t, err, "NotFound")
		lp, err := c.ListParts(ctxT(t), &s3.ListPartsInput{Bucket: aws.String("sig"), Key: aws.String("mp"), UploadId: cr.UploadId})
		if err != nil || len(lp.Parts) != 0 {
			t.Fatalf("parts after tampered UploadParts: %v, %d", err, len(lp.Parts))
		}
	}
	good := content(32, 3<<20)
	if status, code, body := rawDo(t, g, signed(t, "PUT", g.URL+"/sig/obj", good, testAccessKey, testSecret, time.Now())); status != 200 {
		t.Fatalf("signed PUT: %d %s: %s", status, code, body)
	}
	if ok, _ := g.store.Has(store.Digest(sha256.Sum256(good))); !ok {
		t.Fatal("signed PUT: no blob at the body's SHA-256")
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("sig"), Key: aws.String("obj")})
	if !bytes.Equal(got, good) {
		t.Fatalf("read back %d bytes that differ", len(got))
	}
}
