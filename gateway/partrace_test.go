package gateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestPartUploadedTwiceLastWriteWins: part 1 is uploaded twice; the second
// upload finishes first. As in S3, the upload that finished last is the part:
// Complete takes its ETag, refuses the other's, and the object is its bytes.
func TestPartUploadedTwiceLastWriteWins(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "race")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("race"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	partURL := g.URL + "/race/obj?partNumber=1&uploadId=" + aws.ToString(up.UploadId)
	first, second := content(1, 2<<20), content(2, 2<<20)
	hc := g.httpClient()

	slow := signed(t, http.MethodPut, partURL, first, testAccessKey, testSecret, time.Now())
	pr, pw := io.Pipe()
	slow.Body, slow.GetBody = pr, nil
	slowDone := make(chan *http.Response, 1)
	go func() {
		resp, err := hc.Do(slow)
		if err != nil {
			t.Error(err)
			close(slowDone)
			return
		}
		slowDone <- resp
	}()
	if _, err := pw.Write(first[:1<<20]); err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(signed(t, http.MethodPut, partURL, second, testAccessKey, testSecret, time.Now()))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("second upload of part 1: %v %v", err, resp)
	}
	resp.Body.Close()
	secondETag := resp.Header.Get("ETag")
	pw.Write(first[1<<20:])
	pw.Close()
	resp = <-slowDone
	if resp == nil || resp.StatusCode != 200 {
		t.Fatalf("first upload of part 1: %v", resp)
	}
	resp.Body.Close()
	firstETag := resp.Header.Get("ETag")

	complete := func(etag string) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("race"), Key: aws.String("obj"),
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
				{PartNumber: aws.Int32(1), ETag: aws.String(etag)}}}})
		return err
	}
	wantCode(t, complete(secondETag), "InvalidPart")
	if err := complete(firstETag); err != nil {
		t.Fatalf("Complete with the last write's ETag: %v", err)
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("race"), Key: aws.String("obj")})
	if !bytes.Equal(got, first) || strings.Trim(firstETag, `"`) == strings.Trim(secondETag, `"`) {
		t.Fatalf("object: %d bytes, equal to the last write: %v", len(got), bytes.Equal(got, first))
	}
}
