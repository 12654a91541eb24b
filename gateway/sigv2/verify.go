package sigv2

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

// DefaultMaxSkew is how far a header-signed request's Date may be from the
// server clock, the same 15 minutes as SigV4.
const DefaultMaxSkew = 15 * time.Minute

// Names of SigV2 parameters and headers.
const (
	scheme          = "AWS "
	queryAccessKey  = "AWSAccessKeyId"
	querySignature  = "Signature"
	queryExpires    = "Expires"
	headerAmzDate   = "X-Amz-Date"
	amzPrefix       = "x-amz-"
	securityToken   = "x-amz-security-token"
	headerContentMD = "Content-Md5"
)

// Verifier checks SigV2 signatures. Set its exported fields before use; it is
// safe for concurrent use afterwards.
type Verifier struct {
	creds sigv4.Credentials // the same keys as SigV4
	// MaxSkew bounds the difference between a header-signed request's Date
	// and the server clock; 0 disables the check.
	MaxSkew time.Duration
	now     func() time.Time
}

// NewVerifier returns a Verifier over creds with DefaultMaxSkew.
func NewVerifier(creds sigv4.Credentials) *Verifier {
	return &Verifier{creds: creds, MaxSkew: DefaultMaxSkew, now: time.Now}
}

// Result is a verified request.
type Result struct {
	AccessKey string
	Presigned bool
	// Time is the signed Date (header) or the expiry (presigned).
	Time time.Time
	// SignedHeaders are the lower-case names of the request headers the
	// signature covers (content-md5, content-type, date, x-amz-*).
	SignedHeaders []string
}

// Is reports whether r is signed with SigV2: an "AWS " Authorization header,
// or, without one, SigV2 presign parameters and none of SigV4's.
func Is(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		return strings.HasPrefix(h, scheme)
	}
	q := r.URL.Query()
	return (q.Has(queryAccessKey) || q.Has(querySignature)) && !q.Has("X-Amz-Algorithm") &&
		!q.Has("X-Amz-Credential") && !q.Has("X-Amz-Signature")
}

// Verify authenticates r; vhostBucket is the bucket its Host names
// virtual-host style ("" for a path-style request), which S3 puts at the
// head of the signed resource. Errors: AccessDenied (missing or expired
// parameters, no date), InvalidArgument (a malformed header, two auth
// mechanisms), InvalidAccessKeyId, SignatureDoesNotMatch,
// RequestTimeTooSkewed, InvalidToken.
func (v *Verifier) Verify(r *http.Request, vhostBucket string) (*Result, error) {
	q := r.URL.Query()
	header := r.Header.Get("Authorization")
	if header != "" && (q.Has(querySignature) || q.Has("X-Amz-Signature")) {
		return nil, s3err.ErrInvalidArgument.WithMessage("Only one auth mechanism allowed; only the X-Amz-Algorithm "+
			"query parameter, Signature query string parameter or the Authorization header should be specified").WithElements(
			s3err.Element{Name: s3err.ElementArgumentName, Value: "Authorization"},
			s3err.Element{Name: s3err.ElementArgumentValue, Value: header})
	}
	if header != "" {
		return v.verifyHeader(r, header, vhostBucket)
	}
	return v.verifyPresigned(r, q, vhostBucket)
}

func (v *Verifier) verifyHeader(r *http.Request, header, vhostBucket string) (*Result, error) {
	accessKey, sig, ok := strings.Cut(strings.TrimPrefix(header, scheme), ":")
	if !ok || accessKey == "" || sig == "" {
		return nil, s3err.ErrInvalidArgument.WithMessage(
			"AWS authorization header is invalid.  Expected AwsAccessKeyId:signature").WithElements(
			s3err.Element{Name: s3err.ElementArgumentName, Value: "Authorization"},
			s3err.Element{Name: s3err.ElementArgumentValue, Value: header})
	}
	t, err := requestTime(r)
	if err != nil {
		return nil, err
	}
	secret, ok := v.creds.SecretKey(accessKey)
	if !ok {
		return nil, errUnknownAccessKey(accessKey)
	}
	if r.Header.Get(securityToken) != "" {
		return nil, s3err.ErrInvalidToken
	}
	if v.MaxSkew > 0 {
		now := v.now()
		if d := now.Sub(t); d > v.MaxSkew || d < -v.MaxSkew {
			return nil, s3err.ErrRequestTimeTooSkewed.WithElements(
				s3err.Element{Name: s3err.ElementRequestTime, Value: r.Header.Get("Date") + r.Header.Get(headerAmzDate)},
				s3err.Element{Name: s3err.ElementServerTime, Value: now.UTC().Format(s3err.TimeFormat)},
				s3err.Element{Name: s3err.ElementMaxAllowedSkewMilliseconds, Value: strconv.FormatInt(v.MaxSkew.Milliseconds(), 10)})
		}
	}
	date := r.Header.Get("Date")
	if r.Header.Get(headerAmzDate) != "" {
		date = "" // x-amz-date is signed among the x-amz-* headers instead
	}
	signed, ok := signatureMatches(r, secret, sig, date, vhostBucket, false)
	if !ok {
		return nil, s3err.ErrSignatureDoesNotMatch
	}
	return &Result{AccessKey: accessKey, Time: t, SignedHeaders: signed}, nil
}

func (v *Verifier) verifyPresigned(r *http.Request, q url.Values, vhostBucket string) (*Result, error) {
	accessKey, sig, expires := q.Get(queryAccessKey), q.Get(querySignature), q.Get(queryExpires)
	if accessKey == "" || sig == "" || expires == "" {
		return nil, s3err.ErrAccessDenied.WithMessage(
			"Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	secs, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || secs < 0 {
		return nil, s3err.ErrAccessDenied.WithMessage("Invalid date (should be seconds since epoch): " + expires)
	}
	secret, ok := v.creds.SecretKey(accessKey)
	if !ok {
		return nil, errUnknownAccessKey(accessKey)
	}
	if q.Has(securityToken) || r.Header.Get(securityToken) != "" {
		return nil, s3err.ErrInvalidToken
	}
	signed, ok := signatureMatches(r, secret, sig, expires, vhostBucket, true)
	if !ok {
		return nil, s3err.ErrSignatureDoesNotMatch
	}
	// Expiry after the signature, as S3: a forged URL learns nothing of it.
	at := time.Unix(secs, 0)
	if now := v.now(); now.After(at) {
		return nil, s3err.ErrRequestExpired.WithElements(
			s3err.Element{Name: s3err.ElementExpires, Value: at.UTC().Format(s3err.TimeFormat)},
			s3err.Element{Name: s3err.ElementServerTime, Value: now.UTC().Format(s3err.TimeFormat)})
	}
	return &Result{AccessKey: accessKey, Presigned: true, Time: at, SignedHeaders: signed}, nil
}

// signatureMatches checks sig against r's string to sign. A path-style
// request to a bucket ("/docs") may be signed with the bucket's resource as
// S3 writes it for a virtual-host request ("/docs/"), as botocore does.
func signatureMatches(r *http.Request, secret, sig, date, vhostBucket string, presigned bool) ([]string, bool) {
	sts, signed := StringToSign(r, date, vhostBucket, presigned)
	if checkSignature(secret, sts, sig) {
		return signed, true
	}
	path := r.URL.EscapedPath()
	if vhostBucket != "" || len(path) < 2 || strings.Contains(path[1:], "/") {
		return nil, false
	}
	resource := canonicalResource(r, "")
	sts = strings.TrimSuffix(sts, resource) + path + "/" + strings.TrimPrefix(resource, path)
	return signed, checkSignature(secret, sts, sig)
}

// checkSignature compares the base64 HMAC-SHA1 of sts with sig in constant time.
func checkSignature(secret, sts, sig string) bool {
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, Sign(secret, sts))
}

// Sign returns the HMAC-SHA1 of a string to sign under secret.
func Sign(secret, sts string) []byte {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(sts))
	return m.Sum(nil)
}

func errUnknownAccessKey(accessKey string) error {
	return s3err.ErrInvalidAccessKeyID.WithElements(
		s3err.Element{Name: s3err.ElementAWSAccessKeyID, Value: accessKey})
}

// requestTime reads the signed time from x-amz-date, or Date.
func requestTime(r *http.Request) (time.Time, error) {
	s := r.Header.Get(headerAmzDate)
	if s == "" {
		s = r.Header.Get("Date")
	}
	if s != "" {
		if t, err := http.ParseTime(s); err == nil {
			return t, nil
		}
		// s3cmd sends "+0000" rather than "GMT"; SigV4 clients the ISO 8601 form.
		for _, layout := range []string{time.RFC1123Z, time.RFC1123, "20060102T150405Z"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, s3err.ErrAccessDenied.WithMessage("AWS authentication requires a valid Date or x-amz-date header")
}

// signedSubresources are the query parameters S3 puts in the signed resource:
// sub-resources and response header overrides.
var signedSubresources = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption", "inventory",
	"legal-hold", "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
	"partNumber", "policy", "replication", "requestPayment", "response-cache-control",
	"response-content-disposition", "response-content-encoding", "response-content-language",
	"response-content-type", "response-expires", "restore", "retention", "select", "select-type",
	"storageClass", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
	"versions", "website",
}

// StringToSign builds S3's SigV2 string to sign for r with date as its date
// line (the Date header, "" when x-amz-date is sent, or a presigned URL's
// Expires), and the lower-case names of the headers it covers. A presigned
// URL may carry x-amz-* values, Content-Type and Content-MD5 as query
// parameters, as botocore sends them.
func StringToSign(r *http.Request, date, vhostBucket string, presigned bool) (string, []string) {
	q := r.URL.Query()
	var signed []string
	standard := func(name string) string {
		v := strings.TrimSpace(r.Header.Get(name))
		if v != "" {
			signed = append(signed, strings.ToLower(name))
		} else if presigned {
			v = strings.TrimSpace(q.Get(strings.ToLower(name)))
		}
		return v
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(standard(headerContentMD) + "\n")
	b.WriteString(standard("Content-Type") + "\n")
	b.WriteString(date + "\n")
	if r.Header.Get("Date") != "" {
		signed = append(signed, "date")
	}
	amz := map[string][]string{}
	for name, vs := range r.Header {
		if lower := strings.ToLower(name); strings.HasPrefix(lower, amzPrefix) {
			amz[lower] = append(amz[lower], vs...)
		}
	}
	if presigned {
		for name, vs := range q {
			if lower := strings.ToLower(name); strings.HasPrefix(lower, amzPrefix) {
				amz[lower] = append(amz[lower], vs...)
			}
		}
	}
	names := make([]string, 0, len(amz))
	for name := range amz {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		vs := amz[name]
		for i, v := range vs {
			vs[i] = strings.Join(strings.Fields(v), " ") // unfold, as S3 does
		}
		b.WriteString(name + ":" + strings.Join(vs, ",") + "\n")
		if _, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
			signed = append(signed, name)
		}
	}
	b.WriteString(canonicalResource(r, vhostBucket))
	return b.String(), signed
}

// canonicalResource is the bucket of a virtual-host request, the path as the
// client sent it, and the signed sub-resources sorted, with decoded values.
func canonicalResource(r *http.Request, vhostBucket string) string {
	path, rawQuery := r.URL.EscapedPath(), r.URL.RawQuery
	if strings.HasPrefix(r.RequestURI, "/") {
		path, _, _ = strings.Cut(r.RequestURI, "?")
	}
	var b strings.Builder
	if vhostBucket != "" {
		b.WriteString("/" + vhostBucket)
	}
	b.WriteString(path)
	type param struct{ key, pair string }
	var params []param
	for _, kv := range strings.Split(rawQuery, "&") {
		k, v, hasValue := strings.Cut(kv, "=")
		if !slices.Contains(signedSubresources, k) {
			continue
		}
		pair := k
		if hasValue {
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
			pair = k + "=" + v
		}
		params = append(params, param{k, pair})
	}
	slices.SortStableFunc(params, func(a, b param) int { return strings.Compare(a.key, b.key) })
	for i, p := range params {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(p.pair)
	}
	return b.String()
}
