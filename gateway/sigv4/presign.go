package sigv4

import (
	"net/url"
	"strconv"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
)

// Presign query parameter names.
const (
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	queryContentSHA256 = "X-Amz-Content-Sha256"
	querySecurityToken = "X-Amz-Security-Token"
	// queryV2AccessKey and queryV2Signature mark a SigV2 presigned URL.
	queryV2AccessKey = "AWSAccessKeyId"
	queryV2Signature = "Signature"
	// algorithmECDSA is SigV4a, which S3 accepts and the gateway does not.
	algorithmECDSA = "AWS4-ECDSA-P256-SHA256"
)

// MaxPresignExpiry is the longest X-Amz-Expires S3 accepts: 7 days.
const MaxPresignExpiry = 7 * 24 * time.Hour

// Messages of AuthorizationQueryParametersError, S3's wording.
const (
	msgMissingQueryParams = "Query-string authentication version 4 requires the X-Amz-Algorithm, " +
		"X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
	msgUnsupportedAlgorithm = `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`
	// msgOnlyHMAC is not S3's (S3 accepts SigV4a): it tells the client what to use.
	msgOnlyHMAC          = `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`
	msgCredentialParam   = "Error parsing the X-Amz-Credential parameter; "
	msgDateFormat        = `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`
	msgExpiresNumber     = "X-Amz-Expires should be a number"
	msgExpiresNegative   = "X-Amz-Expires must be non-negative"
	msgExpiresTooLarge   = "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"
	queryParamNamePrefix = "X-Amz-"
)

// Presign is a parsed presigned URL.
type Presign struct {
	Authorization
	Date    time.Time
	Expires time.Duration
}

// IsPresigned reports whether the query carries SigV4 presign parameters.
func IsPresigned(q url.Values) bool {
	return q.Has(queryAlgorithm) || q.Has(querySignature) || q.Has(queryCredential)
}

// isPresignedV2 reports whether the query carries SigV2 presign parameters.
func isPresignedV2(q url.Values) bool {
	return q.Has(queryV2AccessKey) || q.Has(queryV2Signature)
}

// ParsePresign parses the X-Amz-* presign parameters. Anything missing, repeated or
// invalid gives AuthorizationQueryParametersError with S3's message.
func ParsePresign(q url.Values) (Presign, error) {
	bad := func(msg string) (Presign, error) {
		return Presign{}, s3err.ErrAuthorizationQueryParametersError.WithMessage(msg)
	}
	if algs := q[queryAlgorithm]; len(algs) == 1 && algs[0] != "" && algs[0] != Algorithm {
		if algs[0] == algorithmECDSA {
			return bad(msgOnlyHMAC)
		}
		return bad(msgUnsupportedAlgorithm)
	}
	for _, k := range []string{queryAlgorithm, queryCredential, queryDate, queryExpires, querySignedHeaders, querySignature} {
		if v := q[k]; len(v) != 1 || v[0] == "" {
			return bad(msgMissingQueryParams)
		}
	}
	var p Presign
	var why string
	if p.AccessKey, p.Scope, why = parseCredential(q.Get(queryCredential)); why != "" {
		return bad(msgCredentialParam + why)
	}
	date, err := time.Parse(amzDateFormat, q.Get(queryDate))
	if err != nil {
		return bad(msgDateFormat)
	}
	p.Date = date
	secs, err := strconv.ParseInt(q.Get(queryExpires), 10, 64)
	switch {
	case err != nil:
		return bad(msgExpiresNumber)
	case secs < 0:
		return bad(msgExpiresNegative)
	case secs > int64(MaxPresignExpiry/time.Second):
		return bad(msgExpiresTooLarge)
	}
	p.Expires = time.Duration(secs) * time.Second
	if p.SignedHeaders, why = parseSignedHeaders(q.Get(querySignedHeaders)); why != "" {
		return bad(queryParamNamePrefix + why + ".")
	}
	if p.Signature, why = parseSignature(q.Get(querySignature)); why != "" {
		return bad(queryParamNamePrefix + why + ".")
	}
	return p, nil
}
