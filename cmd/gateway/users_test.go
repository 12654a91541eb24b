package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/users"
)

// cliCredential runs a command that prints a new credential with --json.
func cliCredential(t *testing.T, endpoint string, args ...string) users.Credential {
	t.Helper()
	out := cliOK(t, adminTestEnv, append(args, "--json", "--endpoint", endpoint)...)
	var c users.Credential
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.AccessKey == "" || c.SecretKey == "" {
		t.Fatalf("gateway %v --json printed %q (%v), want {user, access_key, secret_key}", args, out, err)
	}
	return c
}

// s3Code returns the S3 error code of err ("" for none).
func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func bucketNames(t *testing.T, c *s3.Client) []string {
	t.Helper()
	out, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	return names
}

func getBody(c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func putBody(c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	return err
}

// TestUsers_OwnershipKeysAndAdminAcrossRestart drives the real daemon with
// three users made by `gateway user add`: each sees and reaches only their
// own buckets, a write-only key can add but neither delete nor overwrite,
// no admin endpoint answers a non-admin key, and everything survives a
// restart.
func TestUsers_OwnershipKeysAndAdminAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startServe(t, adminTestEnv, "--data-dir", data, "--s3-addr", "127.0.0.1:0")
	ep := p.endpoint
	alice := cliCredential(t, ep, "user", "add", "alice")
	bob := cliCredential(t, ep, "user", "add", "bob", "--role", "user")
	carol := cliCredential(t, ep, "user", "add", "carol", "--role", "readonly")
	laptop := cliCredential(t, ep, "key", "add", "alice", "--access", "write")
	if alice.User != "alice" || laptop.User != "alice" || carol.User != "carol" {
		t.Fatalf("credentials name the wrong users: %+v %+v %+v", alice, laptop, carol)
	}
	ac, bc, cc := s3Client(ep, alice.AccessKey, alice.SecretKey), s3Client(ep, bob.AccessKey, bob.SecretKey), s3Client(ep, carol.AccessKey, carol.SecretKey)
	lc, root := s3Client(ep, laptop.AccessKey, laptop.SecretKey), s3Client(ep, adminTestKey, adminTestSecret)
	ctx := context.Background()
	for c, b := range map[*s3.Client]string{ac: "alice-tax", bc: "bob-music"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create %s: %v", b, err)
		}
	}
	tax := []byte("2024 return")
	if err := putBody(ac, "alice-tax", "2024.pdf", tax); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("carols")}); s3Code(err) != "AccessDenied" {
		t.Fatalf("a readonly user created a bucket: %v", err)
	}

	aliceSees, bobSees, adminSees := []string{"alice-tax"}, []string{"bob-music"}, []string{"alice-tax", "bob-music"}
	check := func(stage string) {
		t.Helper()
		if got := bucketNames(t, ac); !slices.Equal(got, aliceSees) {
			t.Fatalf("%s: alice lists %v", stage, got)
		}
		if got := bucketNames(t, bc); !slices.Equal(got, bobSees) {
			t.Fatalf("%s: bob lists %v, want %v", stage, got, bobSees)
		}
		if got := bucketNames(t, cc); len(got) != 0 {
			t.Fatalf("%s: carol lists %v", stage, got)
		}
		if got := bucketNames(t, root); !slices.Equal(got, adminSees) {
			t.Fatalf("%s: the admin lists %v", stage, got)
		}
		if b, err := getBody(ac, "alice-tax", "2024.pdf"); err != nil || !bytes.Equal(b, tax) {
			t.Fatalf("%s: alice reads her file: %q, %v", stage, b, err)
		}
		if _, err := getBody(bc, "alice-tax", "2024.pdf"); s3Code(err) != "AccessDenied" {
			t.Fatalf("%s: bob reads alice's file: %v", stage, err)
		}
		_, err := bc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("alice-tax")})
		if s3Code(err) != "AccessDenied" {
			t.Fatalf("%s: bob lists alice's bucket: %v", stage, err)
		}
		if _, err := bc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alice-tax"), Key: aws.String("2024.pdf")}); s3Code(err) != "AccessDenied" {
			t.Fatalf("%s: bob deletes alice's file: %v", stage, err)
		}
		if _, err := bc.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alice-tax")}); s3Code(err) != "AccessDenied" {
			t.Fatalf("%s: bob deletes alice's bucket: %v", stage, err)
		}
		if _, err := bc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("alice-tax")}); s3Code(err) != "BucketAlreadyExists" {
			t.Fatalf("%s: bob creates alice's bucket: %v", stage, err)
		}
		if err := putBody(bc, "alice-tax", "evil", []byte("x")); s3Code(err) != "AccessDenied" {
			t.Fatalf("%s: bob writes into alice's bucket: %v", stage, err)
		}
		// A copy out of alice's bucket is a read of it.
		_, err = bc.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bob-music"), Key: aws.String("stolen"), CopySource: aws.String("alice-tax/2024.pdf")})
		if s3Code(err) != "AccessDenied" {
			t.Fatalf("%s: bob copies alice's file: %v", stage, err)
		}
		if b, err := getBody(root, "alice-tax", "2024.pdf"); err != nil || !bytes.Equal(b, tax) {
			t.Fatalf("%s: the admin reads alice's file: %q, %v", stage, b, err)
		}
		if b, err := getBody(lc, "alice-tax", "2024.pdf"); err != nil || !bytes.Equal(b, tax) {
			t.Fatalf("%s: the write-only key reads: %q, %v", stage, b, err)
		}
	}
	check("before restart")

	// The laptop's key adds a file, but cannot replace or delete one.
	if err := putBody(lc, "alice-tax", "backup-1", []byte("v1")); err != nil {
		t.Fatalf("write-only key PUT: %v", err)
	}
	if err := putBody(lc, "alice-tax", "backup-1", []byte("ransom")); s3Code(err) != "AccessDenied" {
		t.Fatalf("write-only key overwrote: %v", err)
	}
	if _, err := lc.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("alice-tax"), Key: aws.String("backup-1")}); s3Code(err) != "AccessDenied" {
		t.Fatalf("write-only key deleted: %v", err)
	}
	if _, err := lc.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("alice-tax"),
		Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("backup-1")}}}}); err != nil {
		t.Fatalf("DeleteObjects with the write-only key: %v", err)
	}
	if b, err := getBody(ac, "alice-tax", "backup-1"); err != nil || string(b) != "v1" {
		t.Fatalf("after the write-only key's attempts backup-1 is %q, %v; want v1", b, err)
	}

	// Every admin endpoint refuses a user's key, and accepts the admin's.
	paths := []struct{ method, path string }{
		{http.MethodGet, admin.PathStatus}, {http.MethodPost, admin.PathPause}, {http.MethodPost, admin.PathResume},
		{http.MethodPut, admin.PathBandwidth}, {http.MethodGet, admin.PathReconcile}, {http.MethodPost, admin.PathReconcile},
		{http.MethodGet, admin.PathScrub}, {http.MethodPost, admin.PathScrub}, {http.MethodGet, admin.PathBuckets},
		{http.MethodPost, admin.PathBuckets}, {http.MethodGet, admin.PathObjects + "?bucket=alice-tax"},
		{http.MethodPost, admin.PathDeleteObject}, {http.MethodPost, admin.PathRemoteTest}, {http.MethodGet, admin.PathDrop},
		{http.MethodGet, admin.PathLog}, {http.MethodGet, admin.PathUsers}, {http.MethodPost, admin.PathUsers},
		{http.MethodPost, admin.PathUserRemove}, {http.MethodPost, admin.PathUserDisable}, {http.MethodPost, admin.PathUserQuota}, {http.MethodGet, admin.PathKeys},
		{http.MethodPost, admin.PathKeys}, {http.MethodPost, admin.PathKeyRevoke}, {http.MethodPost, admin.PathKeyRotate},
	}
	for _, cred := range []users.Credential{alice, carol, laptop} {
		c := &admin.Client{Endpoint: ep, Region: "us-east-1", AccessKey: cred.AccessKey, SecretKey: cred.SecretKey}
		for _, pth := range paths {
			req, err := c.Request(ctx, pth.method, pth.path, []byte(`{"name":"alice"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var eb admin.ErrorBody
			json.NewDecoder(resp.Body).Decode(&eb)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden || eb.Error.Code != "AccessDenied" {
				t.Fatalf("%s %s with %s's key: %d %+v, want 403 AccessDenied", pth.method, pth.path, cred.User, resp.StatusCode, eb)
			}
		}
	}
	if _, errOut, code := runCLI(t, []string{"IPAS_ACCESS_KEY=" + alice.AccessKey, "IPAS_SECRET_KEY=" + alice.SecretKey},
		"replication", "pause", "--endpoint", ep); code != 1 || !strings.Contains(errOut, "admin credential") {
		t.Fatalf("alice paused replication: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, adminTestEnv, "user", "remove", "admin", "--endpoint", ep); code != 1 || !strings.Contains(errOut, "admin of last resort") {
		t.Fatalf("removing the built-in admin: exit %d, %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, adminTestEnv, "user", "add", "Bad Name", "--endpoint", ep); code != 1 || !strings.Contains(errOut, "lower-case") {
		t.Fatalf("a bad user name: exit %d, %s", code, errOut)
	}

	// A policy shares a prefix with bob and makes another public.
	if err := putBody(ac, "alice-tax", "shared/receipt.pdf", []byte("receipt")); err != nil {
		t.Fatal(err)
	}
	if err := putBody(ac, "alice-tax", "pub/index.html", []byte("hello world")); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-tax/shared/*"},
		{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-tax/pub/*"}]}`
	if _, err := ac.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("alice-tax"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}

	stopGateway(t, p)
	// The journal (raft log and state) holds the secrets sealed only.
	files := 0
	filepath.WalkDir(data, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files++
		if bytes.Contains(raw, []byte(alice.SecretKey)) || bytes.Contains(raw, []byte(laptop.SecretKey)) {
			t.Fatalf("%s holds a user's secret in clear", path)
		}
		return nil
	})
	if files < 3 {
		t.Fatalf("only %d files in the data directory", files)
	}
	if fi, err := os.Stat(filepath.Join(data, UsersKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("seal key file: %v, %v; want mode 0600", fi, err)
	}
	// The second start has a drop folder that belongs to alice.
	drop := filepath.Join(dir, "alice-scans")
	cfgPath := filepath.Join(dir, "ipas.yaml")
	os.MkdirAll(drop, 0o755)
	os.WriteFile(cfgPath, []byte("drop:\n  folders:\n    - path: "+drop+"\n      bucket: alice-scans\n      owner: alice\n      quiet_window: 100ms\n"), 0o600)
	p = startServe(t, adminTestEnv, "--config", cfgPath, "--data-dir", data, "--s3-addr", strings.TrimPrefix(ep, "http://"))
	bobSees = []string{"alice-tax", "bob-music"} // shared with him by name
	aliceSees = []string{"alice-scans", "alice-tax"}
	adminSees = []string{"alice-scans", "alice-tax", "bob-music"}
	check("after restart")
	os.WriteFile(filepath.Join(drop, "scan1.pdf"), []byte("scanned"), 0o644)
	deadline := time.Now().Add(adminWait)
	for b, err := getBody(ac, "alice-scans", "scan1.pdf"); string(b) != "scanned"; b, err = getBody(ac, "alice-scans", "scan1.pdf") {
		if time.Now().After(deadline) {
			t.Fatalf("alice never read her drop folder's file: %q, %v", b, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := getBody(bc, "alice-scans", "scan1.pdf"); s3Code(err) != "AccessDenied" {
		t.Fatalf("bob reads alice's drop folder: %v", err)
	}
	if b, err := getBody(bc, "alice-tax", "shared/receipt.pdf"); err != nil || string(b) != "receipt" {
		t.Fatalf("bob reads the shared prefix after restart: %q, %v", b, err)
	}
	resp, err := http.Get(ep + "/alice-tax/pub/index.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello world" {
		t.Fatalf("anonymous GET of the public prefix: %d %q", resp.StatusCode, body)
	}
	if resp, err := http.Get(ep + "/alice-tax/2024.pdf"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous GET of a private object: %v %v", resp, err)
	}
	if out := cliOK(t, adminTestEnv, "status", "--endpoint", ep); !strings.Contains(out, "WARNING") || !strings.Contains(out, "public buckets") || !strings.Contains(out, "alice-tax") {
		t.Fatalf("gateway status does not warn about the public bucket:\n%s", out)
	}

	// Rotation replaces a key at once; a disabled user's keys are unknown.
	rotated := cliCredential(t, ep, "key", "rotate", laptop.AccessKey)
	if _, err := getBody(lc, "alice-tax", "2024.pdf"); s3Code(err) != "InvalidAccessKeyId" {
		t.Fatalf("the rotated-out key still works: %v", err)
	}
	if _, err := getBody(s3Client(ep, rotated.AccessKey, rotated.SecretKey), "alice-tax", "2024.pdf"); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	if err := putBody(s3Client(ep, rotated.AccessKey, rotated.SecretKey), "alice-tax", "backup-1", []byte("x")); s3Code(err) != "AccessDenied" {
		t.Fatalf("the rotated key lost its write-only limit: %v", err)
	}
	cliOK(t, adminTestEnv, "user", "disable", "bob", "--endpoint", ep)
	if _, err := getBody(bc, "bob-music", "x"); s3Code(err) != "InvalidAccessKeyId" {
		t.Fatalf("a disabled user's key: %v", err)
	}
	cliOK(t, adminTestEnv, "user", "disable", "bob", "--enable", "--endpoint", ep)
	if got := bucketNames(t, bc); !slices.Equal(got, bobSees) {
		t.Fatalf("bob enabled again lists %v", got)
	}
	// A quota on bob: a PUT that would pass it is refused.
	cliOK(t, adminTestEnv, "user", "quota", "bob", "1KiB", "--endpoint", ep)
	if err := putBody(bc, "bob-music", "a.mp3", make([]byte, 600)); err != nil {
		t.Fatalf("bob's first PUT within his quota: %v", err)
	}
	if err := putBody(bc, "bob-music", "b.mp3", make([]byte, 600)); s3Code(err) != "QuotaExceeded" {
		t.Fatalf("bob's PUT over his quota: %v", err)
	}
	if _, errOut, code := runCLI(t, adminTestEnv, "user", "quota", "bob", "lots", "--endpoint", ep); code != 1 || !strings.Contains(errOut, "50GiB") {
		t.Fatalf("a bad quota: exit %d, %s", code, errOut)
	}
	list := cliOK(t, adminTestEnv, "user", "list", "--endpoint", ep)
	for _, want := range []string{"admin", "built-in", "alice", "bob", "carol", "readonly", "1.0 KiB"} {
		if !strings.Contains(list, want) {
			t.Fatalf("user list lacks %q:\n%s", want, list)
		}
	}
	cliOK(t, adminTestEnv, "user", "remove", "carol", "--endpoint", ep)
	if _, err := cc.ListBuckets(ctx, &s3.ListBucketsInput{}); s3Code(err) != "InvalidAccessKeyId" {
		t.Fatalf("a removed user's key: %v", err)
	}
	keys := cliOK(t, adminTestEnv, "key", "list", "--user", "alice", "--endpoint", ep)
	if !strings.Contains(keys, rotated.AccessKey) || strings.Contains(keys, laptop.AccessKey) || strings.Contains(keys, rotated.SecretKey) {
		t.Fatalf("key list:\n%s", keys)
	}
	stopGateway(t, p)
	if strings.Contains(p.stderr.String(), alice.SecretKey) || strings.Contains(p.stderr.String(), rotated.SecretKey) {
		t.Fatal("the log holds a secret")
	}
}
