package lifecycle_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
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
	node   *queue.Node
	client *s3.Client
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
	srv := gateway.New(gateway.DefaultConfig(sigv4.StaticCredentials{"AKLIFECYCLE": "lifecycle-secret"}), node, archive.New(st, node), log)
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
	return &server{node: node, client: client}
}

// version is one version of a key as ListObjectVersions shows it.
type version struct {
	id     string
	latest bool
	marker bool
}

// versions lists the versions of key, newest first, through ListObjectVersions.
func (s *server) versions(t *testing.T, bucket, key string) []version {
	t.Helper()
	out, err := s.client.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var vs []version
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			vs = append(vs, version{aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), false})
		}
	}
	for _, m := range out.DeleteMarkers {
		if aws.ToString(m.Key) == key {
			vs = append(vs, version{aws.ToString(m.VersionId), aws.ToBool(m.IsLatest), true})
		}
	}
	return vs
}

// get reads one version of key through GetObject; id "" reads the current one.
func (s *server) get(bucket, key, id string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if id != "" {
		in.VersionId = aws.String(id)
	}
	out, err := s.client.GetObject(context.Background(), in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// TestPassAppliesTheRules writes through the real S3 endpoint into two
// versioned buckets, one with a lifecycle configuration, then runs the pass
// over the real journal
// with its clock an hour, then 31 days, ahead. Exactly what the rules name
// goes: noncurrent versions past their days beyond the ones kept, delete
// markers left alone (at once, as in S3), an old upload under the rule's
// prefix. Every kept
// version reads back byte-identical; the bucket without rules is untouched.
func TestPassAppliesTheRules(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := s.client
	body := map[string][]byte{}  // by version ID
	ids := map[string][]string{} // bucket/key: version IDs as written
	put := func(bucket, key string, seed int) {
		t.Helper()
		b := testutil.Content(seed, 1000+seed*7919)
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		body[aws.ToString(out.VersionId)] = b
		ids[bucket+"/"+key] = append(ids[bucket+"/"+key], aws.ToString(out.VersionId))
	}
	del := func(bucket, key string) {
		t.Helper()
		out, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil || !aws.ToBool(out.DeleteMarker) {
			t.Fatalf("delete %s/%s: %v, marker %v", bucket, key, err, aws.ToBool(out.DeleteMarker))
		}
	}
	for _, bucket := range []string{"backup", "plain"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
		if err != nil {
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

	// docs/a keeps its current version and the newest noncurrent one, both
	// byte-identical; the two oldest are gone.
	written := ids["backup/docs/a"]
	got := s.versions(t, "backup", "docs/a")
	if len(got) != 2 || !got[0].latest || got[0].id != written[3] || got[1].id != written[2] {
		t.Fatalf("docs/a has versions %+v after the pass, want %v", got, written[2:])
	}
	for _, id := range written[2:] {
		b, err := s.get("backup", "docs/a", id)
		if err != nil || sha256.Sum256(b) != sha256.Sum256(body[id]) {
			t.Fatalf("docs/a version %s does not read back as written: %v", id, err)
		}
	}
	for _, id := range written[:2] {
		if _, err := s.get("backup", "docs/a", id); errorCode(err) != "NoSuchVersion" {
			t.Fatalf("expired docs/a version %s: %v, want NoSuchVersion", id, err)
		}
	}
	current, err := s.get("backup", "docs/a", "")
	if err != nil || !bytes.Equal(current, body[written[3]]) {
		t.Fatalf("GET docs/a does not answer the current version: %v", err)
	}
	for key, n := range map[string]int{"lonely/k": 0, "ghost": 0, "notes/x": 2} {
		if got := len(s.versions(t, "backup", key)); got != n {
			t.Errorf("%s has %d versions after the pass, want %d", key, got, n)
		}
	}
	if keys := s.uploads(t, "backup"); len(keys) != 1 || keys[0] != "keep/upload" {
		t.Fatalf("uploads left in backup: %v; want keep/upload only", keys)
	}

	// The bucket without a configuration is as it was.
	for key, n := range before {
		if got := len(s.versions(t, "plain", key)); got != n {
			t.Errorf("plain/%s has %d versions, had %d", key, got, n)
		}
	}
	if keys := s.uploads(t, "plain"); len(keys) != 2 {
		t.Errorf("plain has uploads %v, had 2", keys)
	}
	// A second pass finds nothing more to do.
	if res, err := p.Run(ctx, nil); err != nil || res != (lifecycle.Result{Buckets: 1}) {
		t.Fatalf("a second pass: %+v, %v", res, err)
	}
}

// uploads lists the keys of bucket's multipart uploads.
func (s *server) uploads(t *testing.T, bucket string) []string {
	t.Helper()
	out, err := s.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}
