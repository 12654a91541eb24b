package sigv4

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
)

// Algorithm is the only signing algorithm accepted.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	// scopeTerminator ends every credential scope.
	scopeTerminator = "aws4_request"
	// amzDateFormat is the ISO 8601 basic format of X-Amz-Date.
	amzDateFormat = "20060102T150405Z"
	// scopeDateFormat is the date in a credential scope.
	scopeDateFormat = "20060102"
	// signatureHexLen is the length of a hex HMAC-SHA256.
	signatureHexLen = 64
	// maxSignedHeaders bounds the SignedHeaders list so a hostile header cannot make
	// us build a huge canonical request.
	maxSignedHeaders = 64
)

// Scope is a credential scope: date/region/service/aws4_request.
type Scope struct {
	Date    string // YYYYMMDD
	Region  string
	Service string
}

// String returns the scope as it appears in the string to sign.
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + scopeTerminator
}

// Authorization is the parsed signature part of a request: from the Authorization
// header or from presign query parameters.
type Authorization struct {
	AccessKey     string
	Scope         Scope
	SignedHeaders []string // lower case, in the order given
	Signature     string   // 64 lower-case hex digits
}

// ParseAuthorization parses an Authorization header value of the form
//
//	AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex
//
// Another scheme (SigV2 "AWS ", SigV4a) gives InvalidRequest ("not supported"); a
// SigV4 header that does not parse gives AuthorizationHeaderMalformed.
func ParseAuthorization(header string) (Authorization, error) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || scheme != Algorithm {
		return Authorization{}, errUnsupportedAuth
	}
	malformed := func(why string) (Authorization, error) {
		return Authorization{}, s3err.ErrAuthorizationHeaderMalformed.WithMessage(
			"The authorization header is malformed; " + why + ".")
	}
	fields := make(map[string]string, 3)
	for _, field := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return malformed("each component must be key=value")
		}
		switch k {
		case "Credential", "SignedHeaders", "Signature":
		default:
			return malformed("unknown component " + strconv.Quote(k))
		}
		if _, dup := fields[k]; dup {
			return malformed(k + " given twice")
		}
		fields[k] = v
	}
	if len(fields) != 3 {
		return malformed("Credential, SignedHeaders and Signature are required")
	}
	a, why := buildAuthorization(fields["Credential"], fields["SignedHeaders"], fields["Signature"])
	if why != "" {
		return malformed(why)
	}
	return a, nil
}

// errUnsupportedAuth is what S3 answers for SigV2 and other schemes.
var errUnsupportedAuth = s3err.ErrInvalidRequest.WithMessage(
	"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")

// buildAuthorization checks the three shared components; why is empty when they are
// valid, else it says what is wrong.
func buildAuthorization(cred, signed, sig string) (Authorization, string) {
	var a Authorization
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return a, "the Credential must be access-key/date/region/service/aws4_request"
	}
	a.AccessKey = parts[0]
	a.Scope = Scope{Date: parts[1], Region: parts[2], Service: parts[3]}
	if a.AccessKey == "" {
		return a, "the access key is empty"
	}
	if _, err := time.Parse(scopeDateFormat, a.Scope.Date); err != nil || len(a.Scope.Date) != len(scopeDateFormat) {
		return a, "the Credential date must be YYYYMMDD"
	}
	if a.Scope.Region == "" {
		return a, "the Credential region is empty"
	}
	if a.Scope.Service != "s3" {
		return a, "the Credential service must be s3"
	}
	if parts[4] != scopeTerminator {
		return a, "the Credential must end with aws4_request"
	}
	if signed == "" {
		return a, "SignedHeaders is empty"
	}
	a.SignedHeaders = strings.Split(signed, ";")
	if len(a.SignedHeaders) > maxSignedHeaders {
		return a, "too many SignedHeaders"
	}
	haveHost := false
	for _, h := range a.SignedHeaders {
		if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, " \t:") {
			return a, "SignedHeaders must be lower-case header names separated by ';'"
		}
		haveHost = haveHost || h == "host"
	}
	if !haveHost {
		return a, "SignedHeaders must include host"
	}
	if len(sig) != signatureHexLen || !isLowerHex(sig) {
		return a, "the Signature must be 64 lower-case hex digits"
	}
	a.Signature = sig
	return a, ""
}

// Presign query parameter names.
const (
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryContentSHA256 = "X-Amz-Content-Sha256"
)

// MaxPresignExpiry is the longest X-Amz-Expires S3 accepts: 7 days.
const MaxPresignExpiry = 7 * 24 * time.Hour

// Presign is a parsed presigned URL.
type Presign struct {
	Authorization
	Date    time.Time
	Expires time.Duration
}

// IsPresigned reports whether the query carries presign parameters.
func IsPresigned(q url.Values) bool {
	return q.Has(queryAlgorithm) || q.Has(querySignature) || q.Has(queryCredential)
}

// ParsePresign parses the X-Amz-* presign parameters. Anything missing or invalid
// gives AuthorizationQueryParametersError; another algorithm gives InvalidRequest.
func ParsePresign(q url.Values) (Presign, error) {
	bad := func(why string) (Presign, error) {
		return Presign{}, s3err.ErrAuthorizationQueryParametersError.WithMessage(
			"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, " +
				"X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; " + why + ".")
	}
	for _, k := range []string{queryAlgorithm, queryCredential, queryDate, queryExpires, querySignedHeaders, querySignature} {
		if len(q[k]) != 1 {
			return bad(k + " must be given exactly once")
		}
	}
	if q.Get(queryAlgorithm) != Algorithm {
		return Presign{}, errUnsupportedAuth
	}
	a, why := buildAuthorization(q.Get(queryCredential), q.Get(querySignedHeaders), q.Get(querySignature))
	if why != "" {
		return bad(why)
	}
	date, err := time.Parse(amzDateFormat, q.Get(queryDate))
	if err != nil {
		return bad("X-Amz-Date must be in the format YYYYMMDD'T'HHMMSS'Z'")
	}
	secs, err := strconv.ParseInt(q.Get(queryExpires), 10, 64)
	if err != nil || secs < 0 {
		return bad("X-Amz-Expires must be a non-negative integer")
	}
	if secs > int64(MaxPresignExpiry/time.Second) {
		return bad("X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	return Presign{Authorization: a, Date: date, Expires: time.Duration(secs) * time.Second}, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
