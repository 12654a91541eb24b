package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ipas/ipas/gateway/s3err"
)

const (
	testAccessKey = "AKIDIPASTEST"
	testSecret    = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYIPASSECRET"
	testRegion    = "eu-central-1"
	// clientTimeout bounds every test request.
	clientTimeout = 20 * time.Second
)

var testCreds = aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}

// verdict is what the test server concluded about one request.
type verdict struct {
	result *Result
	err    error
	body   []byte
}

// authServer is a real HTTP server whose handler authenticates every request with a
// Verifier, reads a signed body through PayloadReader, and records the outcome.
type authServer struct {
	*httptest.Server
	v *Verifier

	mu   sync.Mutex
	last verdict
}

func newAuthServer(t *testing.T, v *Verifier) *authServer {
	t.Helper()
	s := &authServer{v: v}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) serve(w http.ResponseWriter, r *http.Request) {
	res, err := s.v.Verify(r)
	var body []byte
	if err == nil {
		var rd io.Reader = r.Body
		if IsSHA256Hex(res.PayloadHash) {
			rd, err = NewPayloadReader(r.Body, res.PayloadHash)
		}
		if err == nil {
			body, err = io.ReadAll(rd)
		}
	}
	s.mu.Lock()
	s.last = verdict{result: res, err: err, body: body}
	s.mu.Unlock()
	if err != nil {
		s3err.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *authServer) lastVerdict() verdict {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// do sends req and returns the S3 error code of the response ("" for 2xx).
func do(t *testing.T, req *http.Request) (status int, code string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return resp.StatusCode, ""
	}
	var e struct{ Code string }
	raw, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(raw, &e); err != nil && req.Method != http.MethodHead {
		t.Fatalf("error body %q: %v", raw, err)
	}
	return resp.StatusCode, e.Code
}

// newSigned builds a request to the server signed by aws-sdk-go-v2 at signTime.
// body nil means no body; payloadHash "" means the SHA-256 of body.
func newSigned(t *testing.T, srvURL, method, pathAndQuery string, body []byte, payloadHash string,
	header http.Header, signTime time.Time) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequest(method, srvURL+pathAndQuery, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(context.Background(), testCreds, req, payloadHash, "s3", testRegion, signTime); err != nil {
		t.Fatal(err)
	}
	return req
}

// presign returns a presigned URL made by aws-sdk-go-v2 at signTime.
func presign(t *testing.T, srvURL, method, pathAndQuery string, expires time.Duration, signTime time.Time) string {
	t.Helper()
	sep := "?"
	if strings.Contains(pathAndQuery, "?") {
		sep = "&"
	}
	u := srvURL + pathAndQuery + sep + "X-Amz-Expires=" + strconv.FormatInt(int64(expires/time.Second), 10)
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	signed, _, err := signer.PresignHTTP(context.Background(), testCreds, req, UnsignedPayload, "s3", testRegion, signTime)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// codeOf returns the S3 code of err, or "" for nil.
func codeOf(err error) string {
	var e *s3err.APIError
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "non-S3 error: " + err.Error()
	}
	return ""
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
