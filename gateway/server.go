package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv2"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

// Index is the part of the journal (*queue.Node) the gateway reads and writes.
type Index interface {
	CreateBucket(ctx context.Context, name string, created time.Time) error
	CreateOwnedBucket(ctx context.Context, name, owner string, created time.Time) error
	DeleteBucket(ctx context.Context, name string) error
	BucketExists(name string) (bool, error)
	Buckets() ([]queue.Bucket, error)
	Object(bucket, key string) (queue.Object, error)
	ListObjects(bucket, prefix, startAfter string, limit int) ([]queue.Object, bool, error)
	PutObject(ctx context.Context, o queue.Object) error
	DeleteObject(ctx context.Context, bucket, key, deleteID string) error
}

// Objects is the archive (*archive.Archive) as the gateway uses it: bodies
// stored as blobs and journaled as objects, and objects read back.
type Objects interface {
	// Put stores r as one blob, returned pinned; r's error aborts it without a trace.
	Put(ctx context.Context, r io.Reader) (store.Blob, error)
	// PutVerified is Put of a body whose signed SHA-256 the store checks.
	PutVerified(ctx context.Context, r io.Reader, want store.Digest) (store.Blob, error)
	// Inlines reports whether Stage works.
	Inlines() bool
	// Stage stores a small body without waiting for the disk; inline is what
	// Commit must journal with the object.
	Stage(ctx context.Context, data []byte) (b store.Blob, inline []byte, err error)
	StageVerified(ctx context.Context, data []byte, want store.Digest) (b store.Blob, inline []byte, err error)
	// Commit journals an object whose blob Put or Stage returned.
	Commit(ctx context.Context, o queue.Object, inline []byte) error
	// CommitIf is Commit under a condition the journal checks atomically with
	// the write (queue.ErrPreconditionFailed, queue.ErrNoSuchKey).
	CommitIf(ctx context.Context, o queue.Object, inline []byte, cond queue.Condition) error
	Unpin(d store.Digest)
	// PinObject protects an existing object's blobs from collection until
	// release (store.ErrNotFound if one is gone).
	PinObject(o queue.Object) (release func(), err error)
	Open(ctx context.Context, o queue.Object, off, length int64) io.ReadCloser
	// ReadsThrough reports whether OpenRemote reads remote-only objects.
	ReadsThrough() bool
	// OpenRemote reads a remote-only object through from the remote; its
	// errors (archive.ErrRemoteUnavailable, ...) come before any byte.
	OpenRemote(ctx context.Context, o queue.Object, off, length int64) (io.ReadCloser, error)
	OpenPieces(ctx context.Context, pieces []archive.Piece, off, length int64) io.ReadCloser
}

var _ Objects = (*archive.Archive)(nil)

// Server is the S3 endpoint. It is an http.Handler; ListenAndServe runs it with the
// configured timeouts and TLS.
type Server struct {
	cfg      Config
	idx      Index
	objects  Objects
	log      zerolog.Logger
	verifier *sigv4.Verifier
	// verifierV2 checks SigV2 signatures, with the same keys and skew.
	verifierV2 *sigv2.Verifier
	now        func() time.Time
	uploads    uploadIndex // nil: idx cannot journal multipart uploads
	// settings keeps buckets' configurations (CORS); nil: idx cannot.
	settings bucketSettings
	// versions keeps object versions; nil: idx cannot.
	versions versionIndex
	// partHashes hashes multipart uploads' parts ahead of Complete.
	partHashes uploadHashes
	// tokens are the ListObjectsV2 continuation tokens handed out lately.
	tokens issuedTokens
	// quota counts the usage of users with a quota (quota.go).
	quota usageCache
}

// New returns a Server over idx and objects (the archive over the same journal). cfg must be valid (Config.Validate); zero
// limits and timeouts are replaced by their defaults.
func New(cfg Config, idx Index, objects Objects, log zerolog.Logger) *Server {
	d := DefaultConfig(cfg.Credentials)
	if cfg.Region == "" {
		cfg.Region = d.Region
	}
	setDefault(&cfg.MaxObjectSize, d.MaxObjectSize)
	setDefault(&cfg.MaxPartSize, d.MaxPartSize)
	setDefault(&cfg.MaxParts, d.MaxParts)
	setDefault(&cfg.StallTimeout, d.StallTimeout)
	setDefault(&cfg.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setDefault(&cfg.IdleTimeout, d.IdleTimeout)
	setDefault(&cfg.ShutdownTimeout, d.ShutdownTimeout)
	setDefault(&cfg.KeepAliveInterval, d.KeepAliveInterval)
	setDefault(&cfg.InlineMax, d.InlineMax)
	v := sigv4.NewVerifier(cfg.Credentials)
	v.MaxSkew = cfg.MaxClockSkew
	if cfg.RequireRegion {
		v.Region = cfg.Region
	}
	v2 := sigv2.NewVerifier(cfg.Credentials)
	v2.MaxSkew = cfg.MaxClockSkew
	s := &Server{cfg: cfg, idx: idx, objects: objects, log: log.With().Str("component", "gateway").Logger(),
		verifier: v, verifierV2: v2, now: time.Now}
	s.initMultipart()
	s.settings, _ = idx.(bucketSettings)
	s.versions, _ = idx.(versionIndex)
	return s
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// request is one S3 request after routing and authentication.
type request struct {
	*http.Request
	id     string
	bucket string
	key    string
	auth   *sigv4.Result
	// principal is who signed the request (authz.Anonymous for a GET a
	// public policy may allow); noOverwrite forbids replacing an object.
	principal   authz.Principal
	noOverwrite bool
	publicRead  bool // x-amz-acl: public-read (acl.go)
	log         zerolog.Logger
	body        *trackedBody
}

// ServeHTTP implements http.Handler: request id, authentication, routing, errors.
func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := s3err.NewRequestID()
	w := &responseWriter{ResponseWriter: rw}
	h := w.Header()
	h.Set(s3err.RequestIDHeader, id)
	h.Set("X-Amz-Id-2", base64.StdEncoding.EncodeToString([]byte(id+id+id)))
	h.Set("Server", "IPAS")
	body := &trackedBody{ReadCloser: r.Body}
	r.Body = body
	req := &request{Request: r, id: id, body: body}
	req.log = s.log.With().Str("request_id", id).Logger()
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			req.log.Error().Interface("panic", p).Str("method", r.Method).Msg("handler panicked")
			if !w.wroteHeader {
				s3err.WriteError(w, r, s3err.ErrInternalError)
			}
		}
		req.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Str("query", redactQuery(r.URL.RawQuery)).
			Int("status", w.status).Int64("bytes", w.written).Dur("took", time.Since(start)).Msg("request")
	}()
	if r.ContentLength == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		// S3 answers 100 Continue to every request that expects it. Go sends one only
		// when a handler reads a body, so an empty PUT would get its final answer
		// straight away, and botocore (aws CLI, boto3) then reads the answer to the
		// next request on that connection with this one's status line: the aws CLI
		// stalled for its 60 s read timeout, then retried.
		rw.WriteHeader(http.StatusContinue)
	}
	req.bucket, req.key = s.splitPath(r)
	if r.Method == http.MethodOptions {
		if err := s.preflight(w, req); err != nil {
			s.fail(w, req, err)
		}
		return
	}
	if err := s.applyCORS(w, req); err != nil {
		s.fail(w, req, err)
		return
	}
	if isPostObject(req) {
		if err := s.postObject(w, req); err != nil {
			s.fail(w, req, err)
		}
		return
	}
	if err := s.identify(req); err != nil {
		s.fail(w, req, err)
		return
	}
	if err := s.authorize(req); err != nil {
		s.fail(w, req, err)
		return
	}
	if err := s.route(w, req); err != nil {
		s.fail(w, req, err)
	}
}

// fail sends err as an S3 error, logging what the client will not see.
func (s *Server) fail(w *responseWriter, r *request, err error) {
	apiErr := toAPIError(err)
	if apiErr == s3err.ErrInternalError {
		r.log.Error().Err(err).Str("method", r.Method).Str("bucket", r.bucket).Str("key", r.key).Msg("internal error")
	} else if apiErr.Status >= 500 {
		r.log.Warn().Err(err).Str("method", r.Method).Str("bucket", r.bucket).Str("key", r.key).Msg("request failed")
	}
	if w.wroteHeader {
		return // the status line is out: nothing better than a broken body is possible
	}
	r.drainBody(w, s.cfg.StallTimeout)
	// A DetailedError keeps its extra elements (AWSAccessKeyId, Region...).
	var detailed *s3err.DetailedError
	if errors.As(err, &detailed) && detailed.APIError == apiErr {
		s3err.WriteError(w, r.Request, detailed)
		return
	}
	if bucketErrors[apiErr.Code] && r.bucket != "" {
		s3err.WriteError(w, r.Request, apiErr.WithElements(s3err.Element{Name: elementBucketName, Value: r.bucket}))
		return
	}
	s3err.WriteError(w, r.Request, apiErr)
}

// bucketErrors are the errors about a bucket that S3 sends with its name.
var bucketErrors = map[string]bool{"NoSuchBucket": true, "BucketNotEmpty": true, "BucketAlreadyOwnedByYou": true,
	"NoSuchCORSConfiguration": true}

// elementBucketName names the bucket of a bucket error.
const elementBucketName = "BucketName"

// describedError is an error of a package below the gateway that says what
// a client sees (cache.FullError: 507 with the reason and the fix).
type describedError interface {
	error
	S3Error() (code string, status int, message string)
}

// toAPIError maps the errors of store, queue and the network onto S3 errors.
func toAPIError(err error) *s3err.APIError {
	var apiErr *s3err.APIError
	var described describedError
	switch {
	case errors.As(err, &apiErr):
		return apiErr
	case errors.As(err, &described):
		code, status, message := described.S3Error()
		return &s3err.APIError{Code: code, Message: message, Status: status}
	case errors.Is(err, store.ErrNoSpace), errors.Is(err, queue.ErrNoSpace), isNoSpace(err):
		return s3err.ErrInsufficientStorage
	case errors.Is(err, queue.ErrNoSuchBucket):
		return s3err.ErrNoSuchBucket
	case errors.Is(err, queue.ErrNoSuchKey):
		return s3err.ErrNoSuchKey
	case errors.Is(err, queue.ErrNoSuchVersion):
		return s3err.ErrNoSuchVersion
	case errors.Is(err, queue.ErrBucketNotEmpty):
		return s3err.ErrBucketNotEmpty
	case errors.Is(err, queue.ErrBucketExists):
		return s3err.ErrBucketAlreadyOwnedByYou
	case errors.Is(err, queue.ErrNotLeader), errors.Is(err, queue.ErrClosed):
		return s3err.ErrSlowDown
	case isTimeout(err):
		return s3err.ErrRequestTimeout
	case errors.Is(err, io.ErrUnexpectedEOF):
		return s3err.ErrIncompleteBody
	}
	return s3err.ErrInternalError
}

// redactQuery keeps presign signatures (SigV4 and SigV2) and credentials out of logs.
func redactQuery(q string) string {
	if !strings.Contains(q, "Signature") && !strings.Contains(q, "X-Amz-Credential") {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if strings.HasPrefix(p, "X-Amz-Signature=") || strings.HasPrefix(p, "X-Amz-Credential=") ||
			strings.HasPrefix(p, "X-Amz-Security-Token=") || strings.HasPrefix(p, "Signature=") {
			k, _, _ := strings.Cut(p, "=")
			parts[i] = k + "=REDACTED"
		}
	}
	return strings.Join(parts, "&")
}

// responseWriter records the status for logs and whether the header is out.
type responseWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	written     int64
}

func (w *responseWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach deadlines and Flush.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
