package sigv4

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func newS3Client(endpoint string, hc *http.Client) *s3.Client {
	return s3.New(s3.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  aws.NewCredentialsCache(staticProvider{}),
		HTTPClient:   hc,
		// One attempt: a rejected signature must show up, not be retried.
		RetryMaxAttempts: 1,
	})
}

type staticProvider struct{}

func (staticProvider) Retrieve(context.Context) (aws.Credentials, error) { return testCreds, nil }

// TestVerifyS3Client drives the real aws-sdk-go-v2 S3 client (plain HTTP, so bodies are
// signed with their SHA-256) against the verifier, with keys that need encoding.
func TestVerifyS3Client(t *testing.T) {
	srv := newAuthServer(t, NewVerifier(StaticCredentials{testAccessKey: testSecret}))
	client := newS3Client(srv.URL, srv.Client())
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	keys := []string{"plain.txt", "dir/sub dir/file name.txt", "a+b=c&d;e:f@g$h,i!j*k'l(m)n", "ünï/çødé/日本語",
		"tilde~under_score-dash.dot", "percent%20literal", "trailing/slash/", "double//slash"}
	for _, key := range keys {
		body := bytes.Repeat([]byte(key), 1000)
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key),
			Body: bytes.NewReader(body), Metadata: map[string]string{"note": "a  b"}})
		v := srv.lastVerdict()
		if err != nil || v.err != nil {
			t.Fatalf("put %q: client %v, server %v", key, err, v.err)
		}
		if !bytes.Equal(v.body, body) {
			t.Fatalf("put %q: server read %d bytes, want %d", key, len(v.body), len(body))
		}
		if !IsSHA256Hex(v.result.PayloadHash) {
			t.Fatalf("put %q over HTTP: payload hash %q, want a signed hex hash", key, v.result.PayloadHash)
		}
		// The server answers with an empty 200, which some operations cannot parse:
		// only the server's verdict on the signature matters here.
		_, _ = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
		if v := srv.lastVerdict(); v.err != nil {
			t.Fatalf("head %q: %v", key, v.err)
		}
		_, _ = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"),
			Prefix: aws.String(key), Delimiter: aws.String("/"), StartAfter: aws.String(strings.ToUpper(key))})
		if v := srv.lastVerdict(); v.err != nil {
			t.Fatalf("list %q: %v", key, v.err)
		}
	}

	bad := newS3Client(srv.URL, srv.Client())
	_, err := bad.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"),
		Body: strings.NewReader("x")}, func(o *s3.Options) {
		o.Credentials = aws.NewCredentialsCache(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: "wrong"}, nil
		}))
	})
	if codeOf(srv.lastVerdict().err) != "SignatureDoesNotMatch" || err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("wrong secret: client %v, server %v", err, srv.lastVerdict().err)
	}
}

// TestVerifyS3PresignClient uses the S3 presign client, as a user sharing a link would.
func TestVerifyS3PresignClient(t *testing.T) {
	srv := newAuthServer(t, NewVerifier(StaticCredentials{testAccessKey: testSecret}))
	pc := s3.NewPresignClient(newS3Client(srv.URL, srv.Client()))
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("shared file (1).pdf"),
		ResponseContentDisposition: aws.String("attachment; filename=\"x.pdf\"")})
	if err != nil {
		t.Fatal(err)
	}
	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("drop/in.bin")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		method, url string
		header      http.Header
	}{{get.Method, get.URL, get.SignedHeader}, {put.Method, put.URL, put.SignedHeader}} {
		req, err := http.NewRequest(p.method, p.url, strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range p.header {
			if k != "Host" {
				req.Header[k] = vs
			}
		}
		if status, code := do(t, req); status != 200 {
			t.Fatalf("%s presigned: %d %s (%v)", p.method, status, code, srv.lastVerdict().err)
		}
	}
}
