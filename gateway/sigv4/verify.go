package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
)

// DefaultMaxSkew is how far a request's signed time may be from the server clock, the
// same 15 minutes S3 allows.
const DefaultMaxSkew = 15 * time.Minute

// Credentials looks up the secret of an access key.
type Credentials interface {
	SecretKey(accessKey string) (secret string, ok bool)
}

// StaticCredentials maps access keys to secrets, for keys from the config file.
type StaticCredentials map[string]string

// SecretKey implements Credentials.
func (c StaticCredentials) SecretKey(accessKey string) (string, bool) {
	s, ok := c[accessKey]
	return s, ok
}

var _ Credentials = StaticCredentials(nil)

// Verifier checks SigV4 signatures of incoming requests. Set its exported fields
// before use; it is safe for concurrent use afterwards.
type Verifier struct {
	creds Credentials

	// Region, when not empty, is the only region accepted in a credential scope. Empty
	// accepts any region: clients of a local gateway sign with whatever their profile
	// says, and the region adds no security.
	Region string

	// MaxSkew bounds the difference between a request's signed time and the server
	// clock (RequestTimeTooSkewed), and how far in the future a presigned URL may be
	// dated. 0 disables both checks, for a Pi without a real-time clock that has not
	// synced yet. Presign expiry is always enforced.
	MaxSkew time.Duration

	// now is the clock; tests replace it.
	now func() time.Time
}

// NewVerifier returns a Verifier over creds with DefaultMaxSkew and any region.
func NewVerifier(creds Credentials) *Verifier {
	return &Verifier{creds: creds, MaxSkew: DefaultMaxSkew, now: time.Now}
}

// Result is a verified request: who signed it and what the body decoder needs.
type Result struct {
	AccessKey string
	Presigned bool
	// Time is the signed request time (X-Amz-Date, or the Date header).
	Time time.Time
	// Scope is the credential scope the request was signed for.
	Scope Scope
	// Signature is the request's signature, the seed of an aws-chunked signature chain.
	Signature string
	// SigningKey is the derived key that verifies chunk and trailer signatures.
	SigningKey SigningKey
	// PayloadHash is the x-amz-content-sha256 value that was signed: a hex SHA-256,
	// UnsignedPayload or one of the Streaming* values.
	PayloadHash string
	// SignedHeaders are the lower-case names of the headers the signature covers.
	SignedHeaders []string
}

// AmzDate returns Time in the X-Amz-Date format used in strings to sign.
func (r *Result) AmzDate() string { return r.Time.UTC().Format(amzDateFormat) }

// Verify authenticates r from its Authorization header or presign query parameters.
// It reads no body, but a body known to be empty (Content-Length 0) must match the
// signed payload hash. Errors are *s3err.APIError values, some wrapped in an
// *s3err.DetailedError carrying the elements S3 adds: AccessDenied (no
// authentication, unsigned x-amz-* headers, expired or not yet valid presign),
// InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
// AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
// MissingSecurityHeader, InvalidArgument, InvalidToken, XAmzContentSHA256Mismatch and
// InvalidRequest (SigV2).
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	header := r.Header.Get("Authorization")
	q := r.URL.Query()
	presigned := IsPresigned(q)
	switch {
	case header != "" && presigned:
		return nil, s3err.ErrInvalidArgument.WithMessage("Only one auth mechanism allowed; " +
			"only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case presigned:
		return v.verifyPresigned(r, q)
	case header != "":
		return v.verifyHeader(r, header)
	case isPresignedV2(q):
		return nil, errUnsupportedAuth
	default:
		return nil, s3err.ErrAccessDenied
	}
}

func (v *Verifier) verifyHeader(r *http.Request, header string) (*Result, error) {
	a, err := ParseAuthorization(header)
	if err != nil {
		return nil, err
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		return nil, s3err.ErrMissingSecurityHeader.WithMessage(
			"Missing required header for this request: x-amz-content-sha256.")
	}
	if !validPayloadHash(payloadHash) {
		return nil, errInvalidPayloadHash(payloadHash)
	}
	t, err := requestTime(r)
	if err != nil {
		return nil, err
	}
	if a.Scope.Date != t.Format(scopeDateFormat) {
		return nil, s3err.ErrAuthorizationHeaderMalformed.WithMessage(
			headerMalformed + "Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	if v.Region != "" && a.Scope.Region != v.Region {
		return nil, s3err.ErrAuthorizationHeaderMalformed.WithMessage(
			headerMalformed + wrongRegion(a.Scope.Region, v.Region)).WithElements(
			s3err.Element{Name: s3err.ElementRegion, Value: v.Region})
	}
	secret, ok := v.creds.SecretKey(a.AccessKey)
	if !ok {
		return nil, errUnknownAccessKey(a.AccessKey)
	}
	if r.Header.Get(headerSecurityToken) != "" {
		return nil, s3err.ErrInvalidToken
	}
	if v.MaxSkew > 0 {
		now := v.now()
		if d := now.Sub(t); d > v.MaxSkew || d < -v.MaxSkew {
			return nil, s3err.ErrRequestTimeTooSkewed.WithElements(
				s3err.Element{Name: s3err.ElementRequestTime, Value: t.UTC().Format(amzDateFormat)},
				s3err.Element{Name: s3err.ElementServerTime, Value: now.UTC().Format(s3err.TimeFormat)},
				s3err.Element{Name: s3err.ElementMaxAllowedSkewMilliseconds, Value: strconv.FormatInt(v.MaxSkew.Milliseconds(), 10)})
		}
	}
	return v.check(r, a, secret, t, payloadHash, "", false)
}

func (v *Verifier) verifyPresigned(r *http.Request, q url.Values) (*Result, error) {
	p, err := ParsePresign(q)
	if err != nil {
		return nil, err
	}
	if q.Has(querySecurityToken) {
		return nil, s3err.ErrInvalidToken
	}
	if v.Region != "" && p.Scope.Region != v.Region {
		return nil, s3err.ErrAuthorizationQueryParametersError.WithMessage(
			msgCredentialParam + wrongRegion(p.Scope.Region, v.Region)).WithElements(
			s3err.Element{Name: s3err.ElementRegion, Value: v.Region})
	}
	if date := p.Date.Format(scopeDateFormat); p.Scope.Date != date {
		return nil, s3err.ErrAuthorizationQueryParametersError.WithMessage("Invalid credential date " +
			strconv.Quote(p.Scope.Date) + ". This date is not the same as X-Amz-Date: " + strconv.Quote(date) + ".")
	}
	secret, ok := v.creds.SecretKey(p.AccessKey)
	if !ok {
		return nil, errUnknownAccessKey(p.AccessKey)
	}
	now := v.now()
	if v.MaxSkew > 0 && p.Date.Sub(now) > v.MaxSkew {
		return nil, s3err.ErrRequestNotYetValid
	}
	if expires := p.Date.Add(p.Expires); now.After(expires) {
		return nil, s3err.ErrRequestExpired.WithElements(
			s3err.Element{Name: s3err.ElementXAmzExpires, Value: strconv.FormatInt(int64(p.Expires/time.Second), 10)},
			s3err.Element{Name: s3err.ElementExpires, Value: expires.UTC().Format(s3err.TimeFormat)},
			s3err.Element{Name: s3err.ElementServerTime, Value: now.UTC().Format(s3err.TimeFormat)})
	}
	payloadHash := UnsignedPayload
	if h := q.Get(queryContentSHA256); h != "" {
		if !validPayloadHash(h) {
			return nil, s3err.ErrAuthorizationQueryParametersError.WithMessage(
				"X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
		}
		payloadHash = h
	}
	return v.check(r, p.Authorization, secret, p.Date, payloadHash, querySignature, true)
}

// headerSecurityToken carries an STS session token.
const headerSecurityToken = "X-Amz-Security-Token"

// wrongRegion is S3's message for a scope naming another region than the gateway's.
func wrongRegion(got, want string) string {
	return "the region " + strconv.Quote(got) + " is wrong; expecting " + strconv.Quote(want)
}

// errUnknownAccessKey is InvalidAccessKeyId naming the key, as S3 does (an access key
// id is not a secret).
func errUnknownAccessKey(accessKey string) error {
	return s3err.ErrInvalidAccessKeyID.WithElements(
		s3err.Element{Name: s3err.ElementAWSAccessKeyID, Value: accessKey})
}

// errInvalidPayloadHash is S3's answer to an x-amz-content-sha256 that is neither a
// hex SHA-256 nor a known keyword.
func errInvalidPayloadHash(value string) error {
	return s3err.ErrInvalidArgument.WithMessage("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "+
		"STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "+
		"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, "+
		"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.").WithElements(
		s3err.Element{Name: s3err.ElementArgumentName, Value: "x-amz-content-sha256"},
		s3err.Element{Name: s3err.ElementArgumentValue, Value: value})
}

// check recomputes the signature and compares it in constant time.
func (v *Verifier) check(r *http.Request, a Authorization, secret string, t time.Time,
	payloadHash, excludeQuery string, presigned bool) (*Result, error) {
	if unsigned := unsignedAmzHeaders(r.Header, a.SignedHeaders); len(unsigned) > 0 {
		// An x-amz-* header changes what a request does (x-amz-copy-source turns a PUT
		// into a copy), so one added after signing must not be acted on. AWS refuses
		// these too.
		return nil, s3err.ErrAccessDenied.WithMessage(
			"There were headers present in the request which were not signed").WithElements(
			s3err.Element{Name: s3err.ElementHeadersNotSigned, Value: strings.Join(unsigned, ", ")})
	}
	amzDate := t.UTC().Format(amzDateFormat)
	canonical := canonicalRequest(r, a.SignedHeaders, payloadHash, excludeQuery)
	key := DeriveSigningKey(secret, a.Scope)
	want := hmacSHA256(key, stringToSign(amzDate, a.Scope, canonical))
	got, err := hex.DecodeString(a.Signature)
	if err != nil || !hmac.Equal(got, want) {
		return nil, s3err.ErrSignatureDoesNotMatch
	}
	if r.ContentLength == 0 && IsSHA256Hex(payloadHash) && payloadHash != emptyPayloadSHA256 {
		// The body is known to be empty: S3 compares at once, before the operation
		// (which may not read a body at all).
		return nil, errPayloadMismatch(payloadHash, emptyPayloadSHA256)
	}
	return &Result{
		AccessKey:     a.AccessKey,
		Presigned:     presigned,
		Time:          t,
		Scope:         a.Scope,
		Signature:     a.Signature,
		SigningKey:    key,
		PayloadHash:   payloadHash,
		SignedHeaders: a.SignedHeaders,
	}, nil
}

// unsignedAmzHeaders returns the x-amz-* headers of h that are not in signed, sorted.
func unsignedAmzHeaders(h http.Header, signed []string) []string {
	var out []string
	for name := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(signed, lower) {
			out = append(out, lower)
		}
	}
	slices.Sort(out)
	return out
}

// requestTime reads the signed time from X-Amz-Date, or from Date when a client signs
// with that instead.
func requestTime(r *http.Request) (time.Time, error) {
	missing := s3err.ErrAccessDenied.WithMessage("AWS authentication requires a valid Date or x-amz-date header.")
	if s := r.Header.Get("X-Amz-Date"); s != "" {
		t, err := time.Parse(amzDateFormat, s)
		if err != nil {
			return time.Time{}, missing
		}
		return t, nil
	}
	if s := r.Header.Get("Date"); s != "" {
		t, err := http.ParseTime(s)
		if err != nil {
			return time.Time{}, missing
		}
		return t.UTC(), nil
	}
	return time.Time{}, missing
}
