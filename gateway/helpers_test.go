package gateway

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// Test credentials: two keys, as a config file may list several.
const (
	testAccessKey  = "AKIDIPASTEST"
	testSecret     = "ipas/test+secret"
	testAccessKey2 = "AKIDIPASOTHER"
	testSecret2    = "other-secret"
	testTimeout    = 60 * time.Second
)

var _ Index = (*queue.Node)(nil)

// testGateway is the real server over a real store and journal in a temp dir.
type testGateway struct {
	t     testing.TB
	dir   string
	tls   bool
	cfg   Config
	store *store.Store
	node  *queue.Node
	srv   *Server
	// wrap, if set, wraps the archive the server uses (a test's failing disk).
	wrap func(Objects) Objects
	// wrapUploads, if set, wraps the journal of multipart uploads (a slow Complete).
	wrapUploads func(uploadIndex) uploadIndex
	// onNode, if set, runs once the journal is open, before the server is
	// made (users over the journal).
	onNode func(*testGateway)
	URL    string
	caFile string
	stop   context.CancelFunc
	done   chan error
}

type gwOption func(*testGateway)

func withTLS() gwOption { return func(g *testGateway) { g.tls = true } }

func withConfig(f func(*Config)) gwOption { return func(g *testGateway) { f(&g.cfg) } }

func testLogger(t testing.TB) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newGateway(t testing.TB, opts ...gwOption) *testGateway {
	t.Helper()
	g := &testGateway{t: t, dir: t.TempDir()}
	g.cfg = DefaultConfig(sigv4.StaticCredentials{testAccessKey: testSecret, testAccessKey2: testSecret2})
	for _, o := range opts {
		o(g)
	}
	if g.tls {
		cert, key, err := SelfSignedCertificate(g.dir)
		if err != nil {
			t.Fatal(err)
		}
		g.cfg.CertFile, g.cfg.KeyFile, g.caFile = cert, key, cert
	}
	g.start()
	t.Cleanup(g.close)
	return g
}

// start opens the store and the journal in g.dir and serves on a new port.
func (g *testGateway) start() {
	t := g.t
	t.Helper()
	log := testLogger(t)
	g.store = store.New(filepath.Join(g.dir, "store"), log)
	if err := g.store.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	qc := queue.DefaultConfig(filepath.Join(g.dir, "journal"))
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	qc.Inline = g.store // small objects take the staged path, as in the daemon
	g.node = queue.New(qc, log)
	if err := g.node.Open(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if g.onNode != nil {
		g.onNode(g)
	}
	var objects Objects = archive.New(g.store, g.node)
	if g.wrap != nil {
		objects = g.wrap(objects)
	}
	if err := g.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g.srv = New(g.cfg, g.node, objects, log)
	if g.wrapUploads != nil {
		g.srv.uploads = g.wrapUploads(g.srv.uploads)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if g.tls {
		scheme = "https://"
	}
	g.URL = scheme + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	g.stop, g.done = cancel, make(chan error, 1)
	go func() { g.done <- g.srv.Serve(ctx, ln) }()
}

func (g *testGateway) close() {
	if g.stop == nil {
		return
	}
	g.stop()
	if err := <-g.done; err != nil {
		g.t.Errorf("serve: %v", err)
	}
	g.stop = nil
	if err := g.node.Close(context.Background()); err != nil {
		g.t.Errorf("close journal: %v", err)
	}
	if err := g.store.Close(context.Background()); err != nil {
		g.t.Errorf("close store: %v", err)
	}
}

// restart stops everything and opens the same directory again on a new port.
func (g *testGateway) restart() {
	g.close()
	g.start()
}

// httpClient trusts the gateway's self-signed certificate.
func (g *testGateway) httpClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if g.tls {
		pem, err := os.ReadFile(g.caFile)
		if err != nil {
			g.t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

// client returns an SDK client with the default (2025+) checksum behaviour.
func (g *testGateway) client(opts ...func(*s3.Options)) *s3.Client {
	return g.clientAs(testAccessKey, testSecret, opts...)
}

func (g *testGateway) clientAs(ak, sk string, opts ...func(*s3.Options)) *s3.Client {
	o := s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(g.URL),
		UsePathStyle: true,
		HTTPClient:   g.httpClient(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
		}),
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig resolves to since 2025: a CRC32 on every
		// upload (a trailer over HTTPS), responses validated when they carry one.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	for _, f := range opts {
		f(&o)
	}
	return s3.New(o)
}

// errCode returns the S3 error code of err, or "" when it has none.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode fails the test unless err carries the S3 error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %s", err, got, code)
	}
}

func mustBucket(t testing.TB, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(ctxT(t), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// content returns n deterministic pseudo-random bytes.
func content(seed, n int) []byte { return testutil.Content(seed, n) }

func portOf(u string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://"))
	return port
}

// dialTo returns an HTTP client that connects to the gateway whatever host name a
// request names, for virtual-host style without DNS.
func dialTo(u string) *http.Client {
	addr := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr, Timeout: testTimeout}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
