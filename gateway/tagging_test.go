package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketTagging(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	tags := func(kv ...string) []types.Tag {
		var out []types.Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		return out
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tagged"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{Tags: tags("owner", "ann", "cost-center", "home/photos")}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	if err != nil || len(got.TagSet) != 2 || aws.ToString(got.TagSet[1].Value) != "home/photos" {
		t.Fatalf("tags from CreateBucket: %v %+v", err, got)
	}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"),
		Tagging: &types.Tagging{TagSet: tags("backup", "daily")}}); err != nil {
		t.Fatal(err)
	}
	g.restart()
	c = g.client()
	got, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	if err != nil || len(got.TagSet) != 1 || aws.ToString(got.TagSet[0].Key) != "backup" {
		t.Fatalf("tags after a restart: %v %+v", err, got)
	}
	var many []string
	for i := 0; i < 51; i++ {
		many = append(many, fmt.Sprint("k", i), "v")
	}
	for _, tc := range []struct {
		name string
		tags []types.Tag
		code string
		msg  string
	}{
		{"bad key", tags("user!name", "x"), "InvalidTag", "The TagKey you have provided is invalid"},
		{"long key", tags(strings.Repeat("k", 129), "x"), "InvalidTag", "The TagKey you have provided is invalid"},
		{"bad value", tags("k", "a;b"), "InvalidTag", "The TagValue you have provided is invalid"},
		{"duplicate", tags("k", "1", "k", "2"), "InvalidTag", "Cannot provide multiple Tags with the same key"},
		{"51 tags", tags(many...), "BadRequest", "Bucket tag count cannot be greater than 50"},
	} {
		_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("tagged"), Tagging: &types.Tagging{TagSet: tc.tags}})
		wantErr(t, err, tc.code, tc.msg)
	}
	if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String("tagged")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("tagged")})
	wantErr(t, err, "NoSuchTagSet", "The TagSet does not exist.")
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("badtags"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{Tags: tags("a*b", "x")}})
	wantErr(t, err, "InvalidTag", "The TagKey you have provided is invalid")
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("badtags")}); err == nil {
		t.Fatal("a bucket with refused tags was created")
	}
}

func TestObjectTagging(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "pics")
	body := content(5, 70<<10)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg"),
		Body: bytes.NewReader(body), Tagging: aws.String("album=summer")}); err != nil {
		t.Fatal(err)
	}
	before, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	tagsOf := func() string {
		t.Helper()
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg")})
		if err != nil {
			t.Fatal(err)
		}
		var kv []string
		for _, tg := range out.TagSet {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		return strings.Join(kv, ",")
	}
	if got := tagsOf(); got != "album=summer" {
		t.Fatalf("tags from x-amz-tagging: %q", got)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("year"), Value: aws.String("2026")},
			{Key: aws.String("who"), Value: aws.String("ann & bob")}}}}); err == nil {
		t.Fatal("a tag value with '&' was accepted")
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("year"), Value: aws.String("2026")},
			{Key: aws.String("who"), Value: aws.String("ann + bob")}}}}); err != nil {
		t.Fatal(err)
	}
	g.restart()
	c = g.client()
	if got := tagsOf(); got != "year=2026,who=ann + bob" {
		t.Fatalf("tags after PutObjectTagging and a restart: %q", got)
	}
	got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg")})
	if !bytes.Equal(got, body) || aws.ToInt32(out.TagCount) != 2 || !aws.ToTime(out.LastModified).Equal(aws.ToTime(before.LastModified)) ||
		aws.ToString(out.ETag) != aws.ToString(before.ETag) {
		t.Fatalf("object after tagging: %d bytes, %d tags, modified %v (was %v)", len(got), aws.ToInt32(out.TagCount), out.LastModified, before.LastModified)
	}
	var eleven []types.Tag
	for i := 0; i < 11; i++ {
		eleven = append(eleven, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg"),
		Tagging: &types.Tagging{TagSet: eleven}})
	wantErr(t, err, "BadRequest", "Object tags cannot be greater than 10")
	_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("pics"), Key: aws.String("nope"),
		Tagging: &types.Tagging{TagSet: eleven[:1]}})
	wantCode(t, err, "NoSuchKey")
	if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("pics"), Key: aws.String("a.jpg")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(); got != "" {
		t.Fatalf("tags after DeleteObjectTagging: %q", got)
	}
}

// TestTaggingHeader: x-amz-tagging on PUT is read as S3 reads it.
func TestTaggingHeader(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "thdr")
	for _, tc := range []struct{ header, want, code string }{
		{"&&", "", ""},
		{"key", "key=", ""},
		{"a=1&b", "a=1,b=", ""},
		{"key++key=value%20value", "key  key=value value", ""},
		{"=", "", "InvalidArgument"},
		{"k=1&k=2", "", "InvalidArgument"},
		{"key%", "", "InvalidArgument"},
		{"key?=v", "", "InvalidTag"},
		{"k=v!", "", "InvalidTag"},
	} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("thdr"), Key: aws.String("o"),
			Body: strings.NewReader("x"), Tagging: aws.String(tc.header)})
		if tc.code != "" {
			wantCode(t, err, tc.code)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.header, err)
		}
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("thdr"), Key: aws.String("o")})
		if err != nil {
			t.Fatal(err)
		}
		var kv []string
		for _, tg := range out.TagSet {
			kv = append(kv, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		if got := strings.Join(kv, ","); got != tc.want {
			t.Errorf("%q: tags %q, want %q", tc.header, got, tc.want)
		}
	}
}
