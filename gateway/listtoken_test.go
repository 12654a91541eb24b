package gateway

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestContinuationTokenMustBeIssued: a ListObjectsV2 continuation token that the
// server did not hand out is 400 InvalidArgument, as in S3, instead of a listing
// from wherever it points. A token handed out still works after its key is
// deleted, and after a restart while its key exists.
func TestContinuationTokenMustBeIssued(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "tok")
	for _, k := range []string{"a", "b", "c", "d"} {
		put(t, c, "tok", k, []byte(k))
	}
	list := func(tok *string) (*s3.ListObjectsV2Output, error) {
		return c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("tok"), MaxKeys: aws.Int32(1), ContinuationToken: tok})
	}
	for _, bad := range []string{"garbage", "zzz", tokenEncodedPrefix + "Z2FyYmFnZQ", tokenEncodedPrefix + "!!!"} {
		_, err := list(aws.String(bad))
		wantErr(t, err, "InvalidArgument", "The continuation token provided is incorrect.")
	}
	first, err := list(nil)
	if err != nil || first.NextContinuationToken == nil {
		t.Fatalf("first page: %v", err)
	}
	second, err := list(first.NextContinuationToken)
	if err != nil || len(second.Contents) != 1 || aws.ToString(second.Contents[0].Key) != "b" {
		t.Fatalf("second page: %v", err)
	}
	// The last key of the first page deleted before the next page is asked for
	// (aws s3 sync --delete does that): the token stays good.
	if _, err := c.DeleteObject(ctxT(t), &s3.DeleteObjectInput{Bucket: aws.String("tok"), Key: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	if again, err := list(first.NextContinuationToken); err != nil || aws.ToString(again.Contents[0].Key) != "b" {
		t.Fatalf("token of a deleted key: %v", err)
	}
	g.restart()
	c = g.client()
	if third, err := list(second.NextContinuationToken); err != nil || aws.ToString(third.Contents[0].Key) != "c" {
		t.Fatalf("token after a restart: %v", err)
	}
}
