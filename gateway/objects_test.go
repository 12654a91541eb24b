package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func getBytes(t testing.TB, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(ctxT(t), in)
	if err != nil {
		t.Fatalf("get %s: %v", aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s: %v", aws.ToString(in.Key), err)
	}
	return b, out
}

// TestPutGetRoundTrip puts objects with the SDK's default checksums, plain over HTTP
// and aws-chunked with a CRC32 trailer over HTTPS, and reads back the same bytes.
func TestPutGetRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"http", false}, {"https", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var opts []gwOption
			if tc.tls {
				opts = append(opts, withTLS())
			}
			g := newGateway(t, opts...)
			c := g.client()
			mustBucket(t, c, "photos")
			for _, size := range []int{0, 1, 64 << 10, 3<<20 + 17} {
				data := content(size, size)
				key := "dir/obj-" + time.Duration(size).String()
				out, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key),
					Body: bytes.NewReader(data), ContentType: aws.String("image/jpeg"),
					Metadata: map[string]string{"owner": "alice"}})
				if err != nil {
					t.Fatalf("put %d bytes: %v", size, err)
				}
				sum := md5.Sum(data)
				if want := `"` + hexString(sum[:]) + `"`; aws.ToString(out.ETag) != want {
					t.Fatalf("ETag %s, want %s", aws.ToString(out.ETag), want)
				}
				got, gout := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String(key),
					ChecksumMode: types.ChecksumModeEnabled})
				if sha256.Sum256(got) != sha256.Sum256(data) {
					t.Fatalf("size %d: read back %d bytes that differ from what was written", size, len(got))
				}
				if aws.ToString(gout.ContentType) != "image/jpeg" || gout.Metadata["owner"] != "alice" {
					t.Fatalf("content type %q, metadata %v", aws.ToString(gout.ContentType), gout.Metadata)
				}
				if size > 0 && gout.ChecksumCRC32 == nil {
					t.Fatalf("size %d: whole-object GET with checksum mode returned no CRC32: %+v", size, gout.ResultMetadata)
				}
			}
		})
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

var _ = base64.StdEncoding
