package sigv4

import (
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
	// scopeService is the only service a scope may name.
	scopeService = "s3"
	// sigV2Scheme starts a SigV2 Authorization header.
	sigV2Scheme = "AWS"
	// amzDateFormat is the ISO 8601 basic format of X-Amz-Date.
	amzDateFormat = "20060102T150405Z"
	// scopeDateFormat is the date in a credential scope.
	scopeDateFormat = "20060102"
	// signatureHexLen is the length of a hex HMAC-SHA256.
	signatureHexLen = 64
	// maxSignedHeaders bounds the SignedHeaders list so a hostile header cannot make
	// us build a huge canonical request. SDKs sign every header they send, and S3's
	// 2 KB of user metadata fit in hundreds of short x-amz-meta-* headers, so the
	// bound is well above any honest request; the server's MaxHeaderBytes bounds
	// the bytes of the headers themselves.
	maxSignedHeaders = 512
	// headerMalformed starts every AuthorizationHeaderMalformed message, as in S3.
	headerMalformed = "The authorization header is malformed; "
	// authorizationHeader is the ArgumentName of InvalidArgument errors about it.
	authorizationHeader = "Authorization"
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
// The errors are S3's: a value without a space or with another scheme than SigV2 or
// SigV4 gives InvalidArgument (naming the Authorization header and the value), SigV2
// gives InvalidRequest ("not supported"), and a SigV4 header that does not parse gives
// AuthorizationHeaderMalformed saying what is wrong.
func ParseAuthorization(header string) (Authorization, error) {
	scheme, rest, ok := strings.Cut(header, " ")
	switch {
	case !ok:
		return Authorization{}, invalidAuthorization(
			"Authorization header is invalid -- one and only one ' ' (space) required.", header)
	case scheme == sigV2Scheme:
		return Authorization{}, errUnsupportedAuth
	case scheme != Algorithm:
		return Authorization{}, invalidAuthorization("Unsupported Authorization Type", scheme)
	}
	malformed := func(why string) (Authorization, error) {
		return Authorization{}, s3err.ErrAuthorizationHeaderMalformed.WithMessage(headerMalformed + why)
	}
	components := strings.Split(rest, ",")
	if len(components) != 3 {
		return malformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.")
	}
	fields := make(map[string]string, len(components))
	for _, c := range components {
		c = strings.TrimSpace(c)
		k, v, ok := strings.Cut(c, "=")
		if !ok || strings.Contains(v, "=") {
			return malformed("the authorization component " + strconv.Quote(c) + " is malformed.")
		}
		fields[k] = v
	}
	// With exactly three components, an unknown or repeated name leaves one of the
	// three out: S3 names the first one missing.
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if _, ok := fields[k]; !ok {
			return malformed("missing " + k + ".")
		}
	}
	var a Authorization
	var why string
	if a.AccessKey, a.Scope, why = parseCredential(fields["Credential"]); why != "" {
		return malformed(why)
	}
	if a.SignedHeaders, why = parseSignedHeaders(fields["SignedHeaders"]); why != "" {
		return malformed(why + ".")
	}
	if a.Signature, why = parseSignature(fields["Signature"]); why != "" {
		return malformed(why + ".")
	}
	return a, nil
}

// invalidAuthorization is S3's InvalidArgument about the Authorization header. The
// value goes back to the client that sent it; it is never logged.
func invalidAuthorization(msg, value string) error {
	return s3err.ErrInvalidArgument.WithMessage(msg).WithElements(
		s3err.Element{Name: s3err.ElementArgumentName, Value: authorizationHeader},
		s3err.Element{Name: s3err.ElementArgumentValue, Value: value})
}

// errUnsupportedAuth is what S3 answers for SigV2, in a header or a query.
var errUnsupportedAuth = s3err.ErrInvalidRequest.WithMessage(
	"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")

// parseCredential splits access-key/date/region/service/aws4_request. why is empty
// when it is valid, else the end of S3's message, checked in S3's order: shape,
// service, terminator, date.
func parseCredential(cred string) (accessKey string, scope Scope, why string) {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" {
		return "", Scope{}, `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
	}
	if parts[3] != scopeService {
		return "", Scope{}, "incorrect service " + strconv.Quote(parts[3]) + `. This endpoint belongs to "s3".`
	}
	if parts[4] != scopeTerminator {
		return "", Scope{}, "incorrect terminal " + strconv.Quote(parts[4]) + `. This endpoint uses "aws4_request".`
	}
	if _, err := time.Parse(scopeDateFormat, parts[1]); err != nil || len(parts[1]) != len(scopeDateFormat) {
		return "", Scope{}, "incorrect date format " + strconv.Quote(parts[1]) +
			`. This date in the credential must be in the format "yyyyMMdd".`
	}
	return parts[0], Scope{Date: parts[1], Region: parts[2], Service: parts[3]}, ""
}

// parseSignedHeaders splits a SignedHeaders list; why, when not empty, says what is
// wrong, starting with "SignedHeaders".
func parseSignedHeaders(signed string) ([]string, string) {
	if signed == "" {
		return nil, "SignedHeaders is empty"
	}
	list := strings.Split(signed, ";")
	if len(list) > maxSignedHeaders {
		return nil, "SignedHeaders lists more than " + strconv.Itoa(maxSignedHeaders) + " headers"
	}
	haveHost := false
	for _, h := range list {
		if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, " \t:") {
			return nil, "SignedHeaders must be lower-case header names separated by ';'"
		}
		haveHost = haveHost || h == "host"
	}
	if !haveHost {
		return nil, "SignedHeaders must include host"
	}
	return list, ""
}

// parseSignature checks the form of a signature; why starts with "Signature".
func parseSignature(sig string) (string, string) {
	if len(sig) != signatureHexLen || !isLowerHex(sig) {
		return "", "Signature must be 64 lower-case hex digits"
	}
	return sig, ""
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

// ParseCredential splits a credential (access-key/date/region/service/aws4_request),
// as a browser form upload sends it in x-amz-credential; why, when not empty, is the
// end of S3's message saying what is wrong.
func ParseCredential(cred string) (accessKey string, scope Scope, why string) {
	return parseCredential(cred)
}
