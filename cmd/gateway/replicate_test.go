package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/replication"
)

// TestServe_ReplicatesToVersityGW runs the real daemon with IPAS_REMOTE_* pointing at a
// real, independent S3 server, PUTs objects through the gateway (one small, one
// multipart-sized, and two with content headers, user metadata and a checksum: one
// single PUT, one client multipart upload with odd part sizes), and reads them from the
// remote: bytes and the sha256 metadata equal, and the remote metadata carries the ETag,
// checksum, content headers, user metadata and part sizes the gateway answers with.
func TestServe_ReplicatesToVersityGW(t *testing.T) {
	vgw := testutil.StartVersityGW(t, "offsite")
	env := []string{"IPAS_ACCESS_KEY=REPLTESTKEY", "IPAS_SECRET_KEY=repl-test-secret",
		"IPAS_REMOTE_ENDPOINT=" + vgw.Endpoint, "IPAS_REMOTE_BUCKET=offsite", "IPAS_REMOTE_REGION=us-east-1",
		"IPAS_REMOTE_ACCESS_KEY=" + vgw.AccessKey, "IPAS_REMOTE_SECRET_KEY=" + vgw.SecretKey}
	cfgPath := filepath.Join(t.TempDir(), "ipas.yaml")
	if err := os.WriteFile(cfgPath, []byte("remote: {path_style: true}\nreplication: {multipart_threshold: 6000000}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, env, "--config", cfgPath, "--data-dir", filepath.Join(t.TempDir(), "data"), "--s3-addr", "127.0.0.1:0")
	local := s3Client(p.endpoint, "REPLTESTKEY", "repl-test-secret")
	offsite := s3Client(vgw.Endpoint, vgw.AccessKey, vgw.SecretKey)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := local.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("docs")}); err != nil {
		t.Fatal(err)
	}
	objects := map[string][]byte{
		"small.txt":       bytes.Repeat([]byte("tax return "), 1000),
		"video/large.mp4": bytes.Repeat([]byte("frame-0123456789"), 800_000), // 12.8 MB: multipart to the remote
	}
	for key, body := range objects {
		if _, err := local.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("docs"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	headed := []headedObject{
		{key: "headed/small.txt", body: bytes.Repeat([]byte("bonjour "), 500)},
		{key: "headed/parts.bin", body: bytes.Repeat([]byte("0123456789abcdef"), 660_000), partSizes: []int64{5 << 20, 5<<20 + 7, 10_560_000 - (10<<20 + 7)}},
	}
	for _, o := range headed {
		putWithHeaders(t, ctx, local, "docs", o)
		objects[o.key] = o.body
	}
	for key, body := range objects {
		remoteKey := "docs/" + key
		got := waitRemoteObject(t, ctx, offsite, "offsite", remoteKey)
		if !bytes.Equal(got, body) {
			t.Fatalf("remote %s: %d bytes, want %d identical", remoteKey, len(got), len(body))
		}
		head, err := offsite.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("offsite"), Key: aws.String(remoteKey)})
		if err != nil {
			t.Fatal(err)
		}
		// One piece: its SHA-256; multipart: the composite of its parts'.
		sum := sha256.Sum256(body)
		sizes, _ := replication.DecodePartSizes(head.Metadata["ipas-parts"])
		hash := head.Metadata["ipas-sha256"]
		if err := objecthash.Verify(hash, sizes, got); err != nil || (len(sizes) > 1) != objecthash.IsComposite(hash) ||
			(len(sizes) == 0 && hash != hex.EncodeToString(sum[:])) {
			t.Fatalf("remote %s metadata %v: ipas-sha256 does not check its bytes: %v", remoteKey, head.Metadata, err)
		}
	}
	for _, o := range headed {
		checkRemoteMeta(t, ctx, local, offsite, "docs", "offsite", o)
	}
	if strings.Contains(p.stderr.String(), "NOT offsite") {
		t.Fatal("a configured remote was reported as the local copy")
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
}

// TestServe_DefaultReplicatesToLocalCopy runs the embedded defaults: with no remote, an
// object PUT through the gateway reaches the loopback copy in DATA_DIR/local-remote,
// and the log says plainly that this copy is not offsite.
func TestServe_DefaultReplicatesToLocalCopy(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"IPAS_ACCESS_KEY=DEFTESTKEY", "IPAS_SECRET_KEY=default-test-secret"}
	p := startServe(t, env, "--data-dir", dataDir, "--s3-addr", "127.0.0.1:0", "--log-level", "debug")
	if !strings.Contains(p.stderr.String(), "NOT offsite") {
		t.Fatalf("the log does not say the default copy is not offsite:\n%s", p.stderr)
	}
	c := s3Client(p.endpoint, "DEFTESTKEY", "default-test-secret")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	body := bytes.Repeat([]byte("family album "), 5000)
	c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")})
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("a.jpg"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	// The replicator logs each finished job at debug level.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.stderr.String(), `"message":"replicated"`); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the object was not replicated within 30 s:\n%s", p.stderr)
		}
	}
	checkLocalCopy(t, p, dataDir, "photos", "a.jpg", body)
}

// checkLocalCopy stops the daemon p and checks that the built-in local copy
// under dataDir holds bucket/key with body's SHA-256 and size, reading that
// archive straight from its journal.
func checkLocalCopy(t *testing.T, p *gatewayProcess, dataDir, bucket, key string, body []byte) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, p.stderr)
	}
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.DataDir = filepath.Join(dataDir, localRemoteDir)
	a, err := openArchive(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close(ctx)
	o, err := a.node.Object(localRemoteBucket, bucket+"/"+key)
	if err != nil {
		t.Fatalf("the local copy has no %s/%s: %v", bucket, key, err)
	}
	sum := sha256.Sum256(body)
	if o.SHA256 != hex.EncodeToString(sum[:]) || o.Size != int64(len(body)) {
		t.Fatalf("local copy: sha256 %s size %d, want %x %d", o.SHA256, o.Size, sum, len(body))
	}
}

func waitRemoteObject(t *testing.T, ctx context.Context, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			continue
		}
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil {
			return b
		}
	}
	t.Fatalf("%s/%s did not reach the remote within 60 s", bucket, key)
	return nil
}

// TestRemoteTest runs `gateway remote test` against versitygw: a good setup gives a
// verdict and exit 0, a wrong secret or a missing bucket exit 1, and the secret is never
// printed.
func TestRemoteTest(t *testing.T) {
	bin := buildGateway(t)
	vgw := testutil.StartVersityGW(t, "offsite")
	cfgPath := filepath.Join(t.TempDir(), "ipas.yaml")
	os.WriteFile(cfgPath, []byte("remote: {path_style: true}\n"), 0o600)
	run := func(bucket, secret string) (string, int) {
		cmd := exec.Command(bin, "remote", "test", "--config", cfgPath)
		cmd.Env = append(os.Environ(), "IPAS_REMOTE_ENDPOINT="+vgw.Endpoint, "IPAS_REMOTE_BUCKET="+bucket,
			"IPAS_REMOTE_ACCESS_KEY="+vgw.AccessKey, "IPAS_REMOTE_SECRET_KEY="+secret)
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), secret) {
			t.Fatalf("remote test printed the secret:\n%s", out)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run("offsite", vgw.SecretKey); code != 0 {
		t.Fatalf("good remote: exit %d\n%s", code, out)
	}
	if out, code := run("offsite", "wrong-secret-value-123"); code != 1 {
		t.Fatalf("wrong secret: exit %d, want 1\n%s", code, out)
	}
	if out, code := run("no-such-bucket", vgw.SecretKey); code != 1 || !strings.Contains(out, "no-such-bucket") {
		t.Fatalf("missing bucket: exit %d, want 1 and the bucket named\n%s", code, out)
	}
}
