package gateway

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/gateway/sigv4"
)

// postUpload is a browser form upload as a page builds it.
type postUpload struct {
	conditions []any
	expiration time.Time
	fields     [][2]string // in form order, before the file
	filename   string
	file       []byte
	sigV2      bool
	secret     string // default testSecret
	accessKey  string // default testAccessKey
	forge      bool
}

// post signs the policy (SigV4 by default) and sends the form to bucket; it
// returns the status, headers and body of the answer.
func (g *testGateway) post(t *testing.T, bucket string, u postUpload) (int, http.Header, []byte) {
	t.Helper()
	now := time.Now().UTC()
	if u.expiration.IsZero() {
		u.expiration = now.Add(time.Hour)
	}
	if u.secret == "" {
		u.secret = testSecret
	}
	if u.accessKey == "" {
		u.accessKey = testAccessKey
	}
	fields := u.fields
	conds := append([]any{map[string]string{"bucket": bucket}}, u.conditions...)
	if !u.sigV2 {
		cred := u.accessKey + "/" + now.Format("20060102") + "/us-east-1/s3/aws4_request"
		auth := [][2]string{{"x-amz-algorithm", "AWS4-HMAC-SHA256"}, {"x-amz-credential", cred},
			{"x-amz-date", now.Format("20060102T150405Z")}}
		for _, f := range auth {
			conds = append(conds, map[string]string{f[0]: f[1]})
		}
		fields = append(auth, fields...)
	}
	doc, _ := json.Marshal(map[string]any{"expiration": u.expiration.Format(time.RFC3339), "conditions": conds})
	policy := base64.StdEncoding.EncodeToString(doc)
	if u.sigV2 {
		m := hmac.New(sha1.New, []byte(u.secret))
		m.Write([]byte(policy))
		fields = append(fields, [2]string{"AWSAccessKeyId", u.accessKey}, [2]string{"policy", policy},
			[2]string{"signature", base64.StdEncoding.EncodeToString(m.Sum(nil))})
	} else {
		scope := sigv4.Scope{Date: now.Format("20060102"), Region: "us-east-1", Service: "s3"}
		m := hmac.New(sha256.New, sigv4.DeriveSigningKey(u.secret, scope))
		m.Write([]byte(policy))
		sig := hex.EncodeToString(m.Sum(nil))
		if u.forge {
			sig = strings.Repeat("0", 64)
		}
		fields = append(fields, [2]string{"policy", policy}, [2]string{"x-amz-signature", sig})
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	if u.filename == "" {
		u.filename = "photo.jpg"
	}
	fw, _ := mw.CreateFormFile("file", u.filename)
	fw.Write(u.file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, g.URL+"/"+bucket, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	hc := g.httpClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func TestPostObjectStoresTheFile(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "inbox")
	file := content(11, 300<<10+7)
	sum := md5.Sum(file)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	read := func(key string) ([]byte, *s3.GetObjectOutput) {
		t.Helper()
		out, err := c.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String("inbox"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GET %s: %v", key, err)
		}
		defer out.Body.Close()
		b, _ := io.ReadAll(out.Body)
		return b, out
	}

	status, h, body := g.post(t, "inbox", postUpload{
		conditions: []any{[]any{"starts-with", "$key", "user/ann/"}, []any{"eq", "$content-type", "image/jpeg"},
			map[string]string{"x-amz-meta-album": "summer"}, []any{"content-length-range", 1, 1 << 20}},
		fields: [][2]string{{"key", "user/ann/${filename}"}, {"Content-Type", "image/jpeg"}, {"x-amz-meta-album", "summer"}},
		file:   file, filename: "beach 1.jpg"})
	if status != 204 || h.Get("ETag") != etag || h.Get("Location") != g.URL+"/inbox/user/ann/beach%201.jpg" {
		t.Fatalf("POST: %d %v %s", status, h, body)
	}
	got, out := read("user/ann/beach 1.jpg")
	if !bytes.Equal(got, file) || aws.ToString(out.ContentType) != "image/jpeg" || out.Metadata["album"] != "summer" {
		t.Fatalf("read back: %d bytes, %s, %v", len(got), aws.ToString(out.ContentType), out.Metadata)
	}

	// success_action_status 201: S3's PostResponse.
	status, _, body = g.post(t, "inbox", postUpload{
		conditions: []any{[]any{"eq", "$key", "a.txt"}, []any{"eq", "$success_action_status", "201"}},
		fields:     [][2]string{{"key", "a.txt"}, {"success_action_status", "201"}}, file: file})
	var pr struct{ Location, Bucket, Key, ETag string }
	if err := xml.Unmarshal(body, &pr); status != 201 || err != nil || pr.Bucket != "inbox" || pr.Key != "a.txt" || pr.ETag != etag {
		t.Fatalf("201: %d %s", status, body)
	}

	// success_action_redirect: 303 to the page with bucket, key and ETag.
	status, h, _ = g.post(t, "inbox", postUpload{
		conditions: []any{[]any{"eq", "$key", "b.txt"}, []any{"starts-with", "$success_action_redirect", "https://app.example/"}},
		fields:     [][2]string{{"key", "b.txt"}, {"success_action_redirect", "https://app.example/done?x=1"}}, file: file})
	loc, _ := url.Parse(h.Get("Location"))
	if status != 303 || loc == nil || loc.Host != "app.example" || loc.Query().Get("key") != "b.txt" ||
		loc.Query().Get("etag") != etag || loc.Query().Get("bucket") != "inbox" || loc.Query().Get("x") != "1" {
		t.Fatalf("redirect: %d %s", status, h.Get("Location"))
	}

	// Tags come as a Tagging document.
	tags := "<Tagging><TagSet><Tag><Key>album</Key><Value>summer</Value></Tag></TagSet></Tagging>"
	status, _, body = g.post(t, "inbox", postUpload{conditions: []any{[]any{"eq", "$key", "t.bin"}, []any{"eq", "$tagging", tags}},
		fields: [][2]string{{"key", "t.bin"}, {"tagging", tags}}, file: file})
	tg, err := c.GetObjectTagging(ctxT(t), &s3.GetObjectTaggingInput{Bucket: aws.String("inbox"), Key: aws.String("t.bin")})
	if status != 204 || err != nil || len(tg.TagSet) != 1 || aws.ToString(tg.TagSet[0].Value) != "summer" {
		t.Fatalf("form with tags: %d %s %v %+v", status, body, err, tg)
	}

	// Signed with SigV2.
	status, _, body = g.post(t, "inbox", postUpload{sigV2: true, conditions: []any{[]any{"eq", "$key", "v2.bin"}},
		fields: [][2]string{{"key", "v2.bin"}}, file: file})
	if got, _ := read("v2.bin"); status != 204 || !bytes.Equal(got, file) {
		t.Fatalf("SigV2 form: %d %s", status, body)
	}
}

func TestPostObjectRefusesAsS3(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "inbox")
	file := []byte("0123456789")
	key := []any{"eq", "$key", "k"}
	keyField := [2]string{"key", "k"}
	for _, tc := range []struct {
		name   string
		u      postUpload
		status int
		code   string
		msg    string
		elems  map[string]string
	}{
		{"too large", postUpload{conditions: []any{key, []any{"content-length-range", 0, 5}}}, 400, "EntityTooLarge", "",
			map[string]string{"ProposedSize": "10", "MaxSizeAllowed": "5"}},
		{"too small", postUpload{conditions: []any{key, []any{"content-length-range", 100, 200}}}, 400, "EntityTooSmall", "",
			map[string]string{"ProposedSize": "10", "MinSizeAllowed": "100"}},
		{"starts-with fails", postUpload{conditions: []any{[]any{"starts-with", "$key", "user/bob/"}}}, 403, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["starts-with","$key","user/bob/"]`, nil},
		{"eq fails", postUpload{conditions: []any{key, map[string]string{"content-type": "image/png"}},
			fields: [][2]string{keyField, {"content-type", "text/html"}}}, 403, "AccessDenied",
			`Invalid according to Policy: Policy Condition failed: ["eq", "$content-type", "image/png"]`, nil},
		{"field the policy does not name", postUpload{conditions: []any{key},
			fields: [][2]string{keyField, {"x-amz-meta-evil", "1"}}}, 403, "AccessDenied",
			"Invalid according to Policy: Extra input fields: x-amz-meta-evil", nil},
		{"expired policy", postUpload{conditions: []any{key}, expiration: time.Now().Add(-time.Minute)}, 403, "AccessDenied",
			"Invalid according to Policy: Policy expired.", nil},
		{"forged signature", postUpload{conditions: []any{key}, forge: true}, 403, "SignatureDoesNotMatch", "", nil},
		{"wrong secret, SigV2", postUpload{conditions: []any{key}, sigV2: true, secret: "guess"}, 403, "SignatureDoesNotMatch", "", nil},
	} {
		u := tc.u
		if u.fields == nil {
			u.fields = [][2]string{keyField}
		}
		u.file = file
		status, _, body := g.post(t, "inbox", u)
		doc := errorDoc(t, body)
		if status != tc.status || doc["Code"] != tc.code || (tc.msg != "" && doc["Message"] != tc.msg) {
			t.Errorf("%s: %d %s %q, want %d %s %q", tc.name, status, doc["Code"], doc["Message"], tc.status, tc.code, tc.msg)
		}
		for k, v := range tc.elems {
			if doc[k] != v {
				t.Errorf("%s: <%s> %q, want %q", tc.name, k, doc[k], v)
			}
		}
	}
	if _, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("inbox"), Key: aws.String("k")}); errCode(err) != "NotFound" {
		t.Fatalf("a refused upload left an object: %v", err)
	}
	// Not a form, and a form without credentials.
	hc := g.httpClient()
	resp, err := hc.Post(g.URL+"/inbox", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if doc := errorDoc(t, b); resp.StatusCode != 412 || doc["Code"] != "PreconditionFailed" ||
		doc["Condition"] != "Bucket POST must be of the enclosure-type multipart/form-data" {
		t.Fatalf("JSON POST: %d %s", resp.StatusCode, b)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("key", "anon")
	fw, _ := mw.CreateFormFile("file", "x")
	fw.Write(file)
	mw.Close()
	resp, err = hc.Post(g.URL+"/inbox", mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if doc := errorDoc(t, b); resp.StatusCode != 403 || doc["Code"] != "AccessDenied" {
		t.Fatalf("anonymous form: %d %s", resp.StatusCode, b)
	}
	// Fields past S3's 20 KB, and a form without a file.
	for _, tc := range []struct {
		name, code string
		form       func(*multipart.Writer)
	}{
		{"fields too large", "MaxPostPreDataLengthExceeded", func(mw *multipart.Writer) {
			mw.WriteField("x-ignore-pad", strings.Repeat("p", 21<<10))
			fw, _ := mw.CreateFormFile("file", "x")
			fw.Write(file)
		}},
		{"no file", "InvalidArgument", func(mw *multipart.Writer) { mw.WriteField("key", "k") }},
	} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		tc.form(mw)
		mw.Close()
		resp, err := hc.Post(g.URL+"/inbox", mw.FormDataContentType(), &buf)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if doc := errorDoc(t, b); resp.StatusCode != 400 || doc["Code"] != tc.code {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
}
