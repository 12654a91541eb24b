package gateway

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// rawDo sends req and returns the status and the S3 error code of the body.
func rawDo(t *testing.T, g *testGateway, req *http.Request) (int, string, []byte) {
	t.Helper()
	resp, err := g.httpClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct{ Code string }
	_ = xml.Unmarshal(body, &e)
	return resp.StatusCode, e.Code, body
}

// signed returns a request signed by ak/sk at time at.
func signed(t *testing.T, method, url string, body []byte, ak, sk string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := emptySHA256
	if len(body) > 0 {
		sum = sha256Hex(body)
	}
	req.Header.Set("X-Amz-Content-Sha256", sum)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk},
		req, sum, "s3", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestAuth(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "auth")
	put(t, c, "auth", "k", []byte("secret data"))
	url := g.URL + "/auth/k"
	now := time.Now()

	anon, _ := http.NewRequest(http.MethodGet, url, nil)
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"anonymous", anon, 403, "AccessDenied"},
		{"good", signed(t, "GET", url, nil, testAccessKey, testSecret, now), 200, ""},
		{"second key", signed(t, "GET", url, nil, testAccessKey2, testSecret2, now), 200, ""},
		{"wrong secret", signed(t, "GET", url, nil, testAccessKey, "forged", now), 403, "SignatureDoesNotMatch"},
		{"unknown key", signed(t, "GET", url, nil, "AKIDNOBODY", "x", now), 403, "InvalidAccessKeyId"},
		{"skewed", signed(t, "GET", url, nil, testAccessKey, testSecret, now.Add(-16*time.Minute)), 403, "RequestTimeTooSkewed"},
		{"anonymous list buckets", mustReq(http.NewRequest("GET", g.URL+"/", nil)), 403, "AccessDenied"},
		{"anonymous put", mustReq(http.NewRequest("PUT", url, strings.NewReader("evil"))), 403, "AccessDenied"},
	} {
		status, code, body := rawDo(t, g, tc.req)
		if status != tc.status || code != tc.code {
			t.Fatalf("%s: %d %s, want %d %s: %s", tc.name, status, code, tc.status, tc.code, body)
		}
	}
	// A body that does not match the signed payload hash is refused and not stored.
	req := signed(t, "PUT", url, []byte("signed body"), testAccessKey, testSecret, now)
	req.Body = io.NopCloser(strings.NewReader("other body!"))
	if status, code, _ := rawDo(t, g, req); status != 400 || code != "XAmzContentSHA256Mismatch" {
		t.Fatalf("tampered body: %d %s", status, code)
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")})
	if string(got) != "secret data" {
		t.Fatalf("object after refused PUTs: %q", got)
	}

	// Presigned URLs: valid, then expired.
	ps := s3.NewPresignClient(c)
	p, err := ps.PresignGetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")},
		s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := rawDo(t, g, mustReq(http.NewRequest("GET", p.URL, nil)))
	if status != 200 || string(body) != "secret data" {
		t.Fatalf("presigned GET: %d %q", status, body)
	}
	pput, err := ps.PresignPutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("auth"), Key: aws.String("presigned")})
	if err != nil {
		t.Fatal(err)
	}
	if status, code, _ := rawDo(t, g, mustReq(http.NewRequest("PUT", pput.URL, strings.NewReader("via presign")))); status != 200 {
		t.Fatalf("presigned PUT: %d %s", status, code)
	}
	got, _ = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("presigned")})
	if string(got) != "via presign" {
		t.Fatalf("presigned PUT stored %q", got)
	}
}

// TestPresignExpiry signs a URL that expired an hour ago, with a correct signature.
func TestPresignExpiry(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "auth")
	put(t, c, "auth", "k", []byte("x"))
	req, _ := http.NewRequest("GET", g.URL+"/auth/k?X-Amz-Expires=60", nil)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	status, code, body := rawDo(t, g, mustReq(http.NewRequest("GET", u, nil)))
	if status != 403 || code != "AccessDenied" || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired presign: %d %s %s", status, code, body)
	}
}

func mustReq(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}
