package sigv4

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ipas/ipas/gateway/s3err"
)

// wantAPIError checks err's code and exact message, and its elements when given.
func wantAPIError(t *testing.T, err error, code, msg string, elements ...s3err.Element) {
	t.Helper()
	var e *s3err.APIError
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if e.Code != code || e.Message != msg {
		t.Fatalf("got %s %q\nwant %s %q", e.Code, e.Message, code, msg)
	}
	var d *s3err.DetailedError
	if len(elements) == 0 {
		return
	}
	if !errors.As(err, &d) || len(d.Elements) != len(elements) {
		t.Fatalf("elements of %v: want %v", err, elements)
	}
	for i := range elements {
		if d.Elements[i] != elements[i] {
			t.Fatalf("element %d = %v, want %v", i, d.Elements[i], elements[i])
		}
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	const (
		sig = "5fb279ae552098ea7c5c807df54cdb159e74939e19449b29831552639ec34b29"
		m   = "The authorization header is malformed; "
	)
	arg := func(v string) []s3err.Element {
		return []s3err.Element{{Name: "ArgumentName", Value: "Authorization"}, {Name: "ArgumentValue", Value: v}}
	}
	cases := []struct {
		header, code, msg string
		elements          []s3err.Element
	}{
		{"invalid_header", "InvalidArgument", "Authorization header is invalid -- one and only one ' ' (space) required.", arg("invalid_header")},
		{"AWS2-HMAC-SHA1 Credential=a", "InvalidArgument", "Unsupported Authorization Type", arg("AWS2-HMAC-SHA1")},
		{"AWS4-ECDSA-P256-SHA256 Credential=a", "InvalidArgument", "Unsupported Authorization Type", arg("AWS4-ECDSA-P256-SHA256")},
		{"AWS AK:sig", "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.", nil},
		{"AWS4-HMAC-SHA256 Credential=AK/20250912/us-east-1/s3/aws4_request,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + "the authorization header requires three components: Credential, SignedHeaders, and Signature.", nil},
		{"AWS4-HMAC-SHA256 Credential=AK/20250912/us-east-1/s3/aws4_request,SignedHeaders-Content-Length,Signature=signature",
			"AuthorizationHeaderMalformed", m + `the authorization component "SignedHeaders-Content-Length" is malformed.`, nil},
		{"AWS4-HMAC-SHA256 missing_creds=AK/20250912/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + "missing Credential.", nil},
		{"AWS4-HMAC-SHA256 Credential=AK/20250912/us-east-1/s3/aws4_request,Credential=x,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + "missing SignedHeaders.", nil},
		{"AWS4-HMAC-SHA256 Credential=AK/20250912/us-east-1/s3/aws4_request, SignedHeaders=host, missing=" + sig,
			"AuthorizationHeaderMalformed", m + "missing Signature.", nil},
		{"AWS4-HMAC-SHA256 Credential=AK/32234/us-east-1/s3/extra/things,SignedHeaders=host,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`, nil},
		// S3's order: service, then terminator, then date.
		{"AWS4-HMAC-SHA256 Credential=AK/32234/us-east-1/ec2/aws_request,SignedHeaders=host,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + `incorrect service "ec2". This endpoint belongs to "s3".`, nil},
		{"AWS4-HMAC-SHA256 Credential=AK/32234/us-east-1/s3/aws_request,SignedHeaders=host,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + `incorrect terminal "aws_request". This endpoint uses "aws4_request".`, nil},
		{"AWS4-HMAC-SHA256 Credential=AK/3223423234/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + `incorrect date format "3223423234". This date in the credential must be in the format "yyyyMMdd".`, nil},
		{"AWS4-HMAC-SHA256 Credential=AK/20250912/us-east-1/s3/aws4_request,SignedHeaders=x-amz-date,Signature=" + sig,
			"AuthorizationHeaderMalformed", m + "SignedHeaders must include host.", nil},
		{"AWS4-HMAC-SHA256 Credential=AK/20250912/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc",
			"AuthorizationHeaderMalformed", m + "Signature must be 64 lower-case hex digits.", nil},
	}
	for _, tc := range cases {
		_, err := ParseAuthorization(tc.header)
		wantAPIError(t, err, tc.code, tc.msg, tc.elements...)
	}
	a, err := ParseAuthorization("AWS4-HMAC-SHA256 Credential=AK/20250912/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig)
	if err != nil || a.AccessKey != "AK" || a.Scope.Region != "eu-west-1" || len(a.SignedHeaders) != 2 || a.Signature != sig {
		t.Fatalf("valid header: %+v, %v", a, err)
	}
}

func TestParsePresignErrors(t *testing.T) {
	valid := func() url.Values {
		return url.Values{
			"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
			"X-Amz-Credential":    {"AK/20250912/us-east-1/s3/aws4_request"},
			"X-Amz-Date":          {"20250912T101010Z"},
			"X-Amz-Expires":       {"3600"},
			"X-Amz-SignedHeaders": {"host"},
			"X-Amz-Signature":     {strings.Repeat("0", 64)},
		}
	}
	const (
		missing = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, " +
			"X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
		cred = "Error parsing the X-Amz-Credential parameter; "
	)
	cases := []struct {
		name string
		edit func(url.Values)
		msg  string
	}{
		{"other algorithm", func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-SHA256") },
			`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`},
		{"sigv4a", func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") }, `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`},
		{"algorithm first", func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-SHA256"); q.Del("X-Amz-Date") },
			`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`},
		{"no algorithm", func(q url.Values) { q.Del("X-Amz-Algorithm") }, missing},
		{"no credential", func(q url.Values) { q.Del("X-Amz-Credential") }, missing},
		{"no date", func(q url.Values) { q.Del("X-Amz-Date") }, missing},
		{"no expires", func(q url.Values) { q.Del("X-Amz-Expires") }, missing},
		{"no signed headers", func(q url.Values) { q.Del("X-Amz-SignedHeaders") }, missing},
		{"no signature", func(q url.Values) { q.Del("X-Amz-Signature") }, missing},
		{"signature twice", func(q url.Values) { q.Add("X-Amz-Signature", "x") }, missing},
		{"credential in three parts", func(q url.Values) { q.Set("X-Amz-Credential", "access/hello/world") },
			cred + `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`},
		{"service", func(q url.Values) { q.Set("X-Amz-Credential", "AK/20250912/us-east-1/sns/aws4_request") },
			cred + `incorrect service "sns". This endpoint belongs to "s3".`},
		{"terminal", func(q url.Values) { q.Set("X-Amz-Credential", "AK/20250912/us-east-1/s3/aws5_request") },
			cred + `incorrect terminal "aws5_request". This endpoint uses "aws4_request".`},
		{"credential date", func(q url.Values) { q.Set("X-Amz-Credential", "AK/32234Z34/us-east-1/s3/aws4_request") },
			cred + `incorrect date format "32234Z34". This date in the credential must be in the format "yyyyMMdd".`},
		{"date", func(q url.Values) { q.Set("X-Amz-Date", "20250912") }, `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`},
		{"expires word", func(q url.Values) { q.Set("X-Amz-Expires", "invalid_value") }, "X-Amz-Expires should be a number"},
		{"expires negative", func(q url.Values) { q.Set("X-Amz-Expires", "-3") }, "X-Amz-Expires must be non-negative"},
		{"expires too large", func(q url.Values) { q.Set("X-Amz-Expires", "60580000") },
			"X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
		{"signed headers without host", func(q url.Values) { q.Set("X-Amz-SignedHeaders", "x-amz-date") },
			"X-Amz-SignedHeaders must include host."},
		{"short signature", func(q url.Values) { q.Set("X-Amz-Signature", "abc") }, "X-Amz-Signature must be 64 lower-case hex digits."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := valid()
			tc.edit(q)
			_, err := ParsePresign(q)
			wantAPIError(t, err, "AuthorizationQueryParametersError", tc.msg)
		})
	}
	p, err := ParsePresign(valid())
	if err != nil || p.AccessKey != "AK" || p.Expires.Seconds() != 3600 {
		t.Fatalf("valid presign: %+v, %v", p, err)
	}
}
