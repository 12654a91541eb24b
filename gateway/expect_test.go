package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestExpectContinueOnEmptyBody speaks HTTP on one connection as botocore does:
// every PUT sends Expect: 100-continue, and an answer other than 100 to an empty
// PUT would make botocore misread the next answer on that connection (the aws CLI
// then stalls for 60 s). Both PUTs must get 100 Continue, then 200.
func TestExpectContinueOnEmptyBody(t *testing.T) {
	g := newGateway(t)
	mustBucket(t, g.client(), "expect")
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(g.URL, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	for i, body := range []string{"", "after the empty one"} {
		req := signed(t, http.MethodPut, g.URL+"/expect/k"+strconv.Itoa(i), []byte(body), testAccessKey, testSecret, time.Now())
		req.Header.Set("Expect", "100-continue")
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		for _, want := range []int{http.StatusContinue, http.StatusOK} {
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Fatalf("PUT of %d bytes: read answer: %v", len(body), err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("PUT of %d bytes: status %d, want %d first", len(body), resp.StatusCode, want)
			}
		}
	}
	got, _ := getBytes(t, g.client(), &s3.GetObjectInput{Bucket: aws.String("expect"), Key: aws.String("k1")})
	if string(got) != "after the empty one" {
		t.Fatalf("read back %q", got)
	}
}

// TestUnknownExpectIsIgnored: S3 ignores an Expect header other than
// 100-continue, where net/http alone answers 417. Requests with every kind of
// Expect, Content-Length and chunked bodies (one carrying text that looks like
// a request head with an Expect header), go one after another over one
// connection, plain and over TLS; each is answered as without the header, and
// each body reads back byte-identical.
func TestUnknownExpectIsIgnored(t *testing.T) {
	trap := []byte("data\r\nExpect: 200\r\n\r\nPUT /expect/x HTTP/1.1\r\nExpect: 200\r\n\r\n")
	cases := []struct {
		name    string
		expect  []string // nil: no header
		chunked bool
		body    []byte
	}{
		{"200", []string{"200"}, false, []byte("garbage, but S3 succeeds")},
		{"empty", []string{""}, false, []byte("an empty Expect")},
		{"none", nil, false, []byte("no Expect at all")},
		{"word", []string{"something-else"}, true, trap},
		{"two values", []string{"200", "foo"}, false, trap},
		{"list with 100-continue", []string{"foo, 100-continue"}, false, []byte("continue among others")},
		{"after a chunked one", []string{"200"}, true, content(3, 70_000)},
		{"large", []string{"x"}, false, content(4, 300_000)},
	}
	for _, tlsOn := range []bool{false, true} {
		var opts []gwOption
		if tlsOn {
			opts = append(opts, withTLS())
		}
		g := newGateway(t, opts...)
		c := g.client()
		mustBucket(t, c, "expect")
		addr := strings.TrimPrefix(strings.TrimPrefix(g.URL, "http://"), "https://")
		raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn := raw
		if tlsOn {
			tc := g.httpClient().Transport.(*http.Transport).TLSClientConfig.Clone()
			tc.ServerName = "127.0.0.1"
			conn = tls.Client(raw, tc)
		}
		conn.SetDeadline(time.Now().Add(60 * time.Second))
		br := bufio.NewReader(conn)
		send := func(req *http.Request, expect []string) *http.Response {
			t.Helper()
			if expect != nil {
				req.Header["Expect"] = expect
			}
			if err := req.Write(conn); err != nil {
				t.Fatal(err)
			}
			for {
				resp, err := http.ReadResponse(br, req)
				if err != nil {
					t.Fatalf("read answer: %v", err)
				}
				if resp.StatusCode != http.StatusContinue { // 100-continue among the values
					return resp
				}
			}
		}
		for _, tc := range cases {
			key := "k-" + strings.ReplaceAll(tc.name, " ", "-")
			var req *http.Request
			if tc.chunked {
				req = signedChunked(t, g.URL+"/expect/"+key, tc.body)
			} else {
				req = signed(t, http.MethodPut, g.URL+"/expect/"+key, tc.body, testAccessKey, testSecret, time.Now())
			}
			resp := send(req, tc.expect)
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("tls %v, %s: PUT status %d %s", tlsOn, tc.name, resp.StatusCode, msg)
			}
			resp = send(signed(t, http.MethodGet, g.URL+"/expect/"+key, nil, testAccessKey, testSecret, time.Now()), tc.expect)
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, tc.body) {
				t.Fatalf("tls %v, %s: GET status %d, %d bytes back, want the %d sent", tlsOn, tc.name, resp.StatusCode, len(got), len(tc.body))
			}
		}
		conn.Close()
		if tlsOn {
			// Request.TLS is still set behind the wrapped connection: a
			// multipart Location says https.
			up, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String("expect"), Key: aws.String("mp")})
			if err != nil {
				t.Fatal(err)
			}
			part, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("expect"), Key: aws.String("mp"),
				UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("one part"))})
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.CompleteMultipartUpload(ctxT(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String("expect"), Key: aws.String("mp"),
				UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
					{PartNumber: aws.Int32(1), ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32}}}})
			if err != nil || !strings.HasPrefix(aws.ToString(out.Location), "https://") {
				t.Fatalf("Complete over TLS: %v, Location %q", err, aws.ToString(out.Location))
			}
		}
	}
}

// signedChunked is a signed PUT of body as the aws CLI sends one over HTTPS:
// aws-chunked with a CRC32 trailer, in an HTTP body with Transfer-Encoding:
// chunked and no Content-Length.
func signedChunked(t *testing.T, url string, body []byte) *http.Request {
	t.Helper()
	crc := make([]byte, 4)
	binary.BigEndian.PutUint32(crc, crc32.ChecksumIEEE(body))
	framed := fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(body), body, base64.StdEncoding.EncodeToString(crc))
	req, err := http.NewRequest(http.MethodPut, url, io.NopCloser(strings.NewReader(framed)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
	const payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	req.Header.Set("X-Amz-Content-Sha256", payload)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(body)))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, payload, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestPlainHTTPToTheTLSPort: a plain HTTP request to the HTTPS endpoint gets
// net/http's 400 that names the mistake, through the Expect rewriter too.
func TestPlainHTTPToTheTLSPort(t *testing.T) {
	g := newGateway(t, withTLS())
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(g.URL, "https://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, "GET /bucket/key HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(got), "HTTP/1.0 400 Bad Request") || !strings.Contains(string(got), "Client sent an HTTP request to an HTTPS server.") {
		t.Fatalf("plain HTTP to the TLS port: %q", got)
	}
}
