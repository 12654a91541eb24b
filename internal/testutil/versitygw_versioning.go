package testutil

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// StartVersityGWVersioning is StartVersityGW with versitygw's versioning
// directory, so that its buckets can have versioning (PutBucketVersioning)
// and Object Lock (a bucket created with ObjectLockEnabledForBucket). The
// buckets it creates start with versioning off.
func StartVersityGWVersioning(t testing.TB, buckets ...string) *VersityGW {
	t.Helper()
	bin := VersityGWBinary()
	if bin == "" {
		MissingTool(t, "versitygw", versityInstall)
	}
	dir, versions := t.TempDir(), t.TempDir()
	for _, b := range buckets {
		if err := os.Mkdir(filepath.Join(dir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g := &VersityGW{AccessKey: "ipastestkey", SecretKey: "ipastestsecret0123456789", Dir: dir, VersionsDir: versions}
	g.start(t, bin)
	return g
}

// S3 returns an SDK client of the server's root user, for a test to look
// at (or set up) the remote directly, as an operator would.
func (g *VersityGW) S3() *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(g.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(g.AccessKey, g.SecretKey, "")})
}

// CreateBucket creates a bucket through the S3 API.
func (g *VersityGW) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	if _, err := g.S3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}

// EnableVersioning turns the bucket's versioning on.
func (g *VersityGW) EnableVersioning(t testing.TB, bucket string) {
	t.Helper()
	_, err := g.S3().PutBucketVersioning(context.Background(), &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
	if err != nil {
		t.Fatalf("enable versioning of %s: %v", bucket, err)
	}
}

// CreateLockedBucket creates a bucket with Object Lock (and so versioning)
// and a default retention of mode for days.
func (g *VersityGW) CreateLockedBucket(t testing.TB, bucket string, mode types.ObjectLockRetentionMode, days int32) {
	t.Helper()
	ctx, c := context.Background(), g.S3()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatalf("create bucket %s with object lock: %v", bucket, err)
	}
	_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(bucket),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: mode, Days: aws.Int32(days)}}}})
	if err != nil {
		t.Fatalf("default retention of %s: %v", bucket, err)
	}
}
