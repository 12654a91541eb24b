package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client defaults.
const (
	// DefaultClientTimeout bounds one API call: the daemon answers from memory.
	DefaultClientTimeout = 15 * time.Second
	// signingService is the service name in the credential scope: the API is
	// signed exactly like an S3 request, so S3 credentials verify it.
	signingService = "s3"
)

// Errors of Client calls; *APIError matches ErrDenied or ErrInvalid by status.
var (
	// ErrNotRunning: nothing listens at the endpoint (connection refused).
	ErrNotRunning = errors.New("admin: daemon not reachable")
	// ErrDenied: the daemon refused the signature or the credentials.
	ErrDenied = errors.New("admin: request refused")
)

// APIError is an error response of the API.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("admin: %s: %s (HTTP %d)", e.Code, e.Message, e.Status)
}

// Is matches ErrDenied for 401/403 and ErrInvalid for 400.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrDenied:
		return e.Status == http.StatusForbidden || e.Status == http.StatusUnauthorized
	case ErrInvalid:
		return e.Status == http.StatusBadRequest
	}
	return false
}

// Client calls the API of a running daemon.
type Client struct {
	Endpoint  string // e.g. http://127.0.0.1:9000
	Region    string
	AccessKey string
	SecretKey string
	// HTTP is the transport (e.g. one that trusts the daemon's certificate);
	// nil uses http.DefaultTransport with DefaultClientTimeout.
	HTTP *http.Client
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, PathStatus, nil, &s)
	return s, err
}

// Pause pauses uploads until Resume.
func (c *Client) Pause(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, PathPause, nil, nil)
}

// Resume undoes Pause.
func (c *Client) Resume(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, PathResume, nil, nil)
}

// SetBandwidth sets a rate or a weekly timetable.
func (c *Client) SetBandwidth(ctx context.Context, spec string) error {
	return c.do(ctx, http.MethodPut, PathBandwidth, []byte(spec), nil)
}

// Reconcile returns the remote reconcile's state, after starting a pass if
// start is true.
func (c *Client) Reconcile(ctx context.Context, start bool) (Reconcile, error) {
	var out Reconcile
	err := c.do(ctx, startMethod(start), PathReconcile, nil, &out)
	return out, err
}

// Scrub returns the scrub's state, after starting a pass if start is true.
func (c *Client) Scrub(ctx context.Context, start bool) (Scrub, error) {
	var out Scrub
	err := c.do(ctx, startMethod(start), PathScrub, nil, &out)
	return out, err
}

func startMethod(start bool) string {
	if start {
		return http.MethodPost
	}
	return http.MethodGet
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: DefaultClientTimeout}
}

// Request builds a signed request, for callers that need to send it themselves.
func (c *Client) Request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	u, err := url.Parse(strings.TrimSuffix(c.Endpoint, "/") + path)
	if err != nil {
		return nil, fmt.Errorf("admin: endpoint %q: %w", c.Endpoint, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("admin: %s %s: %w", method, path, err)
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if len(body) > 0 {
		req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	}
	creds := aws.Credentials{AccessKeyID: c.AccessKey, SecretAccessKey: c.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, signingService, c.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("admin: sign %s %s: %w", method, path, err)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := c.Request(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: %s: %w", ErrNotRunning, c.Endpoint, err)
		}
		return fmt.Errorf("admin: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin: %s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb ErrorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
			// Not the admin API: an S3 server or an older daemon answered.
			return &APIError{Status: resp.StatusCode, Code: "UnexpectedResponse",
				Message: fmt.Sprintf("%s %s is not an IPAS admin API (got %q)", method, c.Endpoint+path, firstLine(raw))}
		}
		return &APIError{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("admin: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
