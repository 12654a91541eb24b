package gateway

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func put(t testing.TB, c *s3.Client, bucket, key string, data []byte, opts ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}
	for _, o := range opts {
		o(in)
	}
	out, err := c.PutObject(ctxT(t), in)
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return out
}

// TestRangesAndChecksums: a range returns exactly its bytes and never the whole
// object's checksum, which the SDK would then fail to validate.
func TestRangesAndChecksums(t *testing.T) {
	g := newGateway(t, withTLS())
	c := g.client()
	mustBucket(t, c, "bkt")
	data := content(1, 1<<20)
	put(t, c, "bkt", "k", data, func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 })
	for _, tc := range []struct {
		rng        string
		start, end int
	}{
		{"bytes=0-0", 0, 1}, {"bytes=10-99", 10, 100}, {"bytes=1000-", 1000, 1 << 20},
		{"bytes=-5", 1<<20 - 5, 1 << 20}, {"bytes=5-99999999", 5, 1 << 20},
	} {
		got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
			Range: aws.String(tc.rng), ChecksumMode: types.ChecksumModeEnabled})
		if !bytes.Equal(got, data[tc.start:tc.end]) {
			t.Fatalf("%s: got %d bytes, want bytes [%d,%d)", tc.rng, len(got), tc.start, tc.end)
		}
		if out.ChecksumSHA256 != nil || out.ChecksumCRC32 != nil {
			t.Fatalf("%s: ranged GET carries a whole-object checksum", tc.rng)
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end-1, 1<<20); aws.ToString(out.ContentRange) != want {
			t.Fatalf("%s: Content-Range %q, want %q", tc.rng, aws.ToString(out.ContentRange), want)
		}
	}
	_, err := c.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String("bytes=2000000-")})
	wantCode(t, err, "InvalidRange")
	head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || head.ChecksumSHA256 == nil || aws.ToInt64(head.ContentLength) != 1<<20 {
		t.Fatalf("HEAD: %v, sha256 %v, length %d", err, head.ChecksumSHA256, aws.ToInt64(head.ContentLength))
	}
	// An overwrite replaces the checksums: the old SHA-256 must not survive.
	put(t, c, "bkt", "k", []byte("small"), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c })
	head, err = c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || head.ChecksumSHA256 != nil || head.ChecksumCRC32C == nil {
		t.Fatalf("HEAD after overwrite: %v, sha256 %v, crc32c %v", err, head.ChecksumSHA256, head.ChecksumCRC32C)
	}
}

func TestBadDigests(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", []byte("original"))
	data := []byte("new content")
	wrongMD5 := md5.Sum([]byte("other"))
	_, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: bytes.NewReader(data), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrongMD5[:]))})
	wantCode(t, err, "BadDigest")
	_, err = c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: bytes.NewReader(data), ContentMD5: aws.String("notbase64!")})
	wantCode(t, err, "InvalidDigest")
	wrongCRC := make([]byte, 4)
	crc := crc32.ChecksumIEEE([]byte("other"))
	wrongCRC[0], wrongCRC[1], wrongCRC[2], wrongCRC[3] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	for _, tls := range []bool{false, true} {
		_ = tls
		_, err = c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
			Body: bytes.NewReader(data), ChecksumCRC32: aws.String(base64.StdEncoding.EncodeToString(wrongCRC))})
		wantCode(t, err, "BadDigest")
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if string(got) != "original" {
		t.Fatalf("after rejected PUTs the object is %q, want the original", got)
	}
	good := md5.Sum(data)
	put(t, c, "bkt", "k", data, func(in *s3.PutObjectInput) {
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(good[:]))
	})
}

func TestMetadataAndConditionals(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "bkt")
	out := put(t, c, "bkt", "k", []byte("v1"), func(in *s3.PutObjectInput) {
		in.Metadata = map[string]string{"owner": "alice", "Mixed-Case": "x"}
		in.ContentType = aws.String("text/plain")
		in.CacheControl = aws.String("max-age=60")
		in.ContentDisposition = aws.String("attachment")
		in.ContentLanguage = aws.String("en")
	})
	etag := aws.ToString(out.ETag)
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if head.Metadata["owner"] != "alice" || head.Metadata["mixed-case"] != "x" || aws.ToString(head.CacheControl) != "max-age=60" ||
		aws.ToString(head.ContentDisposition) != "attachment" || aws.ToString(head.ContentLanguage) != "en" ||
		aws.ToString(head.ContentType) != "text/plain" {
		t.Fatalf("HEAD metadata %v, %+v", head.Metadata, head)
	}
	raw := head.ResultMetadata
	_ = raw
	// A PUT replaces all metadata.
	out = put(t, c, "bkt", "k", []byte("v2"))
	head, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil || len(head.Metadata) != 0 || head.CacheControl != nil || aws.ToString(head.ContentType) == "text/plain" {
		t.Fatalf("after overwrite: %v, metadata %v, cache-control %v, type %q", err, head.Metadata, head.CacheControl, aws.ToString(head.ContentType))
	}
	if aws.ToString(out.ETag) == etag {
		t.Fatal("ETag did not change with the content")
	}
	etag = aws.ToString(out.ETag)
	past, future := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name string
		in   s3.GetObjectInput
		code string
	}{
		{"if-match ok", s3.GetObjectInput{IfMatch: aws.String(etag)}, ""},
		{"if-match wrong", s3.GetObjectInput{IfMatch: aws.String(`"0000"`)}, "PreconditionFailed"},
		{"if-none-match hit", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, "NotModified"},
		{"if-none-match miss", s3.GetObjectInput{IfNoneMatch: aws.String(`"0000"`)}, ""},
		{"if-modified-since future", s3.GetObjectInput{IfModifiedSince: &future}, "NotModified"},
		{"if-modified-since past", s3.GetObjectInput{IfModifiedSince: &past}, ""},
		{"if-unmodified-since past", s3.GetObjectInput{IfUnmodifiedSince: &past}, "PreconditionFailed"},
		{"if-unmodified-since future", s3.GetObjectInput{IfUnmodifiedSince: &future}, ""},
		{"if-match wins over if-unmodified-since", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: &past}, ""},
	} {
		in := tc.in
		in.Bucket, in.Key = aws.String("bkt"), aws.String("k")
		o, err := c.GetObject(ctx, &in)
		if err == nil {
			o.Body.Close()
		}
		if errCode(err) != tc.code || (tc.code == "" && err != nil) {
			t.Fatalf("%s: err %v, want code %q", tc.name, err, tc.code)
		}
	}
	// Conditional PUT.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x")), IfNoneMatch: aws.String("*")})
	wantCode(t, err, "PreconditionFailed")
	put(t, c, "bkt", "new", []byte("x"), func(in *s3.PutObjectInput) { in.IfNoneMatch = aws.String("*") })
}

func TestCopyAndDelete(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "src")
	mustBucket(t, c, "dst")
	data := content(7, 200<<10)
	put(t, c, "src", "a b/c+d", data, func(in *s3.PutObjectInput) {
		in.Metadata = map[string]string{"owner": "alice"}
		in.ContentType = aws.String("text/x")
		in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32
	})
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"),
		CopySource: aws.String("src/a%20b/c%2Bd")})
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"), ChecksumMode: types.ChecksumModeEnabled})
	if !bytes.Equal(got, data) || out.Metadata["owner"] != "alice" || aws.ToString(out.ContentType) != "text/x" ||
		aws.ToString(out.ETag) != aws.ToString(cp.CopyObjectResult.ETag) || out.ChecksumCRC32 == nil {
		t.Fatalf("COPY directive: %d bytes, metadata %v, type %q, etag %s vs %s", len(got), out.Metadata,
			aws.ToString(out.ContentType), aws.ToString(out.ETag), aws.ToString(cp.CopyObjectResult.ETag))
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"),
		CopySource: aws.String("dst/copy")})
	wantCode(t, err, "InvalidRequest")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy"),
		CopySource: aws.String("dst/copy"), MetadataDirective: types.MetadataDirectiveReplace,
		Metadata: map[string]string{"owner": "bob"}, ContentType: aws.String("text/y")}); err != nil {
		t.Fatalf("REPLACE in place: %v", err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("copy")})
	if err != nil || head.Metadata["owner"] != "bob" || aws.ToString(head.ContentType) != "text/y" {
		t.Fatalf("REPLACE directive: %v, %v %q", err, head.Metadata, aws.ToString(head.ContentType))
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantCode(t, err, "NoSuchKey")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/a b/c+d"),
		CopySourceIfMatch: aws.String(`"nope"`)})
	wantCode(t, err, "PreconditionFailed")

	for i := range 5 {
		put(t, c, "dst", fmt.Sprintf("del/%d", i), []byte("x"))
	}
	dout, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("dst"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("del/0")}, {Key: aws.String("del/1")}, {Key: aws.String("never")}}}})
	if err != nil || len(dout.Deleted) != 3 || len(dout.Errors) != 0 {
		t.Fatalf("DeleteObjects: %v, deleted %d, errors %v", err, len(dout.Deleted), dout.Errors)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("del/0")})
	wantCode(t, err, "NoSuchKey")
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("dst"), Key: aws.String("del/2")}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dst"), Prefix: aws.String("del/")})
	if err != nil || len(l.Contents) != 2 {
		t.Fatalf("after deletes %d objects remain (%v), want 2", len(l.Contents), err)
	}
}
