package gateway

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/gateway/awschunked"
	"github.com/ipas/ipas/gateway/checksum"
)

var testCreds = aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}

// streamResult is what a client sees of a response: status, headers, and the
// children of the error document, if any.
type streamResult struct {
	status int
	header http.Header
	doc    map[string]string
}

func sendStream(t *testing.T, g *testGateway, req *http.Request) streamResult {
	t.Helper()
	resp, err := g.httpClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	res := streamResult{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode >= 300 && len(body) > 0 {
		res.doc = errorDoc(t, body)
	}
	return res
}

// unsignedStream returns a request with a STREAMING-UNSIGNED-PAYLOAD-TRAILER body
// written by hand, signed as the SDKs sign one; hdr is set before signing.
func unsignedStream(t *testing.T, method, url, body string, hdr map[string]string) *http.Request {
	t.Helper()
	req := mustReq(http.NewRequest(method, url, strings.NewReader(body)))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return signAs(t, req, testCreds, "us-east-1", awschunked.ContentSHA256UnsignedTrailer, time.Now())
}

// signedStream returns a PUT of data as a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body cut
// into chunks of the given sizes, every chunk signed with the SDK's stream signer.
// decoded is the x-amz-decoded-content-length sent.
func signedStream(t *testing.T, url string, data []byte, sizes []int, decoded int) *http.Request {
	t.Helper()
	const sigLen = 64
	framed := len("0;chunk-signature=") + sigLen + 4
	for _, n := range sizes {
		framed += len(strconv.FormatInt(int64(n), 16)+";chunk-signature=") + sigLen + 2 + n + 2
	}
	req := mustReq(http.NewRequest(http.MethodPut, url, nil))
	req.ContentLength = int64(framed)
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(decoded))
	req.Header.Set("Content-Encoding", "aws-chunked")
	at := time.Now().UTC()
	signAs(t, req, testCreds, "us-east-1", awschunked.ContentSHA256Signed, at)
	_, seedHex, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
	seed, err := hex.DecodeString(seedHex)
	if err != nil {
		t.Fatal(err)
	}
	signer := v4.NewStreamSigner(testCreds, "s3", "us-east-1", seed)
	var b bytes.Buffer
	chunk := func(p []byte) {
		sig, err := signer.GetSignature(context.Background(), nil, p, at)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%x;chunk-signature=%x\r\n%s\r\n", len(p), sig, p)
	}
	off := 0
	for _, n := range sizes {
		chunk(data[off : off+n])
		off += n
	}
	chunk(nil)
	if b.Len() != framed {
		t.Fatalf("framed %d bytes, announced %d", b.Len(), framed)
	}
	req.Body = io.NopCloser(&b)
	return req
}

// TestStreamingWithoutTrailer: S3 takes STREAMING-UNSIGNED-PAYLOAD-TRAILER without
// x-amz-trailer, a body with no trailer. The object then gets a computed CRC64NVME,
// or the checksum sent in a header, verified.
func TestStreamingWithoutTrailer(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "stream")
	url := g.URL + "/stream/"
	const body = "b\r\nhello world\r\n0\r\n\r\n"
	data := []byte("hello world")

	res := sendStream(t, g, unsignedStream(t, http.MethodPut, url+"plain", body, map[string]string{"X-Amz-Decoded-Content-Length": "11"}))
	if res.status != http.StatusOK || res.header.Get("X-Amz-Checksum-Crc64nvme") != sumOf(checksum.CRC64NVME, data) {
		t.Fatalf("status %d, headers %v, error %v", res.status, res.header, res.doc)
	}
	for _, a := range []checksum.Algorithm{checksum.CRC32, checksum.SHA256, checksum.XXHASH64} {
		key := "with-" + string(a)
		res := sendStream(t, g, unsignedStream(t, http.MethodPut, url+key, body, map[string]string{
			"X-Amz-Decoded-Content-Length": "11", a.Header(): sumOf(a, data)}))
		if res.status != http.StatusOK || res.header.Get(a.Header()) != sumOf(a, data) {
			t.Fatalf("%s: status %d, headers %v, error %v", a, res.status, res.header, res.doc)
		}
		got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("stream"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
		if !bytes.Equal(got, data) || aws.ToString(checksumOut(out, a)) != sumOf(a, data) {
			t.Fatalf("%s: read back %q", a, got)
		}
	}
}

// checksumOut returns the GetObject output field of a (for the algorithms used here).
func checksumOut(out *s3.GetObjectOutput, a checksum.Algorithm) *string {
	switch a {
	case checksum.CRC32:
		return out.ChecksumCRC32
	case checksum.SHA256:
		return out.ChecksumSHA256
	case checksum.XXHASH64:
		return out.ChecksumXXHASH64
	}
	return nil
}

// TestStreamingRejectedBodies sends broken aws-chunked bodies: each gets S3's error,
// with its extra elements, and stores nothing: a new key does not appear, an existing
// object keeps its content.
func TestStreamingRejectedBodies(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "stream")
	original := []byte("the original content")
	put(t, c, "stream", "existing", original)
	const (
		data     = "0123456789"
		crcName  = "x-amz-checksum-crc32"
		terminus = "The request body terminated unexpectedly"
		mismatch = "You did not provide the number of bytes specified by the Content-Length HTTP header"
	)
	crc := sumOf(checksum.CRC32, []byte(data))
	withCRC := map[string]string{"X-Amz-Decoded-Content-Length": "10", "X-Amz-Trailer": crcName}
	noTrailer := map[string]string{"X-Amz-Decoded-Content-Length": "10"}
	cases := []struct {
		name, body string
		hdr        map[string]string
		status     int
		code, msg  string
		elements   map[string]string
	}{
		{"ends after the final chunk", "a\r\n" + data + "\r\n0\r\n", withCRC, 400, "IncompleteBody", terminus, nil},
		{"ends after the trailer", "a\r\n" + data + "\r\n0\r\n" + crcName + ":" + crc + "\r\n", withCRC, 400, "IncompleteBody", terminus, nil},
		{"header without CR", "a\n" + data + "\r\n0\r\n\r\n", noTrailer, 400, "IncompleteBody", terminus, nil},
		{"size not hex", "x\r\n" + data + "\r\n0\r\n\r\n", noTrailer, 400, "IncompleteBody", terminus, nil},
		{"size past the data", "b\r\n" + data + "\r\n0\r\n\r\n", noTrailer, 400, "IncompleteBody", terminus, nil},
		{"decoded length larger", "a\r\n" + data + "\r\n0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "20"},
			400, "IncompleteBody", mismatch, map[string]string{"NumberBytesExpected": "20", "NumberBytesProvided": "10"}},
		{"decoded length smaller", "a\r\n" + data + "\r\n0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "4"},
			400, "IncompleteBody", mismatch, map[string]string{"NumberBytesExpected": "4"}},
		{"short chunk not last", "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", noTrailer,
			400, "InvalidChunkSizeError", "Only the last chunk is allowed to have a size less than 8192 bytes", map[string]string{"Chunk": "2", "BadChunkSize": "5"}},
		{"declared trailer not sent", "a\r\n" + data + "\r\n0\r\n\r\n", withCRC, 400, "MalformedTrailerError", "", nil},
		{"trailer not declared", "a\r\n" + data + "\r\n0\r\n" + crcName + ":" + crc + "\r\n\r\n", noTrailer, 400, "MalformedTrailerError", "", nil},
		{"trailer checksum wrong", "a\r\n" + data + "\r\n0\r\n" + crcName + ":" + sumOf(checksum.CRC32, []byte("x")) + "\r\n\r\n", withCRC, 400, "BadDigest", "", nil},
		{"header checksum wrong", "a\r\n" + data + "\r\n0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "10", crcName: sumOf(checksum.CRC32, []byte("x"))},
			400, "BadDigest", "", nil},
		{"no decoded length", "a\r\n" + data + "\r\n0\r\n\r\n", nil, 411, "MissingContentLength", "You must provide the Content-Length HTTP header.", nil},
		{"decoded length not a number", "a\r\n" + data + "\r\n0\r\n\r\n", map[string]string{"X-Amz-Decoded-Content-Length": "10x"},
			411, "MissingContentLength", "You must provide the Content-Length HTTP header.", nil},
	}
	for i, tc := range cases {
		for _, key := range []string{"new-" + strconv.Itoa(i), "existing"} {
			res := sendStream(t, g, unsignedStream(t, http.MethodPut, g.URL+"/stream/"+key, tc.body, tc.hdr))
			if res.status != tc.status || res.doc["Code"] != tc.code || (tc.msg != "" && res.doc["Message"] != tc.msg) {
				t.Fatalf("%s: status %d, error %v", tc.name, res.status, res.doc)
			}
			for name, want := range tc.elements {
				if res.doc[name] != want {
					t.Fatalf("%s: <%s> %q, want %q (%v)", tc.name, name, res.doc[name], want, res.doc)
				}
			}
			if tc.elements["NumberBytesProvided"] == "" && res.doc["NumberBytesProvided"] != "" {
				t.Fatalf("%s: unexpected NumberBytesProvided in %v", tc.name, res.doc)
			}
		}
		_, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("stream"), Key: aws.String("new-" + strconv.Itoa(i))})
		wantCode(t, err, "NotFound")
		if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("stream"), Key: aws.String("existing")}); !bytes.Equal(got, original) {
			t.Fatalf("%s: existing object now holds %q", tc.name, got)
		}
	}
}

// TestSignedStreamingChunks: signed chunks go through the same rules, and the data
// of an accepted body reads back.
func TestSignedStreamingChunks(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "stream")
	data := content(3, 20000)
	url := g.URL + "/stream/signed"

	res := sendStream(t, g, signedStream(t, url, data, []int{8192, 8192, 3616}, len(data)))
	if res.status != http.StatusOK {
		t.Fatalf("status %d, error %v", res.status, res.doc)
	}
	if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("stream"), Key: aws.String("signed")}); !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes that differ from the %d written", len(got), len(data))
	}

	res = sendStream(t, g, signedStream(t, url, data[:100], []int{10, 10, 80}, 100))
	if res.status != 400 || res.doc["Code"] != "InvalidChunkSizeError" || res.doc["Chunk"] != "2" || res.doc["BadChunkSize"] != "10" {
		t.Fatalf("short chunks: status %d, error %v", res.status, res.doc)
	}
	for _, n := range []int{8, 12} {
		res = sendStream(t, g, signedStream(t, url, data[:n], []int{n}, 10))
		if res.status != 400 || res.doc["Code"] != "IncompleteBody" || res.doc["NumberBytesExpected"] != "10" {
			t.Fatalf("%d bytes for 10: status %d, error %v", n, res.status, res.doc)
		}
	}
	if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("stream"), Key: aws.String("signed")}); !bytes.Equal(got, data) {
		t.Fatal("a rejected body replaced the object")
	}
}

// TestStreamingNotAllowed: only PutObject and UploadPart take a streaming body; S3
// refuses it elsewhere with InvalidRequest, even where the operation itself is not
// implemented.
func TestStreamingNotAllowed(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "stream")
	const body = "5\r\nabcde\r\n0\r\n\r\n"
	hdr := map[string]string{"X-Amz-Decoded-Content-Length": "5"}
	for _, tc := range []struct{ method, path string }{
		{http.MethodPut, "/stream?tagging"},
		{http.MethodPut, "/stream?cors"},
		{http.MethodPut, "/stream?versioning"},
		{http.MethodPut, "/stream?policy"},
		{http.MethodPut, "/other-bucket"},
		{http.MethodPost, "/stream?delete"},
		{http.MethodPut, "/stream/key?tagging"},
		{http.MethodPut, "/stream/key?acl"},
		{http.MethodPost, "/stream/key?uploads"},
	} {
		res := sendStream(t, g, unsignedStream(t, tc.method, g.URL+tc.path, body, hdr))
		if res.status != 400 || res.doc["Code"] != "InvalidRequest" || res.doc["Message"] != "The value of x-amz-content-sha256 header is invalid." {
			t.Fatalf("%s %s: status %d, error %v", tc.method, tc.path, res.status, res.doc)
		}
	}
	_, err := c.HeadBucket(ctxT(t), &s3.HeadBucketInput{Bucket: aws.String("other-bucket")})
	wantCode(t, err, "NotFound")
	if res := sendStream(t, g, unsignedStream(t, http.MethodPut, g.URL+"/stream/key", body, hdr)); res.status != http.StatusOK {
		t.Fatalf("PutObject: status %d, error %v", res.status, res.doc)
	}
}

// TestStreamingUploadPartWithoutTrailer: a part sent without a trailer gets the
// upload's checksum computed for a FULL_OBJECT upload, and is refused for a COMPOSITE
// one, which needs the part's checksum from the client.
func TestStreamingUploadPartWithoutTrailer(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "mpu")
	const body = "7\r\nabcdefg\r\n0\r\n\r\n"
	hdr := map[string]string{"X-Amz-Decoded-Content-Length": "7"}

	full := newMPU(t, c, "full", checksum.CRC32, types.ChecksumTypeFullObject)
	res := sendStream(t, g, unsignedStream(t, http.MethodPut, g.URL+"/mpu/full?partNumber=1&uploadId="+aws.ToString(full.id), body, hdr))
	if res.status != http.StatusOK || res.header.Get("X-Amz-Checksum-Crc32") != sumOf(checksum.CRC32, []byte("abcdefg")) {
		t.Fatalf("full object: status %d, headers %v, error %v", res.status, res.header, res.doc)
	}

	composite := newMPU(t, c, "composite", checksum.CRC32, types.ChecksumTypeComposite)
	res = sendStream(t, g, unsignedStream(t, http.MethodPut, g.URL+"/mpu/composite?partNumber=1&uploadId="+aws.ToString(composite.id), body, hdr))
	if res.status != 400 || res.doc["Code"] != "InvalidRequest" ||
		res.doc["Message"] != "Checksum Type mismatch occurred, expected checksum Type: CRC32, actual checksum Type: null" {
		t.Fatalf("composite: status %d, error %v", res.status, res.doc)
	}
	parts, err := c.ListParts(ctxT(t), &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("composite"), UploadId: composite.id})
	if err != nil || len(parts.Parts) != 0 {
		t.Fatalf("composite upload has parts %v (%v)", parts, err)
	}
}
