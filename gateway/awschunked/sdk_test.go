package awschunked

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

const (
	sdkAccessKey = "AKIDCHUNKTEST"
	sdkSecret    = "chunk/test+secret"
	sdkTimeout   = 60 * time.Second
)

// upload is what the test server saw of one request.
type upload struct {
	header    http.Header
	raw       []byte // the body on the wire
	decoded   []byte
	checksums map[string]string
	err       error
}

// s3Server authenticates with sigv4 and decodes bodies with this package, the way the
// gateway will, and records what it decoded.
type s3Server struct {
	*httptest.Server
	v *sigv4.Verifier

	mu   sync.Mutex
	last upload
}

func newS3Server(t *testing.T, tls bool) *s3Server {
	t.Helper()
	s := &s3Server{v: sigv4.NewVerifier(sigv4.StaticCredentials{sdkAccessKey: sdkSecret})}
	if tls {
		s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	t.Cleanup(s.Close)
	return s
}

func (s *s3Server) serve(w http.ResponseWriter, r *http.Request) {
	var raw bytes.Buffer
	r.Body = readCloser{io.TeeReader(r.Body, &raw), r.Body}
	u := upload{header: r.Header.Clone()}
	res, err := s.v.Verify(r)
	if err == nil {
		u.decoded, u.checksums, err = decodeBody(r, res)
	}
	u.err = err
	u.raw = raw.Bytes()
	s.mu.Lock()
	s.last = u
	s.mu.Unlock()
	if err != nil {
		s3err.WriteError(w, r, err)
		return
	}
	w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	w.WriteHeader(http.StatusOK)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// decodeBody is the glue the gateway needs between sigv4 and this package.
func decodeBody(r *http.Request, res *sigv4.Result) ([]byte, map[string]string, error) {
	opts, chunked, err := OptionsFromHeader(r.Header)
	if err != nil {
		return nil, nil, err
	}
	if !chunked {
		var body io.Reader = r.Body
		if sigv4.IsSHA256Hex(res.PayloadHash) {
			if body, err = sigv4.NewPayloadReader(r.Body, res.PayloadHash); err != nil {
				return nil, nil, err
			}
		}
		b, err := io.ReadAll(body)
		return b, nil, err
	}
	if opts.Mode.signed() {
		opts.Signing = &Signing{Key: res.SigningKey, Seed: res.Signature, Scope: res.Scope.String(), AmzDate: res.AmzDate()}
	}
	dec := NewReader(r.Body, opts)
	b, err := io.ReadAll(dec)
	return b, dec.Checksums(), err
}

func (s *s3Server) lastUpload() upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *s3Server) client() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		UsePathStyle: true,
		HTTPClient:   s.Client(),
		Credentials: aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: sdkAccessKey, SecretAccessKey: sdkSecret}, nil
		})),
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig resolves to by default since 2025: CRC32 on
		// every upload, sent as a trailer over HTTPS.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
}

// onlyReader hides Seek and Len so the SDK cannot know the length: it then streams
// with Transfer-Encoding: chunked and no Content-Length.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestSDKUploadsOverTLS runs the real aws-sdk-go-v2 S3 client against the server over
// HTTPS, where it sends STREAMING-UNSIGNED-PAYLOAD-TRAILER bodies, and checks that
// the decoded bytes equal what was uploaded and the trailer checksum was verified.
func TestSDKUploadsOverTLS(t *testing.T) {
	srv := newS3Server(t, true)
	client := srv.client()
	ctx, cancel := context.WithTimeout(context.Background(), sdkTimeout)
	defer cancel()

	cases := []struct {
		name string
		size int
		algo types.ChecksumAlgorithm
		want string // checksum name expected in the trailer
		part bool
	}{
		{name: "put default", size: 1 << 20, want: "crc32"},
		{name: "put crc32c", size: 300 << 10, algo: types.ChecksumAlgorithmCrc32c, want: "crc32c"},
		{name: "put crc64nvme", size: 300<<10 + 7, algo: types.ChecksumAlgorithmCrc64nvme, want: "crc64nvme"},
		{name: "put sha1", size: 70 << 10, algo: types.ChecksumAlgorithmSha1, want: "sha1"},
		{name: "put sha256", size: 70 << 10, algo: types.ChecksumAlgorithmSha256, want: "sha256"},
		{name: "upload part", size: 5<<20 + 1, part: true, want: "crc32"},
		{name: "upload part crc64nvme", size: 1 << 20, part: true, algo: types.ChecksumAlgorithmCrc64nvme, want: "crc64nvme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := payload(tc.size)
			body := bytes.NewReader(data)
			var err error
			if tc.part {
				_, err = client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bucket"), Key: aws.String("big/object"),
					UploadId: aws.String("upload-1"), PartNumber: aws.Int32(3), Body: body, ChecksumAlgorithm: tc.algo})
			} else {
				_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("dir/object name"),
					Body: body, ChecksumAlgorithm: tc.algo})
			}
			u := srv.lastUpload()
			if err != nil || u.err != nil {
				t.Fatalf("client %v, server %v", err, u.err)
			}
			if got := u.header.Get("X-Amz-Content-Sha256"); got != ContentSHA256UnsignedTrailer {
				t.Fatalf("SDK sent x-amz-content-sha256 %q; this test needs %s", got, ContentSHA256UnsignedTrailer)
			}
			if !bytes.Equal(u.decoded, data) {
				t.Fatalf("decoded %d bytes, uploaded %d (raw body %d bytes)", len(u.decoded), len(data), len(u.raw))
			}
			h := checksumAlgorithms["x-amz-checksum-"+tc.want].new()
			h.Write(data)
			if want := base64.StdEncoding.EncodeToString(h.Sum(nil)); len(u.checksums) != 1 || u.checksums[tc.want] != want {
				t.Fatalf("checksums %v, want %s=%s", u.checksums, tc.want, want)
			}
		})
	}

	// Without a length the SDK can send neither Content-Length nor
	// x-amz-decoded-content-length; S3 refuses such a body, and so does the decoder.
	t.Run("put without length", func(t *testing.T) {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"),
			Body: onlyReader{bytes.NewReader(payload(3<<20 + 5))}})
		var apiErr interface{ ErrorCode() string }
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "MissingContentLength" {
			t.Fatalf("client saw %v", err)
		}
		if h := srv.lastUpload().header; h.Get("Content-Length") != "" || h.Get("X-Amz-Decoded-Content-Length") != "" {
			t.Fatalf("SDK sent a length: %v", h)
		}
	})
}

// TestSDKRejectsCorruptedBody flips one byte of a real SDK body in flight: the trailer
// checksum must catch it.
func TestSDKRejectsCorruptedBody(t *testing.T) {
	srv := newS3Server(t, true)
	inner := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = readCloser{&flipper{r: r.Body, at: 1000}, r.Body}
		inner.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithTimeout(context.Background(), sdkTimeout)
	defer cancel()
	_, err := srv.client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"),
		Body: bytes.NewReader(payload(64 << 10))})
	if codeOf(srv.lastUpload().err) != "BadDigest" || err == nil {
		t.Fatalf("client %v, server %v", err, srv.lastUpload().err)
	}
	var apiErr interface{ ErrorCode() string }
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "BadDigest" {
		t.Fatalf("client saw %v", err)
	}
}

// flipper flips one bit of the byte at offset at.
type flipper struct {
	r   io.Reader
	at  int64
	off int64
}

func (f *flipper) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.at >= f.off && f.at < f.off+int64(n) {
		p[f.at-f.off] ^= 1
	}
	f.off += int64(n)
	return n, err
}

// TestSDKPlainHTTP checks the other path the gateway sees: over HTTP the SDK signs the
// body's SHA-256 and sends no aws-chunked framing.
func TestSDKPlainHTTP(t *testing.T) {
	srv := newS3Server(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), sdkTimeout)
	defer cancel()
	data := payload(200 << 10)
	_, err := srv.client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader(data)})
	u := srv.lastUpload()
	if err != nil || u.err != nil || !bytes.Equal(u.decoded, data) {
		t.Fatalf("client %v, server %v, %d bytes", err, u.err, len(u.decoded))
	}
	if _, chunked, _ := OptionsFromHeader(u.header); chunked {
		t.Fatal("expected a plain body over HTTP")
	}
}

// TestCaptureSDKBodies stores small real SDK bodies under testdata when
// IPAS_UPDATE_TESTDATA=1, for TestCapturedSDKBodies and the fuzz corpus.
func TestCaptureSDKBodies(t *testing.T) {
	if os.Getenv("IPAS_UPDATE_TESTDATA") != "1" {
		t.Skip("set IPAS_UPDATE_TESTDATA=1 to refresh testdata")
	}
	srv := newS3Server(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), sdkTimeout)
	defer cancel()
	for _, algo := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc64nvme} {
		_, err := srv.client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"),
			Body: strings.NewReader("Hello, IPAS!"), ChecksumAlgorithm: algo})
		u := srv.lastUpload()
		if err != nil || u.err != nil {
			t.Fatalf("client %v, server %v", err, u.err)
		}
		var hdr strings.Builder
		for _, k := range []string{"X-Amz-Content-Sha256", "X-Amz-Trailer", "X-Amz-Decoded-Content-Length", "Content-Encoding"} {
			hdr.WriteString(k + ": " + u.header.Get(k) + "\n")
		}
		base := filepath.Join("testdata", "sdk-put-"+strings.ToLower(string(algo)))
		if err := os.WriteFile(base+".body", u.raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".hdr", []byte(hdr.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
