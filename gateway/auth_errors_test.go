package gateway

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// errorDoc returns the children of an S3 <Error> document by name.
func errorDoc(t *testing.T, body []byte) map[string]string {
	t.Helper()
	doc := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth, name := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return doc
		}
		if err != nil {
			t.Fatalf("error body %q: %v", body, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && tok.Name.Local != "Error" {
				t.Fatalf("root <%s>, want <Error>: %s", tok.Name.Local, body)
			}
			name = tok.Name.Local
			doc[name] = ""
		case xml.CharData:
			if depth == 2 {
				doc[name] += string(tok)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// signAs signs req with the SDK's signer for region at time at; the payload hash
// header is set to hash.
func signAs(t *testing.T, req *http.Request, creds aws.Credentials, region, hash string, at time.Time) *http.Request {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, "s3", region, at); err != nil {
		t.Fatal(err)
	}
	return req
}

// presignAs returns a presigned URL for method on rawURL, valid for expires from at.
func presignAs(t *testing.T, method, rawURL string, creds aws.Credentials, region string, expires time.Duration, at time.Time) url.Values {
	t.Helper()
	req := mustReq(http.NewRequest(method, rawURL+"?X-Amz-Expires="+strconv.Itoa(int(expires/time.Second)), nil))
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", region, at)
	if err != nil {
		t.Fatal(err)
	}
	return mustReq(http.NewRequest(method, u, nil)).URL.Query()
}

// TestAuthErrorDocuments checks, through the real server, the code, status, message
// and the extra elements S3 sends for each way authentication fails, and that no
// error body ever contains a secret.
func TestAuthErrorDocuments(t *testing.T) {
	g := newGateway(t, withConfig(func(c *Config) { c.RequireRegion = true }))
	c := g.client()
	mustBucket(t, c, "auth")
	put(t, c, "auth", "k", []byte("data"))
	obj := g.URL + "/auth/k"
	now := time.Now()
	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}
	good := func() *http.Request {
		return signAs(t, mustReq(http.NewRequest("GET", obj, nil)), creds, "us-east-1", emptySHA256, now)
	}
	withAuth := func(v string) *http.Request {
		r := good()
		r.Header.Set("Authorization", v)
		return r
	}
	replaceAuth := func(old, new string) *http.Request {
		r := good()
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		return r
	}
	presigned := func(edit func(q url.Values)) *http.Request {
		q := presignAs(t, "GET", obj, creds, "us-east-1", time.Hour, now)
		edit(q)
		return mustReq(http.NewRequest("GET", obj+"?"+q.Encode(), nil))
	}
	scope := testAccessKey + "/" + now.UTC().Format("20060102") + "/us-east-1/s3/aws4_request"
	sig := strings.Repeat("a", 64)
	const malformed = "The authorization header is malformed; "

	cases := []struct {
		name     string
		req      *http.Request
		status   int
		code     string
		message  string            // exact, when not empty
		elements map[string]string // exact values; "*" only asks for a non-empty one
	}{
		{name: "no space in header", req: withAuth("invalid_header"), status: 400, code: "InvalidArgument",
			message:  "Authorization header is invalid -- one and only one ' ' (space) required.",
			elements: map[string]string{"ArgumentName": "Authorization", "ArgumentValue": "invalid_header"}},
		{name: "unknown scheme", req: replaceAuth("AWS4-HMAC-SHA256", "AWS2-HMAC-SHA1"), status: 400, code: "InvalidArgument",
			message:  "Unsupported Authorization Type",
			elements: map[string]string{"ArgumentName": "Authorization", "ArgumentValue": "AWS2-HMAC-SHA1"}},
		{name: "sigv2 header, wrong signature", req: withAuth("AWS " + testAccessKey + ":c2ln"), status: 403, code: "SignatureDoesNotMatch"},
		{name: "sigv2 header without signature", req: withAuth("AWS " + testAccessKey), status: 400, code: "InvalidArgument",
			message:  "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
			elements: map[string]string{"ArgumentName": "Authorization", "ArgumentValue": "AWS " + testAccessKey}},
		{name: "two components", req: withAuth("AWS4-HMAC-SHA256 Credential=" + scope + ",Signature=" + sig),
			status: 400, code: "AuthorizationHeaderMalformed",
			message: malformed + "the authorization header requires three components: Credential, SignedHeaders, and Signature."},
		{name: "component without =", req: withAuth("AWS4-HMAC-SHA256 Credential=" + scope + ",SignedHeaders-host,Signature=" + sig),
			status: 400, code: "AuthorizationHeaderMalformed",
			message: malformed + `the authorization component "SignedHeaders-host" is malformed.`},
		{name: "no Credential", req: withAuth("AWS4-HMAC-SHA256 Cred=" + scope + ",SignedHeaders=host,Signature=" + sig),
			status: 400, code: "AuthorizationHeaderMalformed", message: malformed + "missing Credential."},
		{name: "no SignedHeaders", req: withAuth("AWS4-HMAC-SHA256 Credential=" + scope + ",Signed=host,Signature=" + sig),
			status: 400, code: "AuthorizationHeaderMalformed", message: malformed + "missing SignedHeaders."},
		{name: "no Signature", req: withAuth("AWS4-HMAC-SHA256 Credential=" + scope + ",SignedHeaders=host,Sig=" + sig),
			status: 400, code: "AuthorizationHeaderMalformed", message: malformed + "missing Signature."},
		{name: "credential with six parts", req: replaceAuth("/aws4_request", "/aws4_request/x"), status: 400,
			code:    "AuthorizationHeaderMalformed",
			message: malformed + `the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`},
		{name: "another service", req: replaceAuth("/s3/", "/ec2/"), status: 400, code: "AuthorizationHeaderMalformed",
			message: malformed + `incorrect service "ec2". This endpoint belongs to "s3".`},
		{name: "another terminal", req: replaceAuth("/aws4_request", "/aws_request"), status: 400, code: "AuthorizationHeaderMalformed",
			message: malformed + `incorrect terminal "aws_request". This endpoint uses "aws4_request".`},
		{name: "bad credential date", req: replaceAuth("/"+now.UTC().Format("20060102")+"/", "/2024131/"), status: 400,
			code:    "AuthorizationHeaderMalformed",
			message: malformed + `incorrect date format "2024131". This date in the credential must be in the format "yyyyMMdd".`},
		{name: "another region",
			req:    signAs(t, mustReq(http.NewRequest("GET", obj, nil)), creds, "eu-west-1", emptySHA256, now),
			status: 400, code: "AuthorizationHeaderMalformed",
			message:  malformed + `the region "eu-west-1" is wrong; expecting "us-east-1"`,
			elements: map[string]string{"Region": "us-east-1"}},
		{name: "unknown access key",
			req:    signAs(t, mustReq(http.NewRequest("GET", obj, nil)), aws.Credentials{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, "us-east-1", emptySHA256, now),
			status: 403, code: "InvalidAccessKeyId", elements: map[string]string{"AWSAccessKeyId": "AKIDNOBODY"}},
		{name: "session token with permanent keys",
			req: signAs(t, mustReq(http.NewRequest("GET", obj, nil)),
				aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret, SessionToken: "tok"}, "us-east-1", emptySHA256, now),
			status: 400, code: "InvalidToken", message: "The provided token is malformed or otherwise invalid."},
		{name: "invalid payload hash", req: func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Content-Sha256", "not-a-hash")
			return r
		}(), status: 400, code: "InvalidArgument",
			elements: map[string]string{"ArgumentName": "x-amz-content-sha256", "ArgumentValue": "not-a-hash"}},
		{name: "unsigned x-amz headers", req: func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Tagging", "a=b")
			r.Header.Set("X-Amz-Copy-Source", "auth/k")
			return r
		}(), status: 403, code: "AccessDenied", message: "There were headers present in the request which were not signed",
			elements: map[string]string{"HeadersNotSigned": "x-amz-copy-source, x-amz-tagging"}},
		{name: "clock skew",
			req:    signAs(t, mustReq(http.NewRequest("GET", obj, nil)), creds, "us-east-1", emptySHA256, now.Add(-time.Hour)),
			status: 403, code: "RequestTimeTooSkewed",
			elements: map[string]string{"RequestTime": now.Add(-time.Hour).UTC().Format("20060102T150405Z"),
				"ServerTime": "*", "MaxAllowedSkewMilliseconds": "900000"}},
		{name: "wrong secret", req: signAs(t, mustReq(http.NewRequest("GET", obj, nil)),
			aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: "forged"}, "us-east-1", emptySHA256, now),
			status: 403, code: "SignatureDoesNotMatch"},

		{name: "presign: sigv2, wrong signature", req: mustReq(http.NewRequest("GET", obj+"?AWSAccessKeyId="+testAccessKey+"&Expires=9999999999&Signature=c2ln", nil)),
			status: 403, code: "SignatureDoesNotMatch"},
		{name: "presign: sigv2 without Expires", req: mustReq(http.NewRequest("GET", obj+"?AWSAccessKeyId="+testAccessKey+"&Signature=c2ln", nil)),
			status: 403, code: "AccessDenied", message: "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"},
		{name: "presign: unknown algorithm", req: presigned(func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-SHA256") }),
			status: 400, code: "AuthorizationQueryParametersError",
			message: `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256 and AWS4-ECDSA-P256-SHA256"`},
		{name: "presign: sigv4a", req: presigned(func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") }),
			status: 400, code: "AuthorizationQueryParametersError", message: `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`},
		{name: "presign: no signature", req: presigned(func(q url.Values) { q.Del("X-Amz-Signature") }),
			status: 400, code: "AuthorizationQueryParametersError",
			message: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, " +
				"X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."},
		{name: "presign: credential in three parts", req: presigned(func(q url.Values) { q.Set("X-Amz-Credential", "a/b/c") }),
			status: 400, code: "AuthorizationQueryParametersError",
			message: `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`},
		{name: "presign: expires not a number", req: presigned(func(q url.Values) { q.Set("X-Amz-Expires", "soon") }),
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires should be a number"},
		{name: "presign: negative expires", req: presigned(func(q url.Values) { q.Set("X-Amz-Expires", "-3") }),
			status: 400, code: "AuthorizationQueryParametersError", message: "X-Amz-Expires must be non-negative"},
		{name: "presign: expires over a week", req: presigned(func(q url.Values) { q.Set("X-Amz-Expires", "604801") }),
			status: 400, code: "AuthorizationQueryParametersError",
			message: "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
		{name: "presign: credential date differs", req: presigned(func(q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), now.UTC().Format("20060102"), "20060102", 1))
		}), status: 400, code: "AuthorizationQueryParametersError",
			message: `Invalid credential date "20060102". This date is not the same as X-Amz-Date: "` + now.UTC().Format("20060102") + `".`},
		{name: "presign: another region", req: func() *http.Request {
			q := presignAs(t, "GET", obj, creds, "eu-west-1", time.Hour, now)
			return mustReq(http.NewRequest("GET", obj+"?"+q.Encode(), nil))
		}(), status: 400, code: "AuthorizationQueryParametersError",
			message:  `Error parsing the X-Amz-Credential parameter; the region "eu-west-1" is wrong; expecting "us-east-1"`,
			elements: map[string]string{"Region": "us-east-1"}},
		{name: "presign: unknown key", req: presigned(func(q url.Values) {
			q.Set("X-Amz-Credential", strings.Replace(q.Get("X-Amz-Credential"), testAccessKey, "AKIDNOBODY", 1))
		}), status: 403, code: "InvalidAccessKeyId", elements: map[string]string{"AWSAccessKeyId": "AKIDNOBODY"}},
		{name: "presign: session token", req: presigned(func(q url.Values) { q.Set("X-Amz-Security-Token", "tok") }),
			status: 400, code: "InvalidToken"},
		{name: "presign: expired", req: func() *http.Request {
			at := now.Add(-2 * time.Hour)
			q := presignAs(t, "GET", obj, creds, "us-east-1", time.Minute, at)
			return mustReq(http.NewRequest("GET", obj+"?"+q.Encode(), nil))
		}(), status: 403, code: "AccessDenied", message: "Request has expired.",
			elements: map[string]string{"X-Amz-Expires": "60",
				"Expires": now.Add(-2*time.Hour + time.Minute).UTC().Format("2006-01-02T15:04:05Z"), "ServerTime": "*"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, code, body := rawDo(t, g, tc.req)
			if status != tc.status || code != tc.code {
				t.Fatalf("%d %s, want %d %s: %s", status, code, tc.status, tc.code, body)
			}
			doc := errorDoc(t, body)
			if tc.message != "" && doc["Message"] != tc.message {
				t.Fatalf("message %q\nwant    %q", doc["Message"], tc.message)
			}
			for name, want := range tc.elements {
				got, ok := doc[name]
				if !ok || (want == "*" && got == "") || (want != "*" && got != want) {
					t.Fatalf("<%s> = %q (present %v), want %q: %s", name, got, ok, want, body)
				}
			}
			if strings.Contains(string(body), testSecret) {
				t.Fatalf("error body contains the secret: %s", body)
			}
		})
	}
}

// TestAuthEmptyBodyHashMismatch: a request whose body is empty but whose signed
// payload hash is another body's is refused at once, with both hashes, and stores
// nothing.
func TestAuthEmptyBodyHashMismatch(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "auth")
	other := sha256Hex([]byte("what the client meant to send"))
	req := signAs(t, mustReq(http.NewRequest("PUT", g.URL+"/auth/empty", http.NoBody)),
		aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret}, "us-east-1", other, time.Now())
	status, code, body := rawDo(t, g, req)
	if status != 400 || code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("%d %s: %s", status, code, body)
	}
	doc := errorDoc(t, body)
	if doc["ClientComputedContentSHA256"] != other || doc["S3ComputedContentSHA256"] != emptySHA256 {
		t.Fatalf("hashes in %s", body)
	}
	_, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("auth"), Key: aws.String("empty")})
	wantCode(t, err, "NotFound")
}

// TestAuthBodyHashMismatchElements: a body that differs from its signed hash is
// refused with both hashes once it has been read.
func TestAuthBodyHashMismatchElements(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "auth")
	req := signed(t, "PUT", g.URL+"/auth/k", []byte("signed body"), testAccessKey, testSecret, time.Now())
	req.Body = io.NopCloser(strings.NewReader("other body!"))
	status, code, body := rawDo(t, g, req)
	if status != 400 || code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("%d %s: %s", status, code, body)
	}
	doc := errorDoc(t, body)
	if doc["ClientComputedContentSHA256"] != sha256Hex([]byte("signed body")) ||
		doc["S3ComputedContentSHA256"] != sha256Hex([]byte("other body!")) {
		t.Fatalf("hashes in %s", body)
	}
}
