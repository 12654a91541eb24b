package gateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/queue"
)

// slowCompletes makes every CompleteUploadIf take delay, or fail with err after it.
type slowCompletes struct {
	uploadIndex
	delay time.Duration
	err   error
}

func (s slowCompletes) CompleteUploadIf(ctx context.Context, uploadID string, o queue.Object, cond queue.Condition) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if s.err != nil {
		return s.err
	}
	return s.uploadIndex.CompleteUploadIf(ctx, uploadID, o, cond)
}

func withSlowCompletes(delay time.Duration, err error) gwOption {
	return func(g *testGateway) {
		g.wrapUploads = func(u uploadIndex) uploadIndex { return slowCompletes{uploadIndex: u, delay: delay, err: err} }
	}
}

// stallingConn is a client connection whose goroutine writing a
// CompleteMultipartUpload request is descheduled for stall after each write, as
// on a loaded machine: after the body it has one more read of it to do.
type stallingConn struct {
	net.Conn
	stall    time.Duration
	complete bool // the request being written is a CompleteMultipartUpload
}

func (c *stallingConn) Write(p []byte) (int, error) {
	if line, _, ok := bytes.Cut(p, []byte("\r\n")); ok && bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
		c.complete = bytes.HasPrefix(line, []byte("POST ")) && bytes.Contains(line, []byte("uploadId="))
	}
	n, err := c.Conn.Write(p)
	if c.complete {
		time.Sleep(c.stall)
	}
	return n, err
}

// stallingClient is an SDK client over stallingConns.
func stallingClient(g *testGateway, stall time.Duration) *s3.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallingConn{Conn: c, stall: stall}, nil
	}
	return g.client(func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: tr, Timeout: testTimeout} })
}

// startUpload creates an upload of key in bucket "mpu" with three parts of odd
// sizes (CRC32C) and returns its ID and the part list to complete it with.
func startUpload(t *testing.T, c *s3.Client, key string) (*string, []types.CompletedPart) {
	t.Helper()
	ctx := ctxT(t)
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, size := range []int{64<<10 + 1, 64<<10 + 333, 4321} {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(content(20+i, size)), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
	}
	return mp.UploadId, parts
}

// TestCompleteClientSlowToFinishSending: aws-sdk-go-v2 closes a request body
// as soon as the response's status line arrives, and net/http's transport,
// after sending the body, reads it once more; the SDK's closed body answers
// that read with an error, and the transport closes the connection under the
// response. A Complete that sent its 200 at once, then the result when the
// object was committed, lost the result whenever the client's writing
// goroutine was descheduled in between (once in ~250 Completes on a loaded
// machine). A Complete shorter than KeepAliveInterval must be answered in one
// piece, after the client has finished sending.
func TestCompleteClientSlowToFinishSending(t *testing.T) {
	g := newGateway(t, withConfig(smallParts), withSlowCompletes(300*time.Millisecond, nil))
	c := stallingClient(g, 100*time.Millisecond)
	mustBucket(t, c, "mpu")
	for i := range 3 {
		key := "k" + string(rune('0'+i))
		id, parts := startUpload(t, c, key)
		out, err := c.CompleteMultipartUpload(ctxT(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key),
			UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		if err != nil {
			t.Fatalf("complete %d: %v", i, err)
		}
		if !strings.HasSuffix(aws.ToString(out.ETag), `-3"`) {
			t.Errorf("complete %d: ETag %s, want a three-part ETag", i, aws.ToString(out.ETag))
		}
	}
}

// TestCompleteKeepAlive: a Complete done within KeepAliveInterval is answered
// in one piece with its real status; a longer one gets its 200 and the XML
// declaration after the first interval, spaces after that, then its result or
// an Error document, which the SDK reads as the error it names.
func TestCompleteKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keepAlive  time.Duration
		delay      time.Duration
		err        error
		wantStatus int
		wantCode   string
		wantStream bool
	}{
		{name: "quick", keepAlive: DefaultKeepAliveInterval, wantStatus: http.StatusOK},
		{name: "quick failure", keepAlive: DefaultKeepAliveInterval, err: queue.ErrNotLeader, wantStatus: http.StatusServiceUnavailable, wantCode: "SlowDown"},
		{name: "long", keepAlive: 100 * time.Millisecond, delay: 500 * time.Millisecond, wantStatus: http.StatusOK, wantStream: true},
		{name: "long failure", keepAlive: 100 * time.Millisecond, delay: 500 * time.Millisecond, err: queue.ErrNotLeader, wantStatus: http.StatusOK, wantCode: "SlowDown", wantStream: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGateway(t, withConfig(smallParts), withConfig(func(c *Config) { c.KeepAliveInterval = tc.keepAlive }),
				withSlowCompletes(tc.delay, tc.err))
			// The raw response of the Complete, as the SDK's transport hands it over.
			var status int
			var length int64
			var body bytes.Buffer
			tr := g.httpClient().Transport
			c := g.client(func(o *s3.Options) {
				o.HTTPClient = &http.Client{Timeout: testTimeout, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					resp, err := tr.RoundTrip(r)
					if err == nil && r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
						status, length = resp.StatusCode, resp.ContentLength
						resp.Body = struct {
							io.Reader
							io.Closer
						}{io.TeeReader(resp.Body, &body), resp.Body}
					}
					return resp, err
				})}
			})
			mustBucket(t, c, "mpu")
			id, parts := startUpload(t, c, "k")
			out, err := c.CompleteMultipartUpload(ctxT(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("k"),
				UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
			if tc.wantCode == "" && err != nil {
				t.Fatalf("complete: %v", err)
			}
			wantCode(t, err, tc.wantCode)
			if err == nil && !strings.HasSuffix(aws.ToString(out.ETag), `-3"`) {
				t.Errorf("ETag %s, want a three-part ETag", aws.ToString(out.ETag))
			}
			if status != tc.wantStatus {
				t.Errorf("HTTP status %d, want %d", status, tc.wantStatus)
			}
			if streamed := length < 0; streamed != tc.wantStream {
				t.Errorf("Content-Length %d: streamed %v, want %v", length, streamed, tc.wantStream)
			}
			decl, rest, _ := strings.Cut(body.String(), "?>")
			if tc.wantStream && (!strings.HasPrefix(decl, "<?xml") || !strings.HasPrefix(rest, "\n ")) {
				t.Errorf("a long Complete's body does not start with the XML declaration and keep-alive spaces: %.80q", body.String())
			}
			if !tc.wantStream && strings.Contains(body.String(), "?> ") {
				t.Errorf("a quick Complete's body has keep-alive spaces: %.80q", body.String())
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
