//go:build clients

package gateway

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ipas/ipas/internal/testutil"
)

// awsCLIv1 returns the aws CLI v1 on PATH, whose presigned URLs are SigV2.
func awsCLIv1(t *testing.T) string {
	out, err := exec.Command("aws", "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "aws-cli/1.") {
		testutil.MissingTool(t, "aws CLI v1", "pip install awscli")
	}
	return "aws"
}

// curl fetches u with method and an optional body file; it returns the status and body.
func curl(t *testing.T, method, u, upload string) (int, []byte) {
	t.Helper()
	dir := t.TempDir()
	outFile := filepath.Join(dir, "body")
	args := []string{"-sS", "-X", method, "-o", outFile, "-w", "%{http_code}", u}
	if upload != "" {
		args = append(args, "-T", upload)
	}
	status := run(t, nil, "curl", args...)
	body, _ := os.ReadFile(outFile)
	var code int
	for _, c := range status {
		code = code*10 + int(c-'0')
	}
	return code, body
}

func TestSigV2PresignedURLsOfAWSCLIv1(t *testing.T) {
	bin := awsCLIv1(t)
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "photos")
	want := content(7, 1<<20+3)
	if _, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("summer/beach 1.jpg"),
		Body: bytes.NewReader(want)}); err != nil {
		t.Fatal(err)
	}
	u := strings.TrimSpace(run(t, awsEnv(g), bin, "s3", "presign", "s3://photos/summer/beach 1.jpg", "--endpoint-url", g.URL))
	if q, _ := url.Parse(u); q == nil || q.Query().Get("AWSAccessKeyId") != testAccessKey || q.Query().Get("Signature") == "" {
		t.Fatalf("aws CLI v1 made no SigV2 URL: %s", u)
	}
	status, got := curl(t, "GET", u, "")
	if status != 200 || sha256Hex(got) != sha256Hex(want) {
		t.Fatalf("GET of the aws CLI's URL: %d, %d bytes, want 200 and the object (%s)", status, len(got), got[:min(len(got), 300)])
	}
	// A forged signature and an expired URL: S3's codes, and no bytes.
	forged := strings.Replace(u, "Signature=", "Signature=A", 1)
	status, body := curl(t, "GET", forged, "")
	if doc := errorDoc(t, body); status != 403 || doc["Code"] != "SignatureDoesNotMatch" {
		t.Fatalf("forged signature: %d %s", status, body)
	}
	expiring := strings.TrimSpace(run(t, awsEnv(g), bin, "s3", "presign", "s3://photos/summer/beach 1.jpg",
		"--endpoint-url", g.URL, "--expires-in", "1"))
	time.Sleep(2100 * time.Millisecond)
	status, body = curl(t, "GET", expiring, "")
	if doc := errorDoc(t, body); status != 403 || doc["Code"] != "AccessDenied" || doc["Message"] != "Request has expired." {
		t.Fatalf("expired URL: %d %s", status, body)
	}
}

// boto3Script drives boto3 with its defaults (SigV2 presigned URLs) and with
// signature_version "s3" (SigV2 headers) through a backup's operations.
const boto3Script = `
import boto3, hashlib, json, sys
from botocore.client import Config
ep, ak, sk, src = sys.argv[1:5]
kw = dict(endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk, region_name="us-east-1")
default = boto3.client("s3", **kw)
v2 = boto3.client("s3", config=Config(signature_version="s3", s3={"addressing_style": "path"}), **kw)
out = {}
data = open(src, "rb").read()
v2.put_object(Bucket="docs", Key="a/report 2026.pdf", Body=data, ContentType="application/pdf", Metadata={"owner": "me"})
h = v2.head_object(Bucket="docs", Key="a/report 2026.pdf")
out["head"] = [h["ContentLength"], h["ContentType"], h["Metadata"].get("owner")]
out["get_sha"] = hashlib.sha256(v2.get_object(Bucket="docs", Key="a/report 2026.pdf")["Body"].read()).hexdigest()
out["ranged"] = v2.get_object(Bucket="docs", Key="a/report 2026.pdf", Range="bytes=0-9", ResponseContentType="text/plain")["ContentType"]
out["list"] = [o["Key"] for o in v2.list_objects(Bucket="docs", Prefix="a/").get("Contents", [])]
mp = v2.create_multipart_upload(Bucket="docs", Key="big.bin")
part = data * 6
parts = []
for n in (1, 2):
    r = v2.upload_part(Bucket="docs", Key="big.bin", UploadId=mp["UploadId"], PartNumber=n, Body=part)
    parts.append({"ETag": r["ETag"], "PartNumber": n})
v2.complete_multipart_upload(Bucket="docs", Key="big.bin", UploadId=mp["UploadId"], MultipartUpload={"Parts": parts})
out["mp_sha"] = hashlib.sha256(v2.get_object(Bucket="docs", Key="big.bin")["Body"].read()).hexdigest()
out["want_mp_sha"] = hashlib.sha256(part + part).hexdigest()
out["presigned_get"] = default.generate_presigned_url("get_object", Params={"Bucket": "docs", "Key": "a/report 2026.pdf"})
out["presigned_put"] = default.generate_presigned_url("put_object", Params={"Bucket": "docs", "Key": "up/curl.bin"})
v2.delete_object(Bucket="docs", Key="big.bin")
out["after_delete"] = [o["Key"] for o in v2.list_objects(Bucket="docs").get("Contents", [])]
json.dump(out, sys.stdout)
`

func TestSigV2Boto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		testutil.MissingTool(t, "python3 boto3", "apt-get install -y python3-boto3")
	}
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "docs")
	dir := t.TempDir()
	src := filepath.Join(dir, "report.pdf")
	data := content(3, 5<<20+17)
	os.WriteFile(src, data, 0o644)
	script := filepath.Join(dir, "drive.py")
	os.WriteFile(script, []byte(boto3Script), 0o644)
	var out struct {
		Head         []any    `json:"head"`
		GetSHA       string   `json:"get_sha"`
		Ranged       string   `json:"ranged"`
		List         []string `json:"list"`
		MPSHA        string   `json:"mp_sha"`
		WantMPSHA    string   `json:"want_mp_sha"`
		PresignedGet string   `json:"presigned_get"`
		PresignedPut string   `json:"presigned_put"`
		AfterDelete  []string `json:"after_delete"`
	}
	raw := run(t, []string{"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"},
		"python3", script, g.URL, testAccessKey, testSecret, src)
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, raw)
	}
	if out.GetSHA != sha256Hex(data) || out.MPSHA != out.WantMPSHA || out.Ranged != "text/plain" ||
		len(out.Head) != 3 || out.Head[1] != "application/pdf" || out.Head[2] != "me" ||
		strings.Join(out.List, ",") != "a/report 2026.pdf" || strings.Join(out.AfterDelete, ",") != "a/report 2026.pdf" {
		t.Fatalf("boto3 with SigV2 headers: %+v, want the object's SHA-256 %s", out, sha256Hex(data))
	}
	if !strings.Contains(out.PresignedGet, "AWSAccessKeyId=") {
		t.Fatalf("boto3's default presigned URL is not SigV2: %s", out.PresignedGet)
	}
	status, got := curl(t, "GET", out.PresignedGet, "")
	if status != 200 || !bytes.Equal(got, data) {
		t.Fatalf("presigned GET: %d, %d bytes", status, len(got))
	}
	status, body := curl(t, "PUT", out.PresignedPut, src)
	if status != 200 {
		t.Fatalf("presigned PUT: %d %s", status, body)
	}
	obj, err := c.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String("docs"), Key: aws.String("up/curl.bin")})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(obj.Body)
	if !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("object put through a SigV2 presigned URL: %d bytes, want %d", buf.Len(), len(data))
	}
}
