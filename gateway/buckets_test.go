package gateway

import (
	"bytes"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestBuckets(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	for _, bad := range []string{"Upper", "ab", "a..b", "192.168.1.1", "xn--abc", "-start"} {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bad)})
		wantCode(t, err, "InvalidBucketName")
	}
	mustBucket(t, c, "alpha")
	mustBucket(t, c, "beta.2")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alpha")})
	wantCode(t, err, "BucketAlreadyOwnedByYou")

	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil || b.CreationDate.IsZero() {
			t.Fatalf("bucket %s has no creation date", aws.ToString(b.Name))
		}
	}
	if !slices.Equal(names, []string{"alpha", "beta.2"}) {
		t.Fatalf("ListBuckets = %v", names)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatalf("HeadBucket: %v", err)
	}
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NotFound") // HEAD has no body: the SDK names the status
	loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("GetBucketLocation = %q, %v; want \"\" for us-east-1", loc.LocationConstraint, err)
	}
	_, err = c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NoSuchBucket")

	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k"),
		Body: bytes.NewReader([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantCode(t, err, "BucketNotEmpty")
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatalf("delete empty bucket: %v", err)
	}
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha")})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k"),
		Body: bytes.NewReader([]byte("x"))})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("alpha"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket")
}

// TestVirtualHost addresses the bucket by host name when a domain is configured, and
// by path as always.
func TestVirtualHost(t *testing.T) {
	g := newGateway(t, withConfig(func(c *Config) { c.Domain = "s3.local" }))
	c := g.client()
	mustBucket(t, c, "vhost")
	if _, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b"),
		Body: bytes.NewReader([]byte("virtual"))}); err != nil {
		t.Fatal(err)
	}
	// The SDK puts the bucket into the host; a resolver-free way to reach it is to
	// dial the gateway for every host name.
	vc := g.client(func(o *s3.Options) {
		o.UsePathStyle = false
		o.BaseEndpoint = aws.String("http://s3.local:" + portOf(g.URL))
		o.HTTPClient = dialTo(g.URL)
	})
	got, _ := getBytes(t, vc, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("a/b")})
	if string(got) != "virtual" {
		t.Fatalf("virtual-host GET = %q", got)
	}
}
