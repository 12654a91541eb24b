package gateway

import (
	"fmt"
	"net/url"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listAll pages through ListObjectsV2 (or v1) and returns keys and common prefixes.
func listAll(t *testing.T, c *s3.Client, v1 bool, bucket, prefix, delim, startAfter string, maxKeys int32) (keys, prefixes []string, pages int) {
	t.Helper()
	ctx := ctxT(t)
	var token, marker *string
	for {
		pages++
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		var contents []types.Object
		var cps []types.CommonPrefix
		var more bool
		if v1 {
			out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix),
				Delimiter: aws.String(delim), MaxKeys: aws.Int32(maxKeys), Marker: marker})
			if err != nil {
				t.Fatal(err)
			}
			contents, cps, more = out.Contents, out.CommonPrefixes, aws.ToBool(out.IsTruncated)
			next := out.NextMarker
			if next == nil && len(contents) > 0 {
				next = contents[len(contents)-1].Key
			}
			marker = next
		} else {
			in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix),
				Delimiter: aws.String(delim), MaxKeys: aws.Int32(maxKeys), ContinuationToken: token}
			if startAfter != "" {
				in.StartAfter = aws.String(startAfter)
			}
			out, err := c.ListObjectsV2(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if int(aws.ToInt32(out.KeyCount)) != len(out.Contents)+len(out.CommonPrefixes) {
				t.Fatalf("KeyCount %d for %d entries", aws.ToInt32(out.KeyCount), len(out.Contents)+len(out.CommonPrefixes))
			}
			contents, cps, more = out.Contents, out.CommonPrefixes, aws.ToBool(out.IsTruncated)
			token = out.NextContinuationToken
		}
		if len(contents)+len(cps) > int(maxKeys) {
			t.Fatalf("page of %d entries with max-keys %d", len(contents)+len(cps), maxKeys)
		}
		for _, o := range contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, p := range cps {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if !more {
			return keys, prefixes, pages
		}
	}
}

func TestListObjects(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "list")
	var all []string
	for _, k := range []string{"a", "b/1", "b/2", "b/3/x", "c/1", "d", "e/f/g", "z z", "é/1"} {
		all = append(all, k)
	}
	for i := range 25 {
		all = append(all, fmt.Sprintf("many/%02d", i))
	}
	slices.Sort(all)
	for _, k := range all {
		put(t, c, "list", k, []byte(k))
	}
	for _, v1 := range []bool{false, true} {
		for _, mk := range []int32{1, 2, 7, 1000} {
			keys, _, _ := listAll(t, c, v1, "list", "", "", "", mk)
			if !slices.Equal(keys, all) {
				t.Fatalf("v1=%v max-keys %d: %v", v1, mk, keys)
			}
			keys, prefixes, _ := listAll(t, c, v1, "list", "", "/", "", mk)
			if !slices.Equal(keys, []string{"a", "d", "z z"}) || !slices.Equal(prefixes, []string{"b/", "c/", "e/", "many/", "é/"}) {
				t.Fatalf("v1=%v max-keys %d delimiter /: keys %v prefixes %v", v1, mk, keys, prefixes)
			}
			keys, prefixes, _ = listAll(t, c, v1, "list", "b/", "/", "", mk)
			if !slices.Equal(keys, []string{"b/1", "b/2"}) || !slices.Equal(prefixes, []string{"b/3/"}) {
				t.Fatalf("v1=%v max-keys %d prefix b/: keys %v prefixes %v", v1, mk, keys, prefixes)
			}
		}
	}
	keys, _, _ := listAll(t, c, false, "list", "many/", "", "many/20", 3)
	if !slices.Equal(keys, []string{"many/21", "many/22", "many/23", "many/24"}) {
		t.Fatalf("start-after: %v", keys)
	}
	// encoding-type=url: keys come back encoded, and the SDK leaves them so.
	out, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("list"), Prefix: aws.String("z"),
		EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("encoded listing: %v", err)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(out.Contents[0].Key)); dec != "z z" || aws.ToString(out.Contents[0].Key) == "z z" {
		t.Fatalf("encoded key %q", aws.ToString(out.Contents[0].Key))
	}
	_, err = c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("list"), ContinuationToken: aws.String(tokenEncodedPrefix + "!!!")})
	wantCode(t, err, "InvalidArgument")
	_, err = c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("nolist")})
	wantCode(t, err, "NoSuchBucket")
}
