package gateway

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"

	"github.com/ipas/ipas/gateway/s3err"
)

// wantErr fails the test unless err carries the S3 error code and message.
func wantErr(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("error = %v, want %s %q", err, code, msg)
	}
}

// completeParts uploads parts to a new upload of bucket/key and completes it.
func completeParts(t *testing.T, c *s3.Client, bucket, key string, parts ...[]byte) *s3.CompleteMultipartUploadOutput {
	t.Helper()
	ctx := ctxT(t)
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var list []types.CompletedPart
	for i, p := range parts {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p)})
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag})
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: list}})
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// TestParseRange: what S3 serves for each Range header of a 100-byte object.
func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		rng         string
		size        int64
		off, length int64
		ranged      bool
		err         error
	}{
		{"bytes=,", 100, 0, 100, false, nil},
		{"bytes= -1", 100, 0, 100, false, nil},
		{"bytes=--1", 100, 0, 100, false, nil},
		{"bytes=0 -1", 100, 0, 100, false, nil},
		{"bytes=0--1", 100, 0, 100, false, nil},
		{"bytes=10-5", 100, 0, 100, false, nil},
		{"bytes=abc", 100, 0, 100, false, nil},
		{"foo=0-1", 100, 0, 100, false, nil},
		{"bytes=100-x", 100, 0, 100, false, nil},
		{"bytes=0-0,1-2", 100, 0, 100, false, nil},
		{"bytes=102-0", 100, 0, 100, false, nil},
		{"bytes=00-01", 100, 0, 2, true, nil},
		{"bytes=-1", 100, 99, 1, true, nil},
		{"bytes=-101", 100, 0, 100, true, nil},
		{"bytes=0-999999", 100, 0, 100, true, nil},
		{"bytes=50-", 100, 50, 50, true, nil},
		{"bytes=-0", 100, 0, 0, false, s3err.ErrInvalidRange},
		{"bytes=100-100", 100, 0, 0, false, s3err.ErrInvalidRange},
		// A 0-byte object: a suffix is ignored, anything else cannot be satisfied.
		{"bytes=-1", 0, 0, 0, false, nil},
		{"bytes=0-0", 0, 0, 0, false, s3err.ErrInvalidRange},
	} {
		off, length, ranged, err := parseRange(tc.rng, tc.size)
		if off != tc.off || length != tc.length || ranged != tc.ranged || !errors.Is(err, tc.err) && (err != nil || tc.err != nil) {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v, %v; want %d, %d, %v, %v", tc.rng, tc.size,
				off, length, ranged, err, tc.off, tc.length, tc.ranged, tc.err)
		}
	}
}

// TestGetPartNumber: GET and HEAD ?partNumber serve one part of a multipart object
// with its Content-Range and the part count, and a plain object as its own part 1.
func TestGetPartNumber(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "pnum")
	parts := [][]byte{content(1, 300), content(2, 200), content(3, 100)}
	completeParts(t, c, "pnum", "mp", parts...)
	off := 0
	for i, p := range parts {
		got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("mp"), PartNumber: aws.Int32(int32(i + 1))})
		wantRange := "bytes " + strconv.Itoa(off) + "-" + strconv.Itoa(off+len(p)-1) + "/600"
		if !bytes.Equal(got, p) || aws.ToString(out.ContentRange) != wantRange || aws.ToInt32(out.PartsCount) != 3 {
			t.Fatalf("part %d: %d bytes (equal %v), range %q, parts %v; want %q", i+1, len(got), bytes.Equal(got, p),
				aws.ToString(out.ContentRange), aws.ToInt32(out.PartsCount), wantRange)
		}
		off += len(p)
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("mp"), PartNumber: aws.Int32(4)})
	wantErr(t, err, "InvalidPartNumber", "The requested partnumber is not satisfiable.")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pnum"), Key: aws.String("mp"), PartNumber: aws.Int32(4)})
	wantCode(t, err, "RequestedRangeNotSatisfiable")
	_, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("mp")})
	if out.PartsCount != nil || out.ContentRange != nil {
		t.Fatalf("a whole GET reports parts count %v, range %v", out.PartsCount, out.ContentRange)
	}

	plain := content(4, 1234)
	put(t, c, "pnum", "plain", plain)
	got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("plain"), PartNumber: aws.Int32(1)})
	if !bytes.Equal(got, plain) || aws.ToString(out.ContentRange) != "bytes 0-1233/1234" || out.PartsCount != nil {
		t.Fatalf("plain part 1: range %q parts %v", aws.ToString(out.ContentRange), out.PartsCount)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("plain"), PartNumber: aws.Int32(2)})
	wantCode(t, err, "InvalidPartNumber")
	put(t, c, "pnum", "empty", nil)
	got, out = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("empty"), PartNumber: aws.Int32(1)})
	if len(got) != 0 || out.ContentRange != nil {
		t.Fatalf("empty part 1: %d bytes, range %v", len(got), out.ContentRange)
	}

	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("nothing"), PartNumber: aws.Int32(-3)})
	wantErr(t, err, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pnum"), Key: aws.String("plain"), PartNumber: aws.Int32(1),
		Range: aws.String("bytes=0-9")})
	wantErr(t, err, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter")

	// The raw status: a part is partial content.
	status, _, _ := rawDo(t, g, signed(t, http.MethodGet, g.URL+"/pnum/mp?partNumber=1", nil, testAccessKey, testSecret, time.Now()))
	if status != http.StatusPartialContent {
		t.Fatalf("GET ?partNumber=1: status %d, want 206", status)
	}
}

// TestStoredHeaders: website redirect, storage class and tag count on GET and
// HEAD; the metadata size limit; what a copy keeps.
func TestStoredHeaders(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "hdr")
	put(t, c, "hdr", "k", []byte("data"), func(in *s3.PutObjectInput) {
		in.WebsiteRedirectLocation = aws.String("/elsewhere")
		in.Tagging = aws.String("a=1&b=2")
		in.Metadata = map[string]string{"foo": "bar"}
	})
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("hdr"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.WebsiteRedirectLocation) != "/elsewhere" || head.StorageClass != types.StorageClassStandard ||
		aws.ToInt32(head.TagCount) != 2 || head.Metadata["foo"] != "bar" {
		t.Fatalf("HEAD: redirect %q class %q tags %d meta %v", aws.ToString(head.WebsiteRedirectLocation), head.StorageClass,
			aws.ToInt32(head.TagCount), head.Metadata)
	}
	_, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("hdr"), Key: aws.String("k")})
	if aws.ToString(out.WebsiteRedirectLocation) != "/elsewhere" || aws.ToInt32(out.TagCount) != 2 {
		t.Fatalf("GET: redirect %q tags %d", aws.ToString(out.WebsiteRedirectLocation), aws.ToInt32(out.TagCount))
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hdr"), Key: aws.String("bad"), Body: bytes.NewReader(nil),
		WebsiteRedirectLocation: aws.String("ftp://x")})
	wantCode(t, err, "InvalidRedirectLocation")
	long := map[string]string{"big": string(bytes.Repeat([]byte("a"), 2048))}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hdr"), Key: aws.String("bad"), Body: bytes.NewReader(nil), Metadata: long})
	wantErr(t, err, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size")
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("hdr"), Key: aws.String("bad"), Metadata: long})
	wantCode(t, err, "MetadataTooLarge")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("hdr"), Key: aws.String("bad"), CopySource: aws.String("hdr/k"), Metadata: long})
	wantCode(t, err, "MetadataTooLarge")

	// COPY keeps metadata and tags but not the redirect; REPLACE takes the request's.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("hdr"), Key: aws.String("c1"), CopySource: aws.String("hdr/k")}); err != nil {
		t.Fatal(err)
	}
	h1, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("hdr"), Key: aws.String("c1")})
	if err != nil || h1.WebsiteRedirectLocation != nil || aws.ToInt32(h1.TagCount) != 2 || h1.Metadata["foo"] != "bar" {
		t.Fatalf("COPY copy: %v redirect %v tags %d meta %v", err, h1.WebsiteRedirectLocation, aws.ToInt32(h1.TagCount), h1.Metadata)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("hdr"), Key: aws.String("c2"), CopySource: aws.String("hdr/k"),
		MetadataDirective: types.MetadataDirectiveReplace, WebsiteRedirectLocation: aws.String("https://example.com/"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("x=y")}); err != nil {
		t.Fatal(err)
	}
	h2, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("hdr"), Key: aws.String("c2")})
	if err != nil || aws.ToString(h2.WebsiteRedirectLocation) != "https://example.com/" || aws.ToInt32(h2.TagCount) != 1 || len(h2.Metadata) != 0 {
		t.Fatalf("REPLACE copy: %v redirect %q tags %d meta %v", err, aws.ToString(h2.WebsiteRedirectLocation), aws.ToInt32(h2.TagCount), h2.Metadata)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("hdr"), Key: aws.String("c3"), CopySource: aws.String("hdr/k"),
		TaggingDirective: types.TaggingDirective("invalid")})
	wantErr(t, err, "InvalidArgument", "Unknown tagging directive.")
}

// TestGetObjectAttributes: the attributes asked for, the parts of a multipart
// object, and the errors of S3.
func TestGetObjectAttributes(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "attr")
	p := put(t, c, "attr", "k", content(1, 4567))
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectSize,
		types.ObjectAttributesStorageClass, types.ObjectAttributesObjectParts, types.ObjectAttributesChecksum}
	out, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attr"), Key: aws.String("k"), ObjectAttributes: all})
	if err != nil {
		t.Fatal(err)
	}
	if `"`+aws.ToString(out.ETag)+`"` != aws.ToString(p.ETag) || aws.ToInt64(out.ObjectSize) != 4567 ||
		out.StorageClass != types.StorageClassStandard || out.LastModified == nil || out.ObjectParts != nil {
		t.Fatalf("attributes: %+v", out)
	}
	sum := put(t, c, "attr", "sum", content(4, 120), func(in *s3.PutObjectInput) { in.ChecksumAlgorithm = types.ChecksumAlgorithmSha256 })
	out, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attr"), Key: aws.String("sum"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum}})
	if err != nil || out.Checksum == nil || aws.ToString(out.Checksum.ChecksumSHA256) != aws.ToString(sum.ChecksumSHA256) ||
		out.Checksum.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("checksum attribute: %v %+v, want %s", err, out.Checksum, aws.ToString(sum.ChecksumSHA256))
	}
	completeParts(t, c, "attr", "mp", content(2, 10), content(3, 20))
	out, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attr"), Key: aws.String("mp"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts}, MaxParts: aws.Int32(1)})
	if err != nil || out.ObjectParts == nil || aws.ToInt32(out.ObjectParts.TotalPartsCount) != 2 || len(out.ObjectParts.Parts) != 1 ||
		!aws.ToBool(out.ObjectParts.IsTruncated) || aws.ToInt64(out.ObjectParts.Parts[0].Size) != 10 || out.ETag != nil {
		t.Fatalf("multipart attributes: %v %+v", err, out)
	}
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attr"), Key: aws.String("k"),
		ObjectAttributes: []types.ObjectAttributes{"Bogus"}})
	wantErr(t, err, "InvalidArgument", "Invalid attribute name specified.")
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attr"), Key: aws.String("k"),
		ObjectAttributes: []types.ObjectAttributes{}})
	wantCode(t, err, "InvalidRequest")
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attr"), Key: aws.String("none"), ObjectAttributes: all})
	wantCode(t, err, "NoSuchKey")
	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), ObjectAttributes: all})
	wantCode(t, err, "NoSuchBucket")
}
