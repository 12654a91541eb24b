package remote

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ipas/ipas/replication"
	"github.com/rs/zerolog"
)

// Transport timeouts. A black-holed connection must fail in bounded time so
// that the request is retried on a fresh one; the body's own stall detection
// lives in replication.
const (
	// DefaultResponseTimeout bounds the wait for response headers once a
	// request is written.
	DefaultResponseTimeout = 60 * time.Second
	// DefaultDialTimeout bounds connection setup.
	DefaultDialTimeout = 30 * time.Second
	// DefaultConnections is the size of the pool of idle connections kept
	// for reuse (WithConnections).
	DefaultConnections = 16
)

// Metadata keys (x-amz-meta-*) that IPAS adds to every remote object; the
// full list is in package replication and docs/remote-layout.md.
const (
	MetaSHA256  = replication.MetaSHA256
	MetaModTime = replication.MetaModTime
)

// Client is a replication.Remote over one S3 bucket.
type Client struct {
	cfg    Config
	prefix string
	s3     *s3.Client
	creds  aws.CredentialsProvider
	log    zerolog.Logger
	// listPageSize is MaxKeys of a LIST request.
	listPageSize int
	// versioning caches the remote bucket's versioning (Versioned).
	versioning *versioningCache
	// maxCopy and copyPart are MaxCopyObject and CopyPartSize.
	maxCopy, copyPart int64
}

var _ replication.Remote = (*Client)(nil)

// Option adjusts a Client at construction.
type Option func(*options)

type options struct {
	creds           aws.CredentialsProvider
	responseTimeout time.Duration
	httpClient      awsconfig.HTTPClient
	listPageSize    int
	connections     int
	errorHook       func(code string)
	maxCopy         int64
	copyPart        int64
}

// WithConnections keeps up to n idle connections to the remote for reuse
// (DefaultConnections): as many as requests in flight, so that none opens
// a connection per object.
func WithConnections(n int) Option {
	return func(o *options) { o.connections = max(1, n) }
}

// WithCredentials replaces the configured credentials (tests, or a caller
// that rotates keys).
func WithCredentials(p aws.CredentialsProvider) Option {
	return func(o *options) { o.creds = p }
}

// WithResponseTimeout overrides DefaultResponseTimeout.
func WithResponseTimeout(d time.Duration) Option {
	return func(o *options) { o.responseTimeout = d }
}

// WithListPageSize overrides DefaultListPageSize (tests page with a few
// objects).
func WithListPageSize(n int) Option {
	return func(o *options) { o.listPageSize = n }
}

// WithHTTPClient replaces the HTTP client. Prefer an
// *awshttp.BuildableClient: it honours AWS_CA_BUNDLE.
func WithHTTPClient(c awsconfig.HTTPClient) Option {
	return func(o *options) { o.httpClient = c }
}

// New returns a Client for cfg. It resolves credentials lazily: a bad key is
// reported by the first request (or by Check), not here.
func New(ctx context.Context, cfg Config, log zerolog.Logger, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := options{responseTimeout: DefaultResponseTimeout, listPageSize: DefaultListPageSize, connections: DefaultConnections,
		maxCopy: MaxCopyObject, copyPart: CopyPartSize}
	for _, f := range opts {
		f(&o)
	}
	if o.httpClient == nil {
		o.httpClient = newHTTPClient(o.responseTimeout, o.connections)
	}
	load := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithHTTPClient(o.httpClient),
		awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		awsconfig.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	switch {
	case o.creds != nil:
		load = append(load, awsconfig.WithCredentialsProvider(o.creds))
	case cfg.AccessKey != "":
		load = append(load, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, "")))
	}
	if cfg.Profile != "" {
		load = append(load, awsconfig.WithSharedConfigProfile(cfg.Profile))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("remote: load aws config: %w", err)
	}
	client := s3.NewFromConfig(ac, func(so *s3.Options) {
		so.UsePathStyle = cfg.PathStyle
		if cfg.Endpoint != "" {
			so.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		if o.errorHook != nil {
			so.APIOptions = append(so.APIOptions, errorHookMiddleware(o.errorHook))
		}
	})
	return &Client{
		cfg:          cfg,
		prefix:       cfg.keyPrefix(),
		s3:           client,
		creds:        ac.Credentials,
		listPageSize: max(1, min(o.listPageSize, DefaultListPageSize)),
		versioning:   &versioningCache{},
		maxCopy:      max(1, o.maxCopy),
		copyPart:     max(1, o.copyPart),
		log:          log.With().Str("component", "remote").Str("remote_bucket", cfg.Bucket).Logger(),
	}, nil
}

// newHTTPClient is the SDK's buildable client (so that AWS_CA_BUNDLE still
// works) with timeouts that turn a black hole into an error.
func newHTTPClient(responseTimeout time.Duration, conns int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = DefaultDialTimeout
			d.KeepAlive = 30 * time.Second
		}).
		WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConns = conns
			tr.MaxIdleConnsPerHost = conns
			tr.TLSHandshakeTimeout = DefaultDialTimeout
			tr.ResponseHeaderTimeout = responseTimeout
		})
}

// Config returns the client's configuration.
func (c *Client) Config() Config { return c.cfg }

// Key returns the remote key of a local "bucket/key" name.
func (c *Client) Key(name string) string { return c.prefix + name }

// unsignedPayload streams bodies without hashing them first: the body is
// read once, from disk, as it goes on the wire; its integrity is carried by
// the signed Content-MD5 header, which the remote verifies.
var unsignedPayload = s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)

// PutObject implements replication.Remote.
func (c *Client) PutObject(ctx context.Context, name string, body io.Reader, size int64, md5 []byte, meta replication.ObjectMeta) (replication.RemoteCopy, error) {
	h := c.encode(name, meta)
	in := &s3.PutObjectInput{
		Bucket:             aws.String(c.cfg.Bucket),
		Key:                aws.String(c.Key(name)),
		Body:               body,
		ContentLength:      aws.Int64(size),
		ContentMD5:         aws.String(base64.StdEncoding.EncodeToString(md5)),
		Metadata:           h.Metadata,
		ContentType:        optional(h.ContentType),
		ContentEncoding:    optional(h.ContentEncoding),
		ContentDisposition: optional(h.ContentDisposition),
		ContentLanguage:    optional(h.ContentLanguage),
		CacheControl:       optional(h.CacheControl),
		Expires:            expires(h.Expires),
	}
	c.applyStorage(&in.StorageClass, &in.ServerSideEncryption, &in.SSEKMSKeyId)
	out, err := c.s3.PutObject(ctx, in, unsignedPayload)
	if err != nil {
		return replication.RemoteCopy{}, classify("put", name, err)
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	if err := c.checkETag(name, etag, md5); err != nil {
		return replication.RemoteCopy{}, err
	}
	return replication.RemoteCopy{ETag: etag, Size: size, VersionID: remoteVersionID(out.VersionId)}, nil
}

// checkETag is the end-to-end check of a PutObject, so that no HEAD is
// needed after it: the remote verified the signed Content-MD5, and its
// ETag, the MD5 of what it stored, must be the same. An ETag that is not
// an MD5 (some S3-compatible servers) leaves the Content-MD5 check alone;
// under SSE-KMS AWS's ETag is not the MD5 of the object, so it says nothing.
func (c *Client) checkETag(name, etag string, md5 []byte) error {
	if c.cfg.SSE == SSEKMS || len(etag) != 2*len(md5) {
		return nil
	}
	if _, err := hex.DecodeString(etag); err != nil {
		return nil
	}
	if want := hex.EncodeToString(md5); etag != want {
		return fmt.Errorf("remote: put %s: the remote's ETag %s is not the MD5 %s of the bytes sent", name, etag, want)
	}
	return nil
}

// DeleteObject implements replication.Remote.
func (c *Client) DeleteObject(ctx context.Context, name string) error {
	_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(c.cfg.Bucket),
		Key:    aws.String(c.Key(name)),
	})
	err = classify("delete", name, err)
	if isNotFound(err) {
		return nil
	}
	return err
}

// Probe implements replication.Remote: it starts and aborts a multipart
// upload under the prefix, which needs the same rights as replicating
// and leaves nothing behind.
func (c *Client) Probe(ctx context.Context) error {
	name := probeName()
	id, err := c.CreateMultipartUpload(ctx, name, replication.ObjectMeta{})
	if err != nil {
		return err
	}
	return c.AbortMultipartUpload(ctx, name, id)
}

func (c *Client) applyStorage(class *types.StorageClass, sse *types.ServerSideEncryption, kms **string) {
	if c.cfg.StorageClass != "" {
		*class = types.StorageClass(c.cfg.StorageClass)
	}
	if c.cfg.SSE != SSENone {
		*sse = types.ServerSideEncryption(c.cfg.SSE)
	}
	if c.cfg.KMSKeyID != "" {
		*kms = aws.String(c.cfg.KMSKeyID)
	}
}

// probeName is under a dot-directory that no S3 bucket name can start with,
// so that it never collides with a replicated object.
func probeName() string {
	return controlDir + "probe-" + fmt.Sprint(time.Now().UnixNano())
}
