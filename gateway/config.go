package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/queue"
)

// Defaults of Config.
const (
	// DefaultRegion is the region reported by GetBucketLocation and HeadBucket.
	DefaultRegion = "us-east-1"
	// DefaultMaxClockSkew is S3's own bound on a request's signed time.
	DefaultMaxClockSkew = sigv4.DefaultMaxSkew
	// DefaultMaxObjectSize is S3's object size limit, 5 TiB.
	DefaultMaxObjectSize = 5 << 40
	// DefaultMaxPartSize is S3's part size limit, 5 GiB.
	DefaultMaxPartSize = 5 << 30
	// DefaultMinPartSize is S3's minimum size of every part but the last, 5 MiB.
	DefaultMinPartSize = 5 << 20
	// DefaultMaxParts is S3's limit on parts per upload.
	DefaultMaxParts = 10000
	// DefaultStallTimeout is how long a request body may send nothing (or a response
	// be left unread) before the request is abandoned and its temp data removed.
	DefaultStallTimeout = 60 * time.Second
	// DefaultReadHeaderTimeout bounds the time to send a request's headers.
	DefaultReadHeaderTimeout = 30 * time.Second
	// DefaultIdleTimeout closes keep-alive connections idle this long.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultShutdownTimeout bounds a graceful shutdown in ListenAndServe.
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultKeepAliveInterval is how often a long CompleteMultipartUpload sends a
	// space to keep clients and proxies from timing the connection out.
	DefaultKeepAliveInterval = 10 * time.Second
	// DefaultInlineMax is the largest object whose bytes travel in its journal
	// entry, so that its PUT waits for one fsync (the journal's) instead of
	// three (blob, directory, journal); the blob is made durable behind it.
	// Every such byte is written twice, once to the log and once to the
	// store, and the log keeps them until the next snapshot: small objects
	// only.
	DefaultInlineMax = 16 << 10
)

// maxXMLBody bounds every XML request body (DeleteObjects with 1,000 keys of 1 KiB,
// CompleteMultipartUpload with 10,000 parts): they are decoded in memory.
const maxXMLBody = 4 << 20

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Region is reported by GetBucketLocation; when RequireRegion is set it is also
	// the only region accepted in signatures.
	Region        string
	RequireRegion bool
	// Credentials are the access keys allowed to use the endpoint.
	Credentials sigv4.Credentials
	// Authorizer, when set, resolves keys to users and decides each request
	// (package authz); nil makes every credential an admin.
	Authorizer Authorizer
	// VersionNewBuckets turns versioning on (Enabled) in every bucket that
	// CreateBucket makes; false leaves new buckets unversioned, as in S3.
	VersionNewBuckets bool
	// MaxClockSkew bounds a request's signed time; 0 disables the check (a Pi without
	// a real-time clock). Presign expiry is always enforced.
	MaxClockSkew time.Duration
	// MaxObjectSize bounds an object, whether sent in one PUT or assembled from parts.
	MaxObjectSize int64
	MaxPartSize   int64
	MinPartSize   int64
	MaxParts      int
	// Domain enables virtual-host style requests (bucket.Domain) besides path style.
	Domain string
	// StallTimeout abandons a request whose body or response makes no progress.
	StallTimeout      time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	KeepAliveInterval time.Duration
	// CertFile and KeyFile, when set, make ListenAndServe serve HTTPS.
	CertFile, KeyFile string
	// InlineMax is the largest object journaled with its bytes (see
	// DefaultInlineMax); 0 means the default, a negative value turns it off.
	// It needs an index built with queue.Config.Inline set to the same store.
	InlineMax int64
}

// DefaultConfig returns a Config with every default and the given credentials.
func DefaultConfig(creds sigv4.Credentials) Config {
	return Config{
		Region:            DefaultRegion,
		Credentials:       creds,
		MaxClockSkew:      DefaultMaxClockSkew,
		MaxObjectSize:     DefaultMaxObjectSize,
		MaxPartSize:       DefaultMaxPartSize,
		MinPartSize:       DefaultMinPartSize,
		MaxParts:          DefaultMaxParts,
		StallTimeout:      DefaultStallTimeout,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		ShutdownTimeout:   DefaultShutdownTimeout,
		KeepAliveInterval: DefaultKeepAliveInterval,
		InlineMax:         DefaultInlineMax,
	}
}

// Validate names the first bad field and how to fix it.
func (c Config) Validate() error {
	switch {
	case c.Credentials == nil:
		return errors.New("gateway: config: Credentials is nil; configure at least one access key")
	case c.Region == "":
		return errors.New("gateway: config: Region is empty; use " + DefaultRegion)
	case c.MaxClockSkew < 0:
		return errors.New("gateway: config: MaxClockSkew is negative; use 0 to disable the check")
	case c.InlineMax > queue.MaxInlineBytes:
		return fmt.Errorf("gateway: config: InlineMax %d is above the journal's limit of %d bytes", c.InlineMax, queue.MaxInlineBytes)
	case c.MaxObjectSize <= 0:
		return fmt.Errorf("gateway: config: MaxObjectSize %d must be positive (default %d)", c.MaxObjectSize, int64(DefaultMaxObjectSize))
	case c.MaxPartSize <= 0 || c.MinPartSize < 0 || c.MinPartSize > c.MaxPartSize:
		return fmt.Errorf("gateway: config: part sizes [%d, %d] are not a valid range", c.MinPartSize, c.MaxPartSize)
	case c.MaxParts <= 0 || c.MaxParts > DefaultMaxParts:
		return fmt.Errorf("gateway: config: MaxParts %d must be 1 to %d", c.MaxParts, DefaultMaxParts)
	case c.StallTimeout <= 0 || c.ReadHeaderTimeout <= 0 || c.IdleTimeout <= 0 || c.KeepAliveInterval <= 0:
		return errors.New("gateway: config: StallTimeout, ReadHeaderTimeout, IdleTimeout and KeepAliveInterval must be positive")
	case (c.CertFile == "") != (c.KeyFile == ""):
		return errors.New("gateway: config: set both CertFile and KeyFile, or neither")
	}
	return nil
}
