package sigv2

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

// The examples of the S3 developer guide ("Signing and authenticating REST
// requests", signature version 2), virtual-host style.
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func docVerifier(at string) *Verifier {
	v := NewVerifier(sigv4.StaticCredentials{docAccessKey: docSecret})
	now, err := time.Parse(time.RFC1123Z, at)
	if err != nil {
		now, _ = http.ParseTime(at)
	}
	v.now = func() time.Time { return now }
	return v
}

func TestDeveloperGuideExamples(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, date, sig string
		headers                         map[string]string
	}{
		{"object GET", "GET", "/photos/puppy.jpg", "Tue, 27 Mar 2007 19:36:42 +0000", "bWq2s1WEIj+Ydj0vQ697zp+IXMU=", nil},
		{"object PUT", "PUT", "/photos/puppy.jpg", "Tue, 27 Mar 2007 21:15:45 +0000", "MyyxeRY7whkBe+bq8fHCL/2kKUg=",
			map[string]string{"Content-Type": "image/jpeg"}},
		{"list", "GET", "/?prefix=photos&max-keys=50&marker=puppy", "Tue, 27 Mar 2007 19:42:41 +0000",
			"htDYFYduRNen8P9ZfE/s9SuKy0U=", nil},
		{"acl", "GET", "/?acl", "Tue, 27 Mar 2007 19:44:46 +0000", "c2WLPFtWHVgbEmeEG93a4cG37dM=", nil},
	} {
		r := httptest.NewRequest(tc.method, tc.target, nil)
		r.Host = "johnsmith.s3.amazonaws.com"
		r.Header.Set("Date", tc.date)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		r.Header.Set("Authorization", "AWS "+docAccessKey+":"+tc.sig)
		res, err := docVerifier(tc.date).Verify(r, "johnsmith")
		if err != nil {
			sts, _ := StringToSign(r, tc.date, "johnsmith", false)
			t.Errorf("%s: %v; string to sign %q", tc.name, err, sts)
			continue
		}
		if res.AccessKey != docAccessKey || res.Presigned {
			t.Errorf("%s: %+v", tc.name, res)
		}
	}
}

func TestVerifyRefusesAsS3(t *testing.T) {
	const date = "Tue, 27 Mar 2007 19:36:42 +0000"
	signed := func(method, target string, header bool, expires string, mutate func(*http.Request)) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		if header {
			r.Header.Set("Date", date)
		}
		if mutate != nil {
			mutate(r)
		}
		d := date
		if !header {
			d = expires
		}
		sts, _ := StringToSign(r, d, "", !header)
		sig := base64.StdEncoding.EncodeToString(Sign(docSecret, sts))
		if header {
			r.Header.Set("Authorization", "AWS "+docAccessKey+":"+sig)
		} else {
			q := r.URL.Query()
			q.Set("AWSAccessKeyId", docAccessKey)
			q.Set("Expires", expires)
			q.Set("Signature", sig)
			r.URL.RawQuery = q.Encode()
			r.RequestURI = r.URL.RequestURI()
		}
		return r
	}
	now := "Tue, 27 Mar 2007 19:40:00 GMT"
	for _, tc := range []struct {
		name string
		r    *http.Request
		code string
		msg  string
	}{
		{"good header", signed("GET", "/b/k?uploadId=u1&partNumber=2", true, "", nil), "", ""},
		{"good presign", signed("GET", "/b/k", false, "1175100000", nil), "", ""},
		{"expired presign", signed("GET", "/b/k", false, "1175023000", nil), "AccessDenied", "Request has expired."},
		{"bad expires", signed("GET", "/b/k", false, "soon", nil), "AccessDenied", "Invalid date (should be seconds since epoch): soon"},
		{"skewed date", signed("GET", "/b/k", true, "", func(r *http.Request) {
			r.Header.Set("Date", "Tue, 27 Mar 2007 20:36:42 +0000")
		}), "RequestTimeTooSkewed", ""},
		{"changed sub-resource", func() *http.Request {
			r := signed("GET", "/b/k?uploadId=u1", true, "", nil)
			r.URL.RawQuery, r.RequestURI = "uploadId=u2", "/b/k?uploadId=u2"
			return r
		}(), "SignatureDoesNotMatch", ""},
		{"added x-amz header", func() *http.Request {
			r := signed("PUT", "/b/k", true, "", nil)
			r.Header.Set("X-Amz-Copy-Source", "/b/secret")
			return r
		}(), "SignatureDoesNotMatch", ""},
		{"changed Content-MD5", func() *http.Request {
			r := signed("PUT", "/b/k", true, "", func(r *http.Request) { r.Header.Set("Content-Md5", "1B2M2Y8AsgTpgAmY7PhCfg==") })
			r.Header.Set("Content-Md5", "XrY7u+Ae7tCTyyK7j1rNww==")
			return r
		}(), "SignatureDoesNotMatch", ""},
		{"unknown key", func() *http.Request {
			r := signed("GET", "/b/k", true, "", nil)
			r.Header.Set("Authorization", "AWS NOBODY:abc=")
			return r
		}(), "InvalidAccessKeyId", ""},
		{"no colon", func() *http.Request {
			r := signed("GET", "/b/k", true, "", nil)
			r.Header.Set("Authorization", "AWS "+docAccessKey)
			return r
		}(), "InvalidArgument", ""},
		{"no date", func() *http.Request {
			r := signed("GET", "/b/k", true, "", nil)
			r.Header.Del("Date")
			return r
		}(), "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"},
		{"missing presign parameter", httptest.NewRequest("GET", "/b/k?AWSAccessKeyId=x&Signature=y", nil), "AccessDenied",
			"Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"},
	} {
		_, err := docVerifier(now).Verify(tc.r, "")
		var apiErr *s3err.APIError
		switch {
		case tc.code == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.code == "":
		case !errors.As(err, &apiErr) || apiErr.Code != tc.code || (tc.msg != "" && apiErr.Message != tc.msg):
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.msg)
		}
	}
}
