package sigv4

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ipas/ipas/gateway/s3err"
)

// FuzzParseAuthorization feeds arbitrary Authorization headers and presign query strings
// to the parsers: they must never panic, must fail only with S3 errors, and what they
// accept must be well formed.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(docAuth("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"+
			"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"+
			"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("a", 64),
		"X-Amz-Expires=604801")
	f.Add("AWS AKID:sig", "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256")
	f.Add("AWS4-HMAC-SHA256 Credential=,,,=,", "X-Amz-Credential=%ZZ&&=&X-Amz-Date=")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=Host;;, Signature=zz", "a=1&a=2")
	f.Fuzz(func(t *testing.T, header, query string) {
		a, err := ParseAuthorization(header)
		checkParsed(t, a, err)
		q, qerr := url.ParseQuery(query)
		if qerr != nil {
			return
		}
		p, err := ParsePresign(q)
		checkParsed(t, p.Authorization, err)
		if err == nil && (p.Expires < 0 || p.Expires > MaxPresignExpiry) {
			t.Fatalf("accepted expiry %v", p.Expires)
		}
		// The canonical forms must not panic on any input either.
		_ = canonicalQuery(query, querySignature)
		_ = canonicalURI(header)
		_ = trimAll(header)
	})
}

func checkParsed(t *testing.T, a Authorization, err error) {
	t.Helper()
	if err != nil {
		var e *s3err.APIError
		if !errors.As(err, &e) || e.Status < 400 {
			t.Fatalf("non-S3 error %v", err)
		}
		return
	}
	if a.AccessKey == "" || len(a.Signature) != signatureHexLen || !isLowerHex(a.Signature) || a.Scope.Service != "s3" {
		t.Fatalf("accepted malformed authorization %+v", a)
	}
	host := false
	for _, h := range a.SignedHeaders {
		host = host || h == "host"
	}
	if !host {
		t.Fatalf("accepted SignedHeaders without host: %v", a.SignedHeaders)
	}
}
