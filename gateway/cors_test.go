package gateway

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// corsHeaders are the Access-Control-* answers a browser reads, plus Vary.
type corsHeaders struct {
	origin, methods, allow, expose, maxAge, creds, vary string
}

func corsOf(h http.Header) corsHeaders {
	return corsHeaders{h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"),
		h.Get("Access-Control-Allow-Headers"), h.Get("Access-Control-Expose-Headers"), h.Get("Access-Control-Max-Age"),
		h.Get("Access-Control-Allow-Credentials"), h.Get("Vary")}
}

const corsVary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

func putTestCors(t *testing.T, c *s3.Client, bucket string) {
	t.Helper()
	_, err := c.PutBucketCors(ctxT(t), &s3.PutBucketCorsInput{Bucket: aws.String(bucket),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{
			{AllowedOrigins: []string{"https://app.example"}, AllowedMethods: []string{"GET", "PUT", "HEAD"},
				AllowedHeaders: []string{"Content-Type", "X-Amz-*", "Authorization"},
				ExposeHeaders:  []string{"ETag", "X-Amz-Request-Id"}, MaxAgeSeconds: aws.Int32(600), ID: aws.String("app")},
			{AllowedOrigins: []string{"http://*.lan"}, AllowedMethods: []string{"GET"}},
			{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"HEAD"}},
		}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCORSConfigurationIsStoredAndServedBack(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "site")
	_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("site")})
	wantCode(t, err, "NoSuchCORSConfiguration")
	putTestCors(t, c, "site")
	g.restart() // the configuration is in the journal, not in memory
	c = g.client()
	out, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("site")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CORSRules) != 3 || aws.ToString(out.CORSRules[0].ID) != "app" ||
		strings.Join(out.CORSRules[0].AllowedHeaders, ",") != "Content-Type,X-Amz-*,Authorization" ||
		aws.ToInt32(out.CORSRules[0].MaxAgeSeconds) != 600 || out.CORSRules[2].AllowedOrigins[0] != "*" {
		t.Fatalf("GetBucketCors: %+v", out.CORSRules)
	}
	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("site")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("site")})
	wantCode(t, err, "NoSuchCORSConfiguration")
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("nope")})
	wantCode(t, err, "NoSuchBucket")
}

func TestPutBucketCorsRefusesBadRules(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "site")
	for _, tc := range []struct {
		name string
		rule types.CORSRule
		code string
		msg  string
	}{
		{"no method", types.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{}}, "MalformedXML", ""},
		{"lower-case method", types.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"get"}},
			"InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is get"},
		{"two wildcards", types.CORSRule{AllowedOrigins: []string{"http://*.a.*"}, AllowedMethods: []string{"GET"}},
			"InvalidRequest", `AllowedOrigin "http://*.a.*" can not have more than one wildcard.`},
		{"bad header", types.CORSRule{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"},
			AllowedHeaders: []string{"X(y)"}}, "InvalidRequest", `AllowedHeader "X(y)" contains invalid character.`},
	} {
		_, err := c.PutBucketCors(ctxT(t), &s3.PutBucketCorsInput{Bucket: aws.String("site"),
			CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{tc.rule}}})
		wantCode(t, err, tc.code)
		if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want message %q", tc.name, err, tc.msg)
		}
	}
	if _, err := c.GetBucketCors(ctxT(t), &s3.GetBucketCorsInput{Bucket: aws.String("site")}); errCode(err) != "NoSuchCORSConfiguration" {
		t.Fatalf("a refused configuration was stored: %v", err)
	}
}

func TestCORSPreflightAnswersAsS3(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "site")
	hc := g.httpClient()
	options := func(path, origin, method, headers string) (int, corsHeaders, map[string]string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodOptions, g.URL+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("Access-Control-Request-Method", method)
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var doc map[string]string
		if resp.StatusCode >= 300 {
			doc = errorDoc(t, body)
		}
		return resp.StatusCode, corsOf(resp.Header), doc
	}
	status, _, doc := options("/site/k", "https://app.example", "GET", "")
	if status != 403 || doc["Code"] != "AccessForbidden" || doc["Message"] != "CORSResponse: CORS is not enabled for this bucket." {
		t.Fatalf("no configuration: %d %v", status, doc)
	}
	putTestCors(t, c, "site")
	for _, tc := range []struct {
		name, path, origin, method, headers string
		status                              int
		code                                string
		want                                corsHeaders
	}{
		{"exact origin, object", "/site/photos/a.jpg", "https://app.example", "PUT", "Content-Type, x-amz-date,Authorization", 200, "",
			corsHeaders{"https://app.example", "GET, PUT, HEAD", "content-type, x-amz-date, authorization", "ETag, X-Amz-Request-Id, ETag", "600", "true", corsVary}},
		{"exact origin, bucket", "/site", "https://app.example", "GET", "", 200, "",
			corsHeaders{"https://app.example", "GET, PUT, HEAD", "", "ETag, X-Amz-Request-Id, ETag", "600", "true", corsVary}},
		{"wildcard origin", "/site/k", "http://nas.lan", "GET", "", 200, "",
			corsHeaders{"http://nas.lan", "GET", "", "ETag", "", "true", corsVary}},
		{"any origin", "/site/k", "https://elsewhere.example", "HEAD", "", 200, "",
			corsHeaders{"*", "HEAD", "", "ETag", "", "false", corsVary}},
		{"method not allowed", "/site/k", "http://nas.lan", "PUT", "", 403, "AccessForbidden", corsHeaders{}},
		{"header not allowed", "/site/k", "https://app.example", "PUT", "X-Custom", 403, "AccessForbidden", corsHeaders{}},
		{"origin not allowed", "/site/k", "https://evil.example", "GET", "", 403, "AccessForbidden", corsHeaders{}},
		{"no origin", "/site/k", "", "GET", "", 400, "BadRequest", corsHeaders{}},
		{"lower-case method", "/site/k", "https://app.example", "get", "", 400, "BadRequest", corsHeaders{}},
		{"bad header name", "/site/k", "https://app.example", "GET", "a b", 400, "BadRequest", corsHeaders{}},
		{"no bucket", "/nope/k", "https://app.example", "GET", "", 404, "NoSuchBucket", corsHeaders{}},
	} {
		status, got, doc := options(tc.path, tc.origin, tc.method, tc.headers)
		if status != tc.status || doc["Code"] != tc.code || got != tc.want {
			t.Errorf("%s: %d %s %+v, want %d %s %+v", tc.name, status, doc["Code"], got, tc.status, tc.code, tc.want)
		}
	}
}

func TestCORSHeadersOnRequests(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "site")
	putTestCors(t, c, "site")
	body := []byte("<h1>hello</h1>")
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String("index.html"),
		Body: bytes.NewReader(body)}, withHeader("Origin", "https://app.example"))
	if err != nil {
		t.Fatal(err)
	}
	if h := corsOf(awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response).Header); h.origin != "https://app.example" || h.expose != "ETag, X-Amz-Request-Id" {
		t.Fatalf("PUT with Origin: %+v", h)
	}
	hc := g.httpClient()
	ps := s3.NewPresignClient(c)
	get := func(method, origin string) (int, corsHeaders, []byte) {
		t.Helper()
		var u string
		if method == http.MethodHead {
			r, err := ps.PresignHeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String("index.html")})
			if err != nil {
				t.Fatal(err)
			}
			u = r.URL
		} else {
			r, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("site"), Key: aws.String("index.html")})
			if err != nil {
				t.Fatal(err)
			}
			u = r.URL
		}
		req, _ := http.NewRequest(method, u, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, corsOf(resp.Header), b
	}
	app := corsHeaders{"https://app.example", "GET, PUT, HEAD", "", "ETag, X-Amz-Request-Id", "600", "true", corsVary}
	status, h, b := get(http.MethodGet, "https://app.example")
	if status != 200 || !bytes.Equal(b, body) || h != app {
		t.Fatalf("presigned GET: %d %q %+v, want %+v", status, b, h, app)
	}
	if status, h, _ := get(http.MethodHead, "https://phone.example"); status != 200 || h.origin != "*" || h.methods != "HEAD" {
		t.Fatalf("presigned HEAD from any origin: %d %+v", status, h)
	}
	if status, h, _ := get(http.MethodGet, "https://evil.example"); status != 200 || h != (corsHeaders{}) {
		t.Fatalf("GET from an origin no rule allows: %d %+v, want no CORS headers", status, h)
	}
	if status, h, _ := get(http.MethodGet, ""); status != 200 || h != (corsHeaders{}) {
		t.Fatalf("GET without Origin: %d %+v", status, h)
	}
	// A refused request carries the headers too, so that the page can read why.
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/site/index.html", nil)
	req.Header.Set("Origin", "https://app.example")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || corsOf(resp.Header) != app {
		t.Fatalf("unsigned GET: %d %+v, want 403 with the CORS headers", resp.StatusCode, corsOf(resp.Header))
	}
}
