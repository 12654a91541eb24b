package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ipas/ipas/gateway/checksum"
)

// sumOf is the base64 checksum of data with a.
func sumOf(a checksum.Algorithm, data []byte) string {
	h := a.New()
	h.Write(data)
	return checksum.Encode(h.Sum(nil))
}

// checksumField returns the field of a checksum-carrying SDK value that holds a.
func checksumField(a checksum.Algorithm, crc32, crc32c, crc64, sha1, sha256, sha512, md5, xx64, xx3, xx128 **string) **string {
	return map[checksum.Algorithm]**string{checksum.CRC32: crc32, checksum.CRC32C: crc32c, checksum.CRC64NVME: crc64,
		checksum.SHA1: sha1, checksum.SHA256: sha256, checksum.SHA512: sha512, checksum.MD5: md5,
		checksum.XXHASH64: xx64, checksum.XXHASH3: xx3, checksum.XXHASH128: xx128}[a]
}

func putSum(in *s3.PutObjectInput, a checksum.Algorithm) **string {
	return checksumField(a, &in.ChecksumCRC32, &in.ChecksumCRC32C, &in.ChecksumCRC64NVME, &in.ChecksumSHA1, &in.ChecksumSHA256,
		&in.ChecksumSHA512, &in.ChecksumMD5, &in.ChecksumXXHASH64, &in.ChecksumXXHASH3, &in.ChecksumXXHASH128)
}

func putOutSum(o *s3.PutObjectOutput, a checksum.Algorithm) string {
	return aws.ToString(*checksumField(a, &o.ChecksumCRC32, &o.ChecksumCRC32C, &o.ChecksumCRC64NVME, &o.ChecksumSHA1, &o.ChecksumSHA256,
		&o.ChecksumSHA512, &o.ChecksumMD5, &o.ChecksumXXHASH64, &o.ChecksumXXHASH3, &o.ChecksumXXHASH128))
}

func headSum(o *s3.HeadObjectOutput, a checksum.Algorithm) string {
	return aws.ToString(*checksumField(a, &o.ChecksumCRC32, &o.ChecksumCRC32C, &o.ChecksumCRC64NVME, &o.ChecksumSHA1, &o.ChecksumSHA256,
		&o.ChecksumSHA512, &o.ChecksumMD5, &o.ChecksumXXHASH64, &o.ChecksumXXHASH3, &o.ChecksumXXHASH128))
}

func partSum(in *s3.UploadPartInput, a checksum.Algorithm) **string {
	return checksumField(a, &in.ChecksumCRC32, &in.ChecksumCRC32C, &in.ChecksumCRC64NVME, &in.ChecksumSHA1, &in.ChecksumSHA256,
		&in.ChecksumSHA512, &in.ChecksumMD5, &in.ChecksumXXHASH64, &in.ChecksumXXHASH3, &in.ChecksumXXHASH128)
}

func completedSum(p *types.CompletedPart, a checksum.Algorithm) **string {
	return checksumField(a, &p.ChecksumCRC32, &p.ChecksumCRC32C, &p.ChecksumCRC64NVME, &p.ChecksumSHA1, &p.ChecksumSHA256,
		&p.ChecksumSHA512, &p.ChecksumMD5, &p.ChecksumXXHASH64, &p.ChecksumXXHASH3, &p.ChecksumXXHASH128)
}

func completeInSum(in *s3.CompleteMultipartUploadInput, a checksum.Algorithm) **string {
	return checksumField(a, &in.ChecksumCRC32, &in.ChecksumCRC32C, &in.ChecksumCRC64NVME, &in.ChecksumSHA1, &in.ChecksumSHA256,
		&in.ChecksumSHA512, &in.ChecksumMD5, &in.ChecksumXXHASH64, &in.ChecksumXXHASH3, &in.ChecksumXXHASH128)
}

func completeOutSum(o *s3.CompleteMultipartUploadOutput, a checksum.Algorithm) string {
	return aws.ToString(*checksumField(a, &o.ChecksumCRC32, &o.ChecksumCRC32C, &o.ChecksumCRC64NVME, &o.ChecksumSHA1, &o.ChecksumSHA256,
		&o.ChecksumSHA512, &o.ChecksumMD5, &o.ChecksumXXHASH64, &o.ChecksumXXHASH3, &o.ChecksumXXHASH128))
}

// noSDKChecksums makes a client send only the checksums a test sets itself.
func noSDKChecksums(o *s3.Options) {
	o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
}

// withHeader adds a raw header to one request.
func withHeader(name, value string) func(*s3.Options) {
	return func(o *s3.Options) { o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(name, value)) }
}

// TestPutObjectChecksums: every algorithm S3 knows is verified, stored and returned
// as a FULL_OBJECT checksum (only with checksum mode, never on a range), and listed;
// an object uploaded without one gets a CRC64NVME, as in S3.
func TestPutObjectChecksums(t *testing.T) {
	g := newGateway(t)
	c := g.client(noSDKChecksums)
	mustBucket(t, c, "sums")
	for i, a := range checksum.Algorithms {
		data := content(i, 1000+i)
		key := "obj-" + string(a)
		in := &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), Body: bytes.NewReader(data),
			ChecksumAlgorithm: types.ChecksumAlgorithm(a)}
		*putSum(in, a) = aws.String(sumOf(a, data))
		out, err := c.PutObject(ctxT(t), in)
		if err != nil {
			t.Fatalf("%s: put: %v", a, err)
		}
		if putOutSum(out, a) != sumOf(a, data) || out.ChecksumType != types.ChecksumTypeFullObject {
			t.Fatalf("%s: put returned %q type %q, want %q FULL_OBJECT", a, putOutSum(out, a), out.ChecksumType, sumOf(a, data))
		}
		head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || headSum(head, a) != sumOf(a, data) || head.ChecksumType != types.ChecksumTypeFullObject {
			t.Fatalf("%s: HEAD with checksum mode: %v, %q type %q", a, err, headSum(head, a), head.ChecksumType)
		}
		head, err = c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key)})
		if err != nil || headSum(head, a) != "" {
			t.Fatalf("%s: HEAD without checksum mode: %v, %q", a, err, headSum(head, a))
		}
		head, err = c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String(key),
			ChecksumMode: types.ChecksumModeEnabled, Range: aws.String("bytes=0-9")})
		if err != nil || headSum(head, a) != "" {
			t.Fatalf("%s: ranged HEAD: %v, %q", a, err, headSum(head, a))
		}
	}
	l, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("sums")})
	if err != nil || len(l.Contents) != len(checksum.Algorithms) {
		t.Fatalf("list: %v, %d entries", err, len(l.Contents))
	}
	for _, o := range l.Contents {
		want := strings.TrimPrefix(aws.ToString(o.Key), "obj-")
		if len(o.ChecksumAlgorithm) != 1 || string(o.ChecksumAlgorithm[0]) != want || o.ChecksumType != types.ChecksumTypeFullObject {
			t.Fatalf("list entry %s: algorithm %v type %q", aws.ToString(o.Key), o.ChecksumAlgorithm, o.ChecksumType)
		}
	}

	data := content(99, 4321)
	out := put(t, c, "sums", "default", data)
	if aws.ToString(out.ChecksumCRC64NVME) != sumOf(checksum.CRC64NVME, data) || out.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("default checksum %q type %q, want CRC64NVME %q", aws.ToString(out.ChecksumCRC64NVME), out.ChecksumType, sumOf(checksum.CRC64NVME, data))
	}
	// The SDK's own default (a CRC32, as a trailer over HTTPS) is what is stored then.
	sdk := g.client()
	out = put(t, sdk, "sums", "sdk-default", data)
	if aws.ToString(out.ChecksumCRC32) != sumOf(checksum.CRC32, data) || out.ChecksumCRC64NVME != nil {
		t.Fatalf("SDK default: crc32 %q crc64nvme %v", aws.ToString(out.ChecksumCRC32), out.ChecksumCRC64NVME)
	}
}

// TestPutObjectChecksumErrors: the S3 error for each way a checksum claim is wrong.
func TestPutObjectChecksumErrors(t *testing.T) {
	g := newGateway(t)
	c := g.client(noSDKChecksums)
	mustBucket(t, c, "sums")
	data := []byte("checksum me")
	for _, tc := range []struct {
		name string
		set  func(*s3.PutObjectInput)
		opt  func(*s3.Options)
		code string
		msg  string
	}{
		{"wrong value", func(in *s3.PutObjectInput) { in.ChecksumSHA256 = aws.String(sumOf(checksum.SHA256, []byte("other"))) }, nil,
			"BadDigest", "The SHA256 you specified did not match the calculated checksum."},
		{"not base64", func(in *s3.PutObjectInput) { in.ChecksumCRC32 = aws.String("invalid_base64!") }, nil,
			"InvalidRequest", "Value for x-amz-checksum-crc32 header is invalid."},
		{"wrong length", func(in *s3.PutObjectInput) { in.ChecksumXXHASH128 = aws.String("AAAAAA==") }, nil,
			"InvalidRequest", "Value for x-amz-checksum-xxhash128 header is invalid."},
		{"empty", func(in *s3.PutObjectInput) { in.ChecksumMD5 = aws.String("") }, nil,
			"InvalidRequest", "Value for x-amz-checksum-md5 header is invalid."},
		{"two checksums", func(in *s3.PutObjectInput) {
			in.ChecksumCRC32, in.ChecksumSHA1 = aws.String(sumOf(checksum.CRC32, data)), aws.String(sumOf(checksum.SHA1, data))
		}, nil, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."},
		{"algorithm and header differ", func(in *s3.PutObjectInput) {
			in.ChecksumAlgorithm, in.ChecksumCRC32C = types.ChecksumAlgorithmCrc32, aws.String(sumOf(checksum.CRC32C, data))
		}, nil, "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid."},
		{"unknown algorithm header", nil, withHeader("X-Amz-Checksum-Crc16", "AAA="),
			"InvalidRequest", "The algorithm type you specified in x-amz-checksum- header is invalid."},
	} {
		in := &s3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("k"), Body: bytes.NewReader(data)}
		if tc.set != nil {
			tc.set(in)
		}
		var opts []func(*s3.Options)
		if tc.opt != nil {
			opts = append(opts, tc.opt)
		}
		_, err := c.PutObject(ctxT(t), in, opts...)
		if errCode(err) != tc.code || !strings.Contains(fmt.Sprint(err), tc.msg) {
			t.Errorf("%s: error %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
	if _, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("sums"), Key: aws.String("k")}); errCode(err) != "NotFound" {
		t.Fatalf("a refused PUT left an object: %v", err)
	}
}

// signRequest signs req, whose body is body, with the test credentials.
func signRequest(t *testing.T, req *http.Request, body []byte) {
	t.Helper()
	sum := emptySHA256
	if len(body) > 0 {
		sum = sha256Hex(body)
	}
	req.Header.Set("X-Amz-Content-Sha256", sum)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, sum, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// TestGetChecksumModeHeader: the checksum headers of a GET follow x-amz-checksum-mode
// exactly, on the wire.
func TestGetChecksumModeHeader(t *testing.T) {
	g := newGateway(t)
	c := g.client(noSDKChecksums)
	mustBucket(t, c, "sums")
	put(t, c, "sums", "k", []byte("hello"))
	for _, mode := range []string{"", "ENABLED"} {
		req, _ := http.NewRequest(http.MethodGet, g.URL+"/sums/k", nil)
		if mode != "" {
			req.Header.Set("X-Amz-Checksum-Mode", mode)
		}
		signRequest(t, req, nil)
		resp, err := g.httpClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("X-Amz-Checksum-Crc64nvme")
		if (mode != "") != (got == sumOf(checksum.CRC64NVME, []byte("hello"))) || (mode == "") != (resp.Header.Get("X-Amz-Checksum-Type") == "") {
			t.Fatalf("mode %q: crc64nvme %q, type %q", mode, got, resp.Header.Get("X-Amz-Checksum-Type"))
		}
	}
}
