package gateway

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// signedWith is signed with extra headers, set before signing.
func signedWith(t *testing.T, method, url string, body []byte, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	sum := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", sum)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, sum, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestConditionalWrites: If-Match and If-None-Match on PutObject and
// CompleteMultipartUpload, with the combinations S3 does not implement.
func TestConditionalWrites(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "cond")
	etag := aws.ToString(put(t, c, "cond", "k", []byte("v1")).ETag)
	for _, tc := range []struct {
		key, ifMatch, ifNone, code string
	}{
		{"k", etag, "", ""},
		{"k", strings.Trim(etag, `"`), "", ""},
		{"k", "wrong", "", "PreconditionFailed"},
		{"k", "", "*", "PreconditionFailed"},
		{"k", etag, "*", "NotImplemented"},
		{"k", "", etag, "NotImplemented"},
		{"absent", etag, "", "NoSuchKey"},
		{"absent", "", "*", ""},
	} {
		for _, op := range []string{"put", "complete"} {
			etag = aws.ToString(put(t, c, "cond", "k", []byte("v1")).ETag) // undo the previous case
			if tc.key == "absent" {
				_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("cond"), Key: aws.String("absent")})
			}
			ifMatch, ifNone := optional(tc.ifMatch), optional(tc.ifNone)
			var err error
			if op == "put" {
				_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cond"), Key: aws.String(tc.key),
					Body: bytes.NewReader([]byte("v2")), IfMatch: ifMatch, IfNoneMatch: ifNone})
			} else {
				cr, cerr := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cond"), Key: aws.String(tc.key)})
				if cerr != nil {
					t.Fatal(cerr)
				}
				e := uploadPartTo(t, c, "cond", tc.key, cr.UploadId, 1, []byte("v2"))
				_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("cond"), Key: aws.String(tc.key),
					UploadId: cr.UploadId, IfMatch: ifMatch, IfNoneMatch: ifNone, MultipartUpload: &types.CompletedMultipartUpload{
						Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(e)}}}})
			}
			if errCode(err) != tc.code {
				t.Fatalf("%s %s If-Match %q If-None-Match %q: %v, want %q", op, tc.key, tc.ifMatch, tc.ifNone, err, tc.code)
			}
		}
	}
}

// uploadPartTo uploads part n of upload id of bucket/key and returns its ETag.
func uploadPartTo(t *testing.T, c *s3.Client, bucket, key string, id *string, n int32, data []byte) string {
	t.Helper()
	out, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("upload part %d: %v", n, err)
	}
	return aws.ToString(out.ETag)
}

func optional(v string) *string {
	if v == "" {
		return nil
	}
	return aws.String(v)
}

// TestDeleteConditions: a conditional DeleteObject deletes only the object it names.
func TestDeleteConditions(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "delc")
	for _, tc := range []struct {
		ifMatch string
		size    int64
		old     bool
		code    string
	}{
		{"wrong", 0, false, "PreconditionFailed"},
		{"", 99, false, "PreconditionFailed"},
		{"", 0, true, "PreconditionFailed"},
		{"match", 5, false, ""},
	} {
		out := put(t, c, "delc", "k", []byte("12345"))
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("delc"), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		in := &s3.DeleteObjectInput{Bucket: aws.String("delc"), Key: aws.String("k"), IfMatchLastModifiedTime: head.LastModified}
		if tc.ifMatch == "match" {
			in.IfMatch = out.ETag
		} else if tc.ifMatch != "" {
			in.IfMatch = aws.String(tc.ifMatch)
		}
		if tc.size != 0 {
			in.IfMatchSize = aws.Int64(tc.size)
		}
		if tc.old {
			in.IfMatchLastModifiedTime = aws.Time(time.Now().AddDate(-1, 0, 0))
		}
		_, err = c.DeleteObject(ctx, in)
		if errCode(err) != tc.code {
			t.Fatalf("%+v: %v", tc, err)
		}
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("delc"), Key: aws.String("k")})
		if deleted := err != nil; deleted != (tc.code == "") {
			t.Fatalf("%+v: deleted %v", tc, deleted)
		}
	}
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("delc"), Key: aws.String(strings.Repeat("k", 1025))})
	wantErr(t, err, "KeyTooLongError", "Your key is too long.")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("delc"), Key: aws.String(strings.Repeat("k", 1025))})
	wantCode(t, err, "BadRequest")
}

// TestExpectedBucketOwner: any of the tenant's access keys names the owner; any
// other value is AccessDenied, for the bucket and for a copy's source.
func TestExpectedBucketOwner(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "own")
	put(t, c, "own", "k", []byte("x"))
	_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("own"), Key: aws.String("k"), ExpectedBucketOwner: aws.String("stranger")})
	wantErr(t, err, "AccessDenied", "Access Denied.")
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("own"), Key: aws.String("c"), CopySource: aws.String("own/k"),
		ExpectedSourceBucketOwner: aws.String("stranger")})
	wantCode(t, err, "AccessDenied")
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("own"), ExpectedBucketOwner: aws.String("stranger")})
	wantCode(t, err, "AccessDenied")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("own"), Key: aws.String("c"), CopySource: aws.String("own/k"),
		ExpectedBucketOwner: aws.String(testAccessKey2), ExpectedSourceBucketOwner: aws.String(testAccessKey)}); err != nil {
		t.Fatalf("copy with the tenant's keys as owner: %v", err)
	}
	acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("own")})
	if err != nil || aws.ToString(acl.Owner.ID) != testAccessKey {
		t.Fatalf("bucket owner: %v %v", err, acl)
	}
}

// TestCompleteSemantics: the errors of CompleteMultipartUpload, its absolute
// Location, and the same answer for a completion repeated or raced.
func TestCompleteSemantics(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "cmp")
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cmp"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	e1 := uploadPartTo(t, c, "cmp", "k", cr.UploadId, 1, content(1, 5<<20))
	e2 := uploadPartTo(t, c, "cmp", "k", cr.UploadId, 2, content(2, 10))
	complete := func(parts ...types.CompletedPart) (*s3.CompleteMultipartUploadOutput, error) {
		return c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("cmp"), Key: aws.String("k"),
			UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	}
	part := func(n int32, etag string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	_, err = complete()
	wantErr(t, err, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
	_, err = complete(part(-4, e1))
	wantErr(t, err, "InvalidArgument", "PartNumber must be >= 1")
	_, err = complete(part(5, e1))
	wantErr(t, err, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
	_, err = complete(part(2, e2), part(1, e1))
	wantErr(t, err, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
	status, code, _ := rawDo(t, g, signedWith(t, http.MethodPost, g.URL+"/cmp/k?uploadId="+aws.ToString(cr.UploadId),
		[]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`), nil))
	if status != http.StatusBadRequest || code != "MalformedXML" {
		t.Fatalf("a part without ETag: %d %s", status, code)
	}

	// Five racing completions and a late retry all get the object's ETag.
	var wg sync.WaitGroup
	etags := make([]string, 5)
	errs := make([]error, 5)
	for i := range etags {
		wg.Go(func() {
			out, err := complete(part(1, e1), part(2, e2))
			errs[i] = err
			if err == nil {
				etags[i] = aws.ToString(out.ETag)
			}
		})
	}
	wg.Wait()
	again, err := complete(part(1, e1), part(2, e2))
	if err != nil {
		t.Fatalf("completion retried: %v", err)
	}
	for i := range etags {
		if errs[i] != nil || etags[i] != aws.ToString(again.ETag) {
			t.Fatalf("racing completion %d: %v %q, want %q", i, errs[i], etags[i], aws.ToString(again.ETag))
		}
	}
	if want := g.URL + "/cmp/k"; aws.ToString(again.Location) != want {
		t.Fatalf("Location %q, want %q", aws.ToString(again.Location), want)
	}
	// A different part list is not that completion.
	_, err = complete(part(1, e1))
	wantErr(t, err, "NoSuchUpload", "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")

	cr2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cmp"), Key: aws.String("small")})
	s1 := uploadPartTo(t, c, "cmp", "small", cr2.UploadId, 1, []byte("tiny"))
	s2 := uploadPartTo(t, c, "cmp", "small", cr2.UploadId, 2, []byte("tail"))
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("cmp"), Key: aws.String("small"),
		UploadId: cr2.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part(1, s1), part(2, s2)}}})
	wantErr(t, err, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
}

// TestUploadErrors: the order and messages of multipart errors.
func TestUploadErrors(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "upe")
	put(t, c, "upe", "src", content(1, 1000))
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("upe"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(nil)})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), UploadId: cr.UploadId})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("nobucket"), Key: aws.String("k"), UploadId: aws.String("x"),
		PartNumber: aws.Int32(1), CopySource: aws.String("bad")})
	wantCode(t, err, "NoSuchBucket")
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("upe"), Key: aws.String("other"), UploadId: cr.UploadId})
	wantCode(t, err, "NoSuchUpload")
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("upe"), Key: aws.String("k"), UploadId: cr.UploadId, MaxParts: aws.Int32(-3)})
	wantErr(t, err, "InvalidArgument", "Argument -3 must be an integer between 0 and 2147483647")
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("upe"), Key: aws.String("k"), UploadId: cr.UploadId,
		PartNumberMarker: aws.String("invalid")})
	wantErr(t, err, "InvalidArgument", "Provided invalid not an integer or within integer range")

	copyPart := func(source, rng string) error {
		in := &s3.UploadPartCopyInput{Bucket: aws.String("upe"), Key: aws.String("k"), UploadId: cr.UploadId,
			PartNumber: aws.Int32(1), CopySource: aws.String(source)}
		if rng != "" {
			in.CopySourceRange = aws.String(rng)
		}
		_, err := c.UploadPartCopy(ctx, in)
		return err
	}
	for _, tc := range []struct{ source, msg string }{
		{"bucket/%ZZ", "Invalid copy source encoding"},
		{"%", "Invalid copy source encoding"},
		{"192.168.1.1/foo", "Invalid copy source bucket name"},
		{"my-buc@k&()t/obj", "Invalid copy source bucket name"},
		{"bucket", "Invalid copy source object key"},
		{"bucket/", "Invalid copy source object key"},
	} {
		wantErr(t, copyPart(tc.source, ""), "InvalidArgument", tc.msg)
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("upe"), Key: aws.String("c"), CopySource: aws.String(tc.source)})
		wantErr(t, err, "InvalidArgument", tc.msg)
	}
	for _, rng := range []string{"byte=1-2", "bytes=200-100", "bytes=-2-300", "bytes=bb-", "bytes=5-"} {
		wantErr(t, copyPart("upe/src", rng), "InvalidArgument", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	}
	for _, rng := range []string{"bytes=100-1000", "bytes=1250-3000"} {
		wantErr(t, copyPart("upe/src", rng), "InvalidArgument", "Range specified is not valid for source object of size: 1000")
	}
	if err := copyPart("upe/src", "bytes=0-999"); err != nil {
		t.Fatalf("the whole source as a range: %v", err)
	}

	// Abort only if initiated at that second; a time in the future is ignored.
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("upe")})
	if err != nil || len(lu.Uploads) != 1 {
		t.Fatalf("list uploads: %v", err)
	}
	initiated := aws.ToTime(lu.Uploads[0].Initiated)
	_, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("upe"), Key: aws.String("k"), UploadId: cr.UploadId,
		IfMatchInitiatedTime: aws.Time(initiated.AddDate(-1, 0, 0))})
	wantErr(t, err, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
	if _, err = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("upe"), Key: aws.String("k"), UploadId: cr.UploadId,
		IfMatchInitiatedTime: aws.Time(initiated)}); err != nil {
		t.Fatalf("abort at the initiation time: %v", err)
	}
}

// TestPutResponses: PutObject reports the size it stored; an empty Content-MD5
// is an invalid digest, not a missing one.
func TestPutResponses(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "putr")
	out := put(t, c, "putr", "k", content(1, 100))
	if aws.ToInt64(out.Size) != 100 {
		t.Fatalf("PutObject size %v", out.Size)
	}
	status, code, _ := rawDo(t, g, signedWith(t, http.MethodPut, g.URL+"/putr/md5", []byte("data"), map[string]string{"Content-Md5": ""}))
	if status != http.StatusBadRequest || code != "InvalidDigest" {
		t.Fatalf("empty Content-MD5: %d %s", status, code)
	}
}
