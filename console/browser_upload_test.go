//go:build browser

package console_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"

	"github.com/ipas/ipas/gateway/sigv4"
)

// uploadPage is a page of another origin that uploads to the gateway the way a
// web app does: a form POST signed with a policy, a presigned PUT (which a
// browser preflights) and a presigned GET, each read back through CORS.
const uploadPage = `<!doctype html><html><body><pre id="result"></pre><script>
(async () => {
  const cfg = %s;
  const out = [];
  try {
    const data = new Uint8Array(cfg.size);
    for (let i = 0; i < cfg.size; i++) data[i] = (i * 31 + 7) & 255;
    const fd = new FormData();
    for (const [k, v] of cfg.fields) fd.append(k, v);
    fd.append("file", new Blob([data], {type: "application/octet-stream"}), "from-browser.bin");
    const r = await fetch(cfg.gateway + "/" + cfg.bucket, {method: "POST", body: fd});
    out.push("post " + r.status + " " + r.headers.get("ETag"));
    const p = await fetch(cfg.put, {method: "PUT", headers: {"Content-Type": "text/plain"}, body: "put from the browser"});
    out.push("put " + p.status + " " + p.headers.get("ETag"));
    const g = await fetch(cfg.get);
    out.push("get " + g.status + " " + (await g.text()));
  } catch (e) {
    out.push("error " + e);
  }
  document.getElementById("result").textContent = out.join("\n") + "\ndone";
})();
</script></body></html>`

func servePage(t *testing.T, cfg map[string]any) *httptest.Server {
	t.Helper()
	js, _ := json.Marshal(cfg)
	page := fmt.Sprintf(uploadPage, js)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// signedPostFields is a SigV4-signed form for keys under prefix, up to 1 MiB.
func signedPostFields(bucket, prefix string) [][2]string {
	now := time.Now().UTC()
	cred := browserKey + "/" + now.Format("20060102") + "/us-east-1/s3/aws4_request"
	fields := [][2]string{{"key", prefix + "${filename}"}, {"x-amz-algorithm", "AWS4-HMAC-SHA256"},
		{"x-amz-credential", cred}, {"x-amz-date", now.Format("20060102T150405Z")}, {"success_action_status", "204"}}
	conds := []any{map[string]string{"bucket": bucket}, []any{"starts-with", "$key", prefix},
		[]any{"content-length-range", 1, 1 << 20}}
	for _, f := range fields[1:] {
		conds = append(conds, map[string]string{f[0]: f[1]})
	}
	doc, _ := json.Marshal(map[string]any{"expiration": now.Add(time.Hour).Format(time.RFC3339), "conditions": conds})
	policy := base64.StdEncoding.EncodeToString(doc)
	m := hmac.New(sha256.New, sigv4.DeriveSigningKey(browserSecret, sigv4.Scope{Date: now.Format("20060102"),
		Region: "us-east-1", Service: "s3"}))
	m.Write([]byte(policy))
	return append(fields, [2]string{"policy", policy}, [2]string{"x-amz-signature", hex.EncodeToString(m.Sum(nil))})
}

func TestBrowserUploadsThroughCORS(t *testing.T) {
	d := startDaemon(t, "")
	ctx := context.Background()
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(d.s3), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: browserKey, SecretAccessKey: browserSecret}, nil
		})})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	ps := s3.NewPresignClient(s3c)
	put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("web"), Key: aws.String("notes/put.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("web"), Key: aws.String("hello.txt"),
		Body: strings.NewReader("hello from the gateway")}); err != nil {
		t.Fatal(err)
	}
	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("web"), Key: aws.String("hello.txt")})
	if err != nil {
		t.Fatal(err)
	}
	const size = 200<<10 + 3
	cfg := map[string]any{"gateway": d.s3, "bucket": "web", "fields": signedPostFields("web", "uploads/"),
		"size": size, "put": put.URL, "get": get.URL}
	allowed, other := servePage(t, cfg), servePage(t, cfg)
	if _, err := s3c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("web"),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{{
			AllowedOrigins: []string{allowed.URL}, AllowedMethods: []string{"GET", "PUT", "POST"},
			AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}}}}}); err != nil {
		t.Fatal(err)
	}

	want := make([]byte, size)
	for i := range want {
		want[i] = byte(i*31 + 7)
	}
	sum := md5.Sum(want)
	bctx := newBrowser(t)
	run(t, bctx, "open the page", chromedp.Navigate(allowed.URL))
	got := waitText(t, bctx, "#result", "done")
	wantText := fmt.Sprintf("post 204 \"%s\"\nput 200 \"%x\"\nget 200 hello from the gateway\ndone",
		hex.EncodeToString(sum[:]), md5.Sum([]byte("put from the browser")))
	if got != wantText {
		t.Fatalf("page of an allowed origin:\n%s\nwant:\n%s", got, wantText)
	}
	for key, body := range map[string][]byte{"uploads/from-browser.bin": want, "notes/put.txt": []byte("put from the browser")} {
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("web"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(b, body) {
			t.Fatalf("%s: %d bytes read back, want %d", key, len(b), len(body))
		}
	}
	// The same page from an origin the bucket does not allow reads no answer
	// (its simple POST still arrives, as in S3: the signed policy guards writes).
	run(t, bctx, "open the other page", chromedp.Navigate(other.URL))
	if got := waitText(t, bctx, "#result", "done"); !strings.HasPrefix(got, "error TypeError") {
		t.Fatalf("page of another origin: %q, want the browser to refuse", got)
	}
}
