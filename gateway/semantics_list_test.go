package gateway

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestListingMarkers: what ListObjects v1 and v2 echo and hand back for paging.
func TestListingMarkers(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "mark")
	for _, k := range []string{"bar", "baz", "foo", "quxx"} {
		put(t, c, "mark", k, []byte(k))
	}
	v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("mark"), MaxKeys: aws.Int32(2)})
	// Prefix and Marker are sent empty, as S3 does; v1 entries name their owner.
	if err != nil || v1.Marker == nil || *v1.Marker != "" || v1.Prefix == nil || *v1.Prefix != "" ||
		aws.ToString(v1.NextMarker) != "baz" || !aws.ToBool(v1.IsTruncated) ||
		v1.Contents[0].Owner == nil || aws.ToString(v1.Contents[0].Owner.ID) != testAccessKey {
		t.Fatalf("v1 first page: %v marker %v prefix %v next %v", err, v1.Marker, v1.Prefix, v1.NextMarker)
	}
	v1, err = c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("mark"), Marker: v1.NextMarker})
	if err != nil || aws.ToString(v1.Marker) != "baz" || v1.NextMarker != nil || len(v1.Contents) != 2 {
		t.Fatalf("v1 second page: %v %+v", err, v1)
	}
	v2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("mark"), MaxKeys: aws.Int32(1)})
	if err != nil || v2.Prefix == nil || *v2.Prefix != "" || aws.ToString(v2.NextContinuationToken) != "bar" ||
		v2.ContinuationToken != nil || v2.StartAfter != nil || v2.Contents[0].Owner != nil {
		t.Fatalf("v2 first page: %v prefix %v token %v", err, v2.Prefix, v2.NextContinuationToken)
	}
	// An empty continuation token lists from the start and is echoed; fetch-owner names the owner.
	v2, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("mark"), ContinuationToken: aws.String(""),
		FetchOwner: aws.Bool(true)})
	if err != nil || v2.ContinuationToken == nil || *v2.ContinuationToken != "" || len(v2.Contents) != 4 ||
		v2.Contents[0].Owner == nil || aws.ToString(v2.Contents[0].Owner.ID) != testAccessKey {
		t.Fatalf("v2 with an empty token and fetch-owner: %v %+v", err, v2)
	}
	// start-after past the token wins.
	v2, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("mark"), ContinuationToken: v2.NextContinuationToken,
		StartAfter: aws.String("baz")})
	if err != nil || len(v2.Contents) != 2 || aws.ToString(v2.Contents[0].Key) != "foo" {
		t.Fatalf("v2 token and start-after: %v %+v", err, v2.Contents)
	}
	_, err = c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("mark"), MaxKeys: aws.Int32(-5)})
	wantErr(t, err, "InvalidArgument", "Argument -5 must be an integer between 0 and 2147483647")
	for _, key := range []string{"ctl\x01key", tokenEncodedPrefix + "x", "plain/key"} {
		if got, err := decodeContinuation(encodeContinuation(key)); err != nil || got != key {
			t.Fatalf("token round trip of %q: %q %v", key, got, err)
		}
	}
}

// TestListBucketsPaging: prefix, max-buckets and the continuation token, the
// region of each bucket and the requester as owner.
func TestListBucketsPaging(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	for _, b := range []string{"aaa", "bbb", "ccc", "pre-1", "pre-2"} {
		mustBucket(t, c, b)
	}
	names := func(bs []types.Bucket) (out []string) {
		for _, b := range bs {
			out = append(out, aws.ToString(b.Name))
		}
		return out
	}
	out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
	if err != nil || !slices.Equal(names(out.Buckets), []string{"aaa", "bbb"}) || aws.ToString(out.ContinuationToken) != "bbb" ||
		aws.ToString(out.Owner.ID) != testAccessKey || aws.ToString(out.Buckets[0].BucketRegion) != DefaultRegion {
		t.Fatalf("first page: %v %v token %v owner %v", err, names(out.Buckets), out.ContinuationToken, out.Owner)
	}
	out, err = c.ListBuckets(ctx, &s3.ListBucketsInput{ContinuationToken: out.ContinuationToken})
	if err != nil || !slices.Equal(names(out.Buckets), []string{"ccc", "pre-1", "pre-2"}) || out.ContinuationToken != nil || out.Prefix != nil {
		t.Fatalf("second page: %v %v", err, names(out.Buckets))
	}
	out, err = c.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String("pre-")})
	if err != nil || !slices.Equal(names(out.Buckets), []string{"pre-1", "pre-2"}) || aws.ToString(out.Prefix) != "pre-" {
		t.Fatalf("prefix: %v %v", err, names(out.Buckets))
	}
	other, err := g.clientAs(testAccessKey2, testSecret2).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || aws.ToString(other.Owner.ID) != testAccessKey2 {
		t.Fatalf("owner for the second key: %v %v", err, other.Owner)
	}
	for _, n := range []int32{0, -3, 2000000} {
		_, err = c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(n)})
		wantErr(t, err, "InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000.")
	}
}

// TestBucketErrors: S3's messages for bucket names, location constraints and a
// bucket that is not empty; an empty DeleteObjects deletes nothing.
func TestBucketErrors(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("aa")})
	wantErr(t, err, "InvalidBucketName", "The specified bucket is not valid.")
	for _, loc := range []types.BucketLocationConstraint{"us-west-1", "us-east-1"} {
		_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("located"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: loc}})
		wantErr(t, err, "InvalidLocationConstraint", "The specified location-constraint is not valid")
	}
	mustBucket(t, c, "full")
	put(t, c, "full", "k", []byte("x"))
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("full")})
	wantErr(t, err, "BucketNotEmpty", "The bucket you tried to delete is not empty.")
	del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("full"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{}}})
	if err != nil || len(del.Deleted) != 0 || len(del.Errors) != 0 {
		t.Fatalf("empty DeleteObjects: %v %+v", err, del)
	}
}

// TestListUploadsMarkers: uploads of a key in initiation order, key-marker and
// upload-id-marker, common prefixes counted against max-uploads.
func TestListUploadsMarkers(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "lus")
	var ids []string // bar×2, baz×3, foo/a, foo/b, zzz/c
	for _, k := range []string{"bar", "bar", "baz", "baz", "baz", "foo/a", "foo/b", "zzz/c"} {
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lus"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(cr.UploadId))
	}
	list := func(in *s3.ListMultipartUploadsInput) *s3.ListMultipartUploadsOutput {
		t.Helper()
		in.Bucket = aws.String("lus")
		out, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	uploadIDs := func(out *s3.ListMultipartUploadsOutput) (got []string) {
		for _, u := range out.Uploads {
			got = append(got, aws.ToString(u.UploadId))
		}
		return got
	}
	prefixes := func(out *s3.ListMultipartUploadsOutput) (got []string) {
		for _, p := range out.CommonPrefixes {
			got = append(got, aws.ToString(p.Prefix))
		}
		return got
	}
	if got := uploadIDs(list(&s3.ListMultipartUploadsInput{})); !slices.Equal(got, ids) {
		t.Fatalf("all uploads out of initiation order:\n%v\n%v", got, ids)
	}
	out := list(&s3.ListMultipartUploadsInput{MaxUploads: aws.Int32(3)})
	if !slices.Equal(uploadIDs(out), ids[:3]) || !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextKeyMarker) != "baz" ||
		aws.ToString(out.NextUploadIdMarker) != ids[2] {
		t.Fatalf("first page: %+v", out)
	}
	out = list(&s3.ListMultipartUploadsInput{KeyMarker: out.NextKeyMarker, UploadIdMarker: out.NextUploadIdMarker})
	if !slices.Equal(uploadIDs(out), ids[3:]) || aws.ToBool(out.IsTruncated) || out.NextKeyMarker != nil {
		t.Fatalf("second page: %v", uploadIDs(out))
	}
	// A key marker between keys, with an upload of the next key.
	if got := uploadIDs(list(&s3.ListMultipartUploadsInput{KeyMarker: aws.String("bat"), UploadIdMarker: aws.String(ids[3])})); !slices.Equal(got, ids[4:]) {
		t.Fatalf("key-marker bat after %s: %v", ids[3], got)
	}
	if got := uploadIDs(list(&s3.ListMultipartUploadsInput{KeyMarker: aws.String("bar")})); !slices.Equal(got, ids[2:]) {
		t.Fatalf("key-marker alone: %v", got)
	}
	if got := uploadIDs(list(&s3.ListMultipartUploadsInput{UploadIdMarker: aws.String("ignored")})); !slices.Equal(got, ids) {
		t.Fatalf("upload-id-marker alone: %v", got)
	}
	for _, marker := range []string{"not-an-id", ids[6]} {
		_, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lus"), KeyMarker: aws.String("bar"),
			UploadIdMarker: aws.String(marker)})
		wantErr(t, err, "InvalidArgument", "Invalid uploadId marker")
	}
	out = list(&s3.ListMultipartUploadsInput{Delimiter: aws.String("/"), MaxUploads: aws.Int32(6)})
	if !slices.Equal(uploadIDs(out), ids[:5]) || !slices.Equal(prefixes(out), []string{"foo/"}) || !aws.ToBool(out.IsTruncated) ||
		aws.ToString(out.NextKeyMarker) != "foo/" {
		t.Fatalf("delimiter page: %v %v truncated %v next %v", uploadIDs(out), prefixes(out), aws.ToBool(out.IsTruncated), out.NextKeyMarker)
	}
	out = list(&s3.ListMultipartUploadsInput{Delimiter: aws.String("/"), KeyMarker: out.NextKeyMarker, UploadIdMarker: out.NextUploadIdMarker})
	if len(out.Uploads) != 0 || !slices.Equal(prefixes(out), []string{"foo/", "zzz/"}) || aws.ToBool(out.IsTruncated) {
		t.Fatalf("delimiter second page: %v %v", uploadIDs(out), prefixes(out))
	}
	out = list(&s3.ListMultipartUploadsInput{Delimiter: aws.String("/"), Prefix: aws.String("foo/")})
	if len(out.Uploads) != 2 || len(out.CommonPrefixes) != 0 || aws.ToString(out.Prefix) != "foo/" {
		t.Fatalf("prefix foo/: %v %v", uploadIDs(out), prefixes(out))
	}
	_, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("lus"), MaxUploads: aws.Int32(-3)})
	wantErr(t, err, "InvalidArgument", "Argument -3 must be an integer between 0 and 2147483647")
}

// TestListingURLEncoding: encoding-type=url writes a space as %20, as S3 does.
func TestListingURLEncoding(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "enc")
	put(t, c, "enc", "dir one/my photo+1.jpg", []byte("x"))
	out, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("enc"), EncodingType: types.EncodingTypeUrl,
		Prefix: aws.String("dir one/")})
	if err != nil || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "dir%20one/my%20photo%2B1.jpg" ||
		aws.ToString(out.Prefix) != "dir%20one/" {
		t.Fatalf("url-encoded listing: %v %+v", err, out)
	}
}
