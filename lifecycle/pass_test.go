package lifecycle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rs/zerolog"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway"
	"github.com/ipas/ipas/gateway/sigv4"
	"github.com/ipas/ipas/internal/testutil"
	"github.com/ipas/ipas/lifecycle"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/store"
)

const day = 24 * time.Hour

// server is the real S3 endpoint over a real journal and store.
type server struct {
	node    *queue.Node
	archive *archive.Archive
	client  *s3.Client
}

func startServer(t *testing.T) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	st := store.New(filepath.Join(dir, "store"), log)
	if err := st.Open(ctx); err != nil {
		t.Fatal(err)
	}
	qc := queue.DefaultConfig(filepath.Join(dir, "journal"))
	qc.HeartbeatTimeout, qc.ElectionTimeout, qc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	node := queue.New(qc, log)
	if err := node.Open(ctx); err != nil {
		t.Fatal(err)
	}
	arch := archive.New(st, node)
	srv := gateway.New(gateway.DefaultConfig(sigv4.StaticCredentials{"AKLIFECYCLE": "lifecycle-secret"}), node, arch, log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		node.Close(context.Background())
		st.Close(context.Background())
	})
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + ln.Addr().String()), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKLIFECYCLE", SecretAccessKey: "lifecycle-secret"}, nil
		}), RetryMaxAttempts: 1})
	return &server{node: node, archive: arch, client: client}
}

// versions returns the S3 version IDs of key, newest first.
func (s *server) versions(t *testing.T, bucket, key string) []queue.ObjectVersion {
	t.Helper()
	all, _, err := s.node.ListVersions(bucket, key, "", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []queue.ObjectVersion
	for _, v := range all {
		if v.Key == key {
			out = append(out, v)
		}
	}
	return out
}

// read returns the bytes of one version, read back through the archive.
func (s *server) read(t *testing.T, o queue.Object) []byte {
	t.Helper()
	rc := s.archive.Open(context.Background(), o, 0, o.Size)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPassAppliesTheRules writes through the real S3 endpoint into two
// versioned buckets, one with a lifecycle configuration, then runs the pass
// with its clock an hour, then 31 days, ahead. Exactly what the rules name
// goes: noncurrent versions past their days beyond the ones kept, delete
// markers left alone (at once, as in S3), an old upload under the rule's
// prefix. Every kept
// version reads back byte-identical; the bucket without rules is untouched.
func TestPassAppliesTheRules(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.client
	body := map[string][]byte{}
	put := func(bucket, key string, seed int) {
		t.Helper()
		b := testutil.Content(seed, 1000+seed*7919)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
		body[bucket+"/"+key+"#"+string(rune('0'+seed%10))] = b
	}
	del := func(bucket, key string) {
		t.Helper()
		if err := s.node.DeleteObject(ctx, bucket, key, queue.NewVersionID(time.Now())); err != nil {
			t.Fatalf("delete %s/%s: %v", bucket, key, err)
		}
	}
	for _, bucket := range []string{"backup", "plain"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		if err := s.node.SetBucketSetting(ctx, bucket, queue.SettingVersioning, queue.VersioningEnabled); err != nil {
			t.Fatal(err)
		}
		for seed := 1; seed <= 4; seed++ {
			put(bucket, "docs/a", seed) // v4 current; v3, v2, v1 noncurrent
		}
		put(bucket, "lonely/k", 5)
		del(bucket, "lonely/k") // a marker over one noncurrent version
		put(bucket, "notes/x", 6)
		del(bucket, "notes/x") // no rule expires notes/x: its marker stays
		del(bucket, "ghost")   // a marker and nothing else
		for _, key := range []string{"tmp/upload", "keep/upload"} {
			if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	rule := func(id, prefix string) types.LifecycleRule {
		return types.LifecycleRule{ID: aws.String(id), Status: types.ExpirationStatusEnabled, Filter: &types.LifecycleRuleFilter{Prefix: aws.String(prefix)}}
	}
	docs, lonely, markers, tmp := rule("docs", "docs/"), rule("lonely", "lonely/"), rule("markers", ""), rule("tmp", "tmp/")
	docs.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(30), NewerNoncurrentVersions: aws.Int32(1)}
	lonely.NoncurrentVersionExpiration = &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}
	markers.Expiration = &types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}
	tmp.AbortIncompleteMultipartUpload = &types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(2)}
	_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("backup"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: []types.LifecycleRule{docs, lonely, markers, tmp}}})
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for _, key := range []string{"docs/a", "lonely/k", "notes/x", "ghost"} {
		before[key] = len(s.versions(t, "plain", key))
	}

	p := lifecycle.NewPass(s.node, zerolog.New(zerolog.NewTestWriter(t)))
	p.Batch = 2 // several pages and batches with few versions
	start := time.Now()
	p.Now = func() time.Time { return start.Add(time.Hour) }
	res, err := p.Run(ctx, nil)
	// A lone delete marker is expired at once, as in S3; no version is old enough.
	if want := (lifecycle.Result{Buckets: 1, MarkersRemoved: 1}); err != nil || res != want {
		t.Fatalf("an hour later: %+v, %v; want %+v", res, err, want)
	}
	p.Now = func() time.Time { return start.Add(31 * day) }
	res, err = p.Run(ctx, nil)
	want := lifecycle.Result{Buckets: 1, UploadsAborted: 1, VersionsExpired: 3, MarkersRemoved: 1}
	if err != nil || res != want {
		t.Fatalf("31 days later: %+v, %v; want %+v", res, err, want)
	}

	// docs/a keeps its current version and the newest noncurrent one.
	got := s.versions(t, "backup", "docs/a")
	if len(got) != 2 || !got[0].Latest {
		t.Fatalf("docs/a has %d versions after the pass, want 2", len(got))
	}
	for i, seed := range []int{4, 3} {
		want := body["backup/docs/a#"+string(rune('0'+seed))]
		b := s.read(t, got[i].Object)
		if sha256.Sum256(b) != sha256.Sum256(want) || got[i].SHA256 != sha256Hex(want) {
			t.Fatalf("docs/a version %d does not read back as written", seed)
		}
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("backup"), Key: aws.String("docs/a")})
	if err != nil {
		t.Fatal(err)
	}
	current, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(current, body["backup/docs/a#4"]) {
		t.Fatal("GET docs/a does not answer the current version")
	}
	for key, n := range map[string]int{"lonely/k": 0, "ghost": 0, "notes/x": 2} {
		if got := len(s.versions(t, "backup", key)); got != n {
			t.Errorf("%s has %d versions after the pass, want %d", key, got, n)
		}
		if _, err := s.node.LatestVersion("backup", key); n == 0 && !errors.Is(err, queue.ErrNoSuchKey) {
			t.Errorf("%s: LatestVersion %v, want ErrNoSuchKey", key, err)
		}
	}
	uploads, _, err := s.node.ListUploads("backup", "", "", "", 100)
	if err != nil || len(uploads) != 1 || uploads[0].Key != "keep/upload" {
		t.Fatalf("uploads left in backup: %+v, %v; want keep/upload only", uploads, err)
	}

	// The bucket without a configuration is as it was.
	for key, n := range before {
		if got := len(s.versions(t, "plain", key)); got != n {
			t.Errorf("plain/%s has %d versions, had %d", key, got, n)
		}
	}
	if uploads, _, _ := s.node.ListUploads("plain", "", "", "", 100); len(uploads) != 2 {
		t.Errorf("plain has %d uploads, had 2", len(uploads))
	}
	// A second pass finds nothing more to do.
	if res, err := p.Run(ctx, nil); err != nil || res != (lifecycle.Result{Buckets: 1}) {
		t.Fatalf("a second pass: %+v, %v", res, err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
