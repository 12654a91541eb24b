package sigv4

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestVerifyHeaderSDK signs a variety of requests with aws-sdk-go-v2's signer and
// checks that the server accepts them and reads back the body that was sent.
func TestVerifyHeaderSDK(t *testing.T) {
	srv := newAuthServer(t, NewVerifier(StaticCredentials{testAccessKey: testSecret, "OTHERKEY": "other"}))
	now := time.Now()
	cases := []struct {
		name, method, path string
		body               []byte
		payloadHash        string
		header             http.Header
	}{
		{name: "get object with range", method: "GET", path: "/bucket/key.txt",
			header: http.Header{"Range": {"bytes=0-9"}}},
		{name: "put signed body", method: "PUT", path: "/bucket/dir/file.bin", body: bytes.Repeat([]byte("x"), 100000)},
		{name: "put unsigned body", method: "PUT", path: "/bucket/u", body: []byte("hello"), payloadHash: UnsignedPayload},
		{name: "put empty body", method: "PUT", path: "/bucket/empty", body: []byte{}},
		{name: "list with query", method: "GET", path: "/bucket?list-type=2&prefix=a%20b%2Fc&delimiter=%2F&max-keys=10"},
		{name: "subresource without value", method: "POST", path: "/bucket/big?uploads"},
		{name: "query needing encoding", method: "GET", path: "/bucket?prefix=%E2%9C%93%21%2A%27%28%29&marker=a%2Bb%3Dc%26d"},
		{name: "key with reserved characters", method: "PUT", body: []byte("k"),
			path: "/bucket/" + "a%20b%2Bc%21d%2Ae%27f%28g%29h%3Di%26j%3Bk%3Al%40m%24n%2Co~p_q.r-s"},
		{name: "unicode key", method: "GET", path: "/bucket/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC"},
		{name: "unnormalised path", method: "GET", path: "/bucket/a//b/./c/../d"},
		{name: "metadata header with spaces", method: "PUT", path: "/bucket/m", body: []byte("m"),
			header: http.Header{"X-Amz-Meta-Note": {"  two   spaces  inside "}, "Content-Type": {"text/plain"}}},
		{name: "repeated header", method: "PUT", path: "/bucket/r", body: []byte("r"),
			header: http.Header{"X-Amz-Meta-Multi": {"one", "two"}}},
		{name: "head", method: "HEAD", path: "/bucket/key"},
		{name: "delete", method: "DELETE", path: "/bucket/key?versionId=3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := newSigned(t, srv.URL, tc.method, tc.path, tc.body, tc.payloadHash, tc.header, now)
			status, code := do(t, req)
			v := srv.lastVerdict()
			if status != http.StatusOK || v.err != nil {
				t.Fatalf("status %d code %q err %v", status, code, v.err)
			}
			if v.result.AccessKey != testAccessKey || v.result.Presigned {
				t.Fatalf("result %+v", v.result)
			}
			if !bytes.Equal(v.body, tc.body) && !(len(v.body) == 0 && len(tc.body) == 0) {
				t.Fatalf("server read %d bytes, sent %d", len(v.body), len(tc.body))
			}
		})
	}
}

// TestVerifyHeaderRejects tampers with SDK-signed requests after signing and checks the
// exact S3 error code.
func TestVerifyHeaderRejects(t *testing.T) {
	now := time.Now()
	body := []byte("the original body")
	base := func(t *testing.T, srv *authServer, signTime time.Time) *http.Request {
		return newSigned(t, srv.URL, "PUT", "/bucket/key?tagging=&x=1", body, "",
			http.Header{"X-Amz-Meta-Owner": {"alice"}, "Content-Type": {"text/plain"}}, signTime)
	}
	cases := []struct {
		name     string
		verifier func(*Verifier)
		signTime time.Time
		tamper   func(r *http.Request)
		want     string
		status   int
	}{
		{name: "signed header changed", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Owner", "mallory") },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "content-type changed", tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/html") },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "path changed", tamper: func(r *http.Request) { r.URL.Path = "/bucket/other" },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "path case changed", tamper: func(r *http.Request) { r.URL.Path = "/bucket/Key" },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "query value changed", tamper: func(r *http.Request) { r.URL.RawQuery = "tagging=&x=2" },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "query param added", tamper: func(r *http.Request) { r.URL.RawQuery += "&acl" },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "method changed", tamper: func(r *http.Request) { r.Method = "POST" },
			want: "SignatureDoesNotMatch", status: 403},
		{name: "date changed", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Add(time.Minute).UTC().Format(amzDateFormat))
		}, want: "SignatureDoesNotMatch", status: 403},
		{name: "date moved to another day", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Date", now.Add(24*time.Hour).UTC().Format(amzDateFormat))
		}, want: "AuthorizationHeaderMalformed", status: 400},
		{name: "body changed", tamper: func(r *http.Request) { setBody(r, []byte("the 0riginal body")) },
			want: "XAmzContentSHA256Mismatch", status: 400},
		{name: "payload hash changed", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
		}, want: "SignatureDoesNotMatch", status: 403},
		{name: "payload hash switched to unsigned", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
		}, want: "SignatureDoesNotMatch", status: 403},
		{name: "payload hash missing", tamper: func(r *http.Request) { r.Header.Del("X-Amz-Content-Sha256") },
			want: "MissingSecurityHeader", status: 400},
		{name: "payload hash garbage", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "nope") },
			want: "InvalidArgument", status: 400},
		{name: "signature changed", tamper: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-4]+"0000")
		}, want: "SignatureDoesNotMatch", status: 403},
		{name: "unknown access key", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), testAccessKey, "AKIDUNKNOWN", 1))
		}, want: "InvalidAccessKeyId", status: 403},
		{name: "unsigned x-amz header added (PUT turned into a copy)", tamper: func(r *http.Request) {
			r.Header.Set("X-Amz-Copy-Source", "bucket/someone-elses-object")
		}, want: "AccessDenied", status: 403},
		{name: "no authentication", tamper: func(r *http.Request) { r.Header.Del("Authorization") },
			want: "AccessDenied", status: 403},
		{name: "no date", tamper: func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			want: "AccessDenied", status: 403},
		{name: "sigv2", tamper: func(r *http.Request) { r.Header.Set("Authorization", "AWS "+testAccessKey+":c2lnbmF0dXJl") },
			want: "InvalidRequest", status: 400},
		{name: "malformed header", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAccessKey+"/x, Signature=abc")
		}, want: "AuthorizationHeaderMalformed", status: 400},
		{name: "header and presign together", tamper: func(r *http.Request) { r.URL.RawQuery += "&X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			want: "InvalidArgument", status: 400},
		{name: "signed 20 minutes ago", signTime: now.Add(-20 * time.Minute),
			want: "RequestTimeTooSkewed", status: 403},
		{name: "signed 20 minutes ahead", signTime: now.Add(20 * time.Minute),
			want: "RequestTimeTooSkewed", status: 403},
		{name: "skew check disabled", signTime: now.Add(-72 * time.Hour),
			verifier: func(v *Verifier) { v.MaxSkew = 0 }, want: "", status: 200},
		{name: "skew within a wider limit", signTime: now.Add(-50 * time.Minute),
			verifier: func(v *Verifier) { v.MaxSkew = time.Hour }, want: "", status: 200},
		{name: "wrong region", verifier: func(v *Verifier) { v.Region = "us-east-1" },
			want: "AuthorizationHeaderMalformed", status: 400},
		{name: "right region", verifier: func(v *Verifier) { v.Region = testRegion }, want: "", status: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(StaticCredentials{testAccessKey: testSecret})
			if tc.verifier != nil {
				tc.verifier(v)
			}
			srv := newAuthServer(t, v)
			signTime := tc.signTime
			if signTime.IsZero() {
				signTime = now
			}
			req := base(t, srv, signTime)
			if tc.tamper != nil {
				tc.tamper(req)
			}
			status, code := do(t, req)
			if status != tc.status || code != tc.want {
				t.Fatalf("got %d %q, want %d %q (server: %v)", status, code, tc.status, tc.want, srv.lastVerdict().err)
			}
		})
	}
}

func setBody(r *http.Request, b []byte) {
	r.Body = http.NoBody
	if len(b) > 0 {
		r.Body = readCloser{bytes.NewReader(b)}
	}
	r.ContentLength = int64(len(b))
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// TestVerifyPresignSDK uses aws-sdk-go-v2's PresignHTTP.
func TestVerifyPresignSDK(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name     string
		method   string
		path     string
		expires  time.Duration
		signTime time.Time
		verifier func(*Verifier)
		tamper   func(u string) string
		want     string
		status   int
	}{
		{name: "get", method: "GET", path: "/bucket/photo.jpg", expires: time.Hour, status: 200},
		{name: "put", method: "PUT", path: "/bucket/up%20load.bin", expires: time.Minute, status: 200},
		{name: "with extra query", method: "GET", path: "/bucket/k?response-content-type=text%2Fplain&versionId=7", expires: time.Hour, status: 200},
		{name: "max expiry", method: "GET", path: "/bucket/k", expires: MaxPresignExpiry, status: 200},
		{name: "expired", method: "GET", path: "/bucket/k", expires: time.Hour, signTime: now.Add(-2 * time.Hour),
			want: "AccessDenied", status: 403},
		{name: "expired even with skew check off", method: "GET", path: "/bucket/k", expires: time.Hour,
			signTime: now.Add(-2 * time.Hour), verifier: func(v *Verifier) { v.MaxSkew = 0 }, want: "AccessDenied", status: 403},
		{name: "old but within expiry", method: "GET", path: "/bucket/k", expires: 7 * 24 * time.Hour,
			signTime: now.Add(-6 * 24 * time.Hour), status: 200},
		{name: "dated in the future", method: "GET", path: "/bucket/k", expires: time.Hour, signTime: now.Add(time.Hour),
			want: "AccessDenied", status: 403},
		{name: "expiry over a week", method: "GET", path: "/bucket/k", expires: MaxPresignExpiry + time.Second,
			want: "AuthorizationQueryParametersError", status: 400},
		{name: "path tampered", method: "GET", path: "/bucket/k", expires: time.Hour,
			tamper: func(u string) string { return strings.Replace(u, "/bucket/k", "/bucket/j", 1) },
			want:   "SignatureDoesNotMatch", status: 403},
		{name: "expiry tampered", method: "GET", path: "/bucket/k", expires: time.Hour,
			tamper: func(u string) string { return strings.Replace(u, "X-Amz-Expires=3600", "X-Amz-Expires=3601", 1) },
			want:   "SignatureDoesNotMatch", status: 403},
		{name: "query added", method: "GET", path: "/bucket/k", expires: time.Hour,
			tamper: func(u string) string { return u + "&versionId=1" }, want: "SignatureDoesNotMatch", status: 403},
		{name: "signature missing", method: "GET", path: "/bucket/k", expires: time.Hour,
			tamper: func(u string) string { return dropParam(u, "X-Amz-Signature") },
			want:   "AuthorizationQueryParametersError", status: 400},
		{name: "unknown key", method: "GET", path: "/bucket/k", expires: time.Hour,
			tamper: func(u string) string { return strings.Replace(u, testAccessKey, "AKIDUNKNOWN", 1) },
			want:   "InvalidAccessKeyId", status: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := NewVerifier(StaticCredentials{testAccessKey: testSecret})
			if tc.verifier != nil {
				tc.verifier(v)
			}
			srv := newAuthServer(t, v)
			signTime := tc.signTime
			if signTime.IsZero() {
				signTime = now
			}
			u := presign(t, srv.URL, tc.method, tc.path, tc.expires, signTime)
			if tc.tamper != nil {
				u = tc.tamper(u)
			}
			req, err := http.NewRequest(tc.method, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			status, code := do(t, req)
			if status != tc.status || code != tc.want {
				t.Fatalf("got %d %q, want %d %q (server: %v)", status, code, tc.status, tc.want, srv.lastVerdict().err)
			}
			if status == 200 && !srv.lastVerdict().result.Presigned {
				t.Fatal("result not marked presigned")
			}
		})
	}
}

func dropParam(u, name string) string {
	pu, _ := url.Parse(u)
	var kept []string
	for _, kv := range strings.Split(pu.RawQuery, "&") {
		if !strings.HasPrefix(kv, name+"=") {
			kept = append(kept, kv)
		}
	}
	pu.RawQuery = strings.Join(kept, "&")
	return pu.String()
}
