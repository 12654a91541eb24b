package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestManySignedMetadataHeaders: 70 x-amz-meta-* headers (well under S3's 2 KB of
// user metadata), each signed by the SDK, are stored and read back; a request
// signing far more headers than any client sends is refused with an S3 error.
func TestManySignedMetadataHeaders(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "meta")
	meta := map[string]string{}
	for i := range 70 {
		meta[fmt.Sprintf("m%02d", i)] = fmt.Sprintf("v%d", i)
	}
	put(t, c, "meta", "k", []byte("body"), func(in *s3.PutObjectInput) { in.Metadata = meta })
	head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("meta"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if len(head.Metadata) != len(meta) {
		t.Fatalf("HEAD shows %d metadata entries, want %d", len(head.Metadata), len(meta))
	}
	for k, v := range meta {
		if head.Metadata[k] != v {
			t.Fatalf("metadata %s = %q, want %q", k, head.Metadata[k], v)
		}
	}

	hdr := map[string]string{}
	for i := range 600 {
		hdr[fmt.Sprintf("X-Amz-Meta-H%03d", i)] = "v"
	}
	res, err := g.httpClient().Do(signedWith(t, http.MethodPut, g.URL+"/meta/many", []byte("x"), hdr))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !bytes.Contains(doc, []byte("SignedHeaders lists more than")) {
		t.Fatalf("600 signed headers: %d %s", res.StatusCode, doc)
	}
	if _, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("meta"), Key: aws.String("many")}); err == nil {
		t.Fatal("the refused request stored an object")
	}
	// Headers beyond the server's limit are refused before anything reads them.
	req := signedWith(t, http.MethodPut, g.URL+"/meta/huge", []byte("x"), map[string]string{"X-Amz-Meta-Big": strings.Repeat("v", 70<<10)})
	res, err = g.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("70 KiB of headers: status %d, want 431", res.StatusCode)
	}
}
