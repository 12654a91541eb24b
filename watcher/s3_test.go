package watcher

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithy "github.com/aws/smithy-go"
	"github.com/rs/zerolog"

	ipasarchive "github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
)

// The tests read every object back the way a user would: through the S3 gateway
// of the daemon, over the same journal and store the watcher writes to.

// Test credentials of the gateway.
const (
	testAccessKey = "AKIDIPASWATCHER"
	testSecret    = "watcher/test+secret"
)

// readWorkers is how many GETs run at once when a test checks many objects.
const readWorkers = 8

// s3Gateway is a running gateway and a client of it.
type s3Gateway struct {
	client *s3.Client
	tr     *http.Transport
	stop   context.CancelFunc
	done   chan error
}

// startGateway serves S3 over a's journal and store on a new loopback port.
func startGateway(t testing.TB, a *archive, log zerolog.Logger) *s3Gateway {
	t.Helper()
	cfg := gateway.DefaultConfig(sigv4.StaticCredentials{testAccessKey: testSecret})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(cfg, a.node, ipasarchive.New(a.store, a.node), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &s3Gateway{tr: http.DefaultTransport.(*http.Transport).Clone(), stop: cancel, done: make(chan error, 1)}
	go func() { g.done <- srv.Serve(ctx, ln) }()
	g.client = s3.New(s3.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		UsePathStyle: true,
		// No client timeout: it would include reading a 1 GiB body. Every call
		// carries a context with testTimeout instead.
		HTTPClient: &http.Client{Transport: g.tr},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}, nil
		}),
		RetryMaxAttempts: 1,
	})
	return g
}

// close shuts the gateway down; it returns the error of Serve.
func (g *s3Gateway) close() error {
	g.tr.CloseIdleConnections()
	g.stop()
	return <-g.done
}

// callCtx bounds one S3 call.
func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), testTimeout)
}

// s3Object is an object read back through S3: its bytes and the headers a user sees.
type s3Object struct {
	Body        []byte
	ETag        string // unquoted
	ContentType string
	// Mtime is the file's modification time the watcher records, as served.
	Mtime string
}

// readBack GETs bucket/key through the S3 gateway. It is the one place tests read
// small objects; streamSHA256 reads large ones.
func readBack(a *archive, bucket, key string) (s3Object, error) {
	ctx, cancel := callCtx()
	defer cancel()
	out, err := a.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return s3Object{}, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	o := s3Object{ETag: strings.Trim(aws.ToString(out.ETag), `"`), ContentType: aws.ToString(out.ContentType)}
	// The watcher records the file's mtime as user metadata (x-amz-meta-mtime).
	o.Mtime = out.Metadata["mtime"]
	if o.Body, err = io.ReadAll(out.Body); err != nil {
		return o, fmt.Errorf("get %s/%s: read body: %w", bucket, key, err)
	}
	if n := aws.ToInt64(out.ContentLength); n != int64(len(o.Body)) {
		return o, fmt.Errorf("get %s/%s: %d bytes, Content-Length %d", bucket, key, len(o.Body), n)
	}
	return o, nil
}

// streamSHA256 GETs bucket/key through the S3 gateway and returns the SHA-256 hex
// and the length of its bytes, without holding them in memory.
func streamSHA256(a *archive, bucket, key string) (string, int64, error) {
	ctx, cancel := callCtx()
	defer cancel()
	out, err := a.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", 0, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, out.Body, make([]byte, 1<<20))
	if err != nil {
		return "", n, fmt.Errorf("get %s/%s: read body after %d bytes: %w", bucket, key, n, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// headSize returns the size S3 reports for bucket/key.
func headSize(a *archive, bucket, key string) (int64, error) {
	ctx, cancel := callCtx()
	defer cancel()
	out, err := a.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("head %s/%s: %w", bucket, key, err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// archived reports "" when bucket/key reads back through S3 as want, with the
// ETag of a single-part upload of want.
func archived(a *archive, bucket, key string, want []byte) string {
	o, err := readBack(a, bucket, key)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(o.Body, want) {
		return fmt.Sprintf("%s/%s: %d bytes read back (sha256 %x), want %d (sha256 %x)",
			bucket, key, len(o.Body), sha256.Sum256(o.Body), len(want), sha256.Sum256(want))
	}
	if md := md5.Sum(want); o.ETag != hex.EncodeToString(md[:]) {
		return fmt.Sprintf("%s/%s: ETag %s, want the MD5 %x", bucket, key, o.ETag, md)
	}
	return ""
}

// allArchived checks every object of want through S3, readWorkers at a time, and
// fails the test at the first difference.
func allArchived(t testing.TB, a *archive, bucket string, want map[string][]byte) {
	t.Helper()
	keys := make(chan string)
	var mu sync.Mutex
	var first string
	var wg sync.WaitGroup
	for range readWorkers {
		wg.Go(func() {
			for key := range keys {
				if why := archived(a, bucket, key, want[key]); why != "" {
					mu.Lock()
					if first == "" {
						first = why
					}
					mu.Unlock()
				}
			}
		})
	}
	for key := range want {
		keys <- key
	}
	close(keys)
	wg.Wait()
	if first != "" {
		t.Fatal(first)
	}
}

// gone reports "" when bucket/key answers NoSuchKey through S3.
func gone(a *archive, bucket, key string) string {
	ctx, cancel := callCtx()
	defer cancel()
	out, err := a.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		out.Body.Close()
		return bucket + "/" + key + " still readable"
	}
	if code := errCode(err); code != "NoSuchKey" {
		return fmt.Sprintf("get %s/%s: %v (code %q), want NoSuchKey", bucket, key, err, code)
	}
	return ""
}

// listAll returns every object of bucket, listed through S3 (none when the
// bucket does not exist).
func listAll(t testing.TB, a *archive, bucket string) map[string]types.Object {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	out := map[string]types.Object{}
	p := s3.NewListObjectsV2Paginator(a.s3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if errCode(err) == "NoSuchBucket" {
			return out
		}
		if err != nil {
			t.Fatalf("list %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = o
		}
	}
	return out
}

// bucketNames lists the buckets through S3.
func bucketNames(t testing.TB, a *archive) []string {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	out, err := a.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("list buckets: %v", err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names
}

// errCode returns the S3 error code of err, or "" when it has none.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
