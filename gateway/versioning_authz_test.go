package gateway

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/users"
)

// TestVersionsAuthorization: a write-only key (a laptop's backup key) can
// neither remove a version for good nor hide one behind a delete marker nor
// turn versioning off; a read-only key lists and reads every version.
func TestVersionsAuthorization(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	owner := g.addUser(t, "alice", authz.RoleUser)
	writeOnly := g.addKey(t, "alice", users.KeySpec{Access: string(authz.AccessWrite)})
	readOnly := g.addKey(t, "alice", users.KeySpec{Access: string(authz.AccessRead)})
	mustBucket(t, owner, "backup")
	enableVersioning(t, owner, "backup", types.BucketVersioningStatusEnabled)
	v1 := putVersion(t, owner, "backup", "k", []byte("original"))
	putVersion(t, owner, "backup", "k", []byte("second"))

	_, err := writeOnly.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("backup"), Key: aws.String("k"), VersionId: aws.String(v1)})
	wantCode(t, err, "AccessDenied")
	_, err = writeOnly.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("backup"), Key: aws.String("k")})
	wantCode(t, err, "AccessDenied")
	out, err := writeOnly.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("backup"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("k"), VersionId: aws.String(v1)}}}})
	if err != nil || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Fatalf("DeleteObjects of a version with a write-only key: %+v, %v", out, err)
	}
	_, err = writeOnly.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("backup"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended}})
	wantCode(t, err, "AccessDenied")
	_, err = readOnly.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("backup"), Key: aws.String("k"), VersionId: aws.String(v1)})
	wantCode(t, err, "AccessDenied")

	versions, _ := listAllVersions(t, readOnly, "backup", "")
	if len(versions) != 2 {
		t.Fatalf("read-only key lists %d versions, want 2", len(versions))
	}
	got, err := getVersion(t, readOnly, "backup", "k", v1)
	if err != nil || !bytes.Equal(got, []byte("original")) {
		t.Fatalf("read-only GET of v1: %q, %v", got, err)
	}
}

// TestQuotaCountsNoncurrentVersions: the bytes of noncurrent versions count
// against a quota until the versions are removed.
func TestQuotaCountsNoncurrentVersions(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	alice := g.addUser(t, "alice", authz.RoleUser)
	mustBucket(t, alice, "quota")
	enableVersioning(t, alice, "quota", types.BucketVersioningStatusEnabled)
	if err := g.dir.SetQuota(ctx, "alice", 10<<10); err != nil {
		t.Fatal(err)
	}
	put := func(key string, n int) (string, error) {
		out, err := alice.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("quota"), Key: aws.String(key), Body: bytes.NewReader(make([]byte, n))})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.VersionId), nil
	}
	big, err := put("a", 6<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put("a", 1<<10); err != nil { // 6 KiB stay, noncurrent
		t.Fatal(err)
	}
	if _, err := put("x", 1<<10); err != nil {
		t.Fatal(err)
	}
	// A delete makes the next write count the bucket again.
	if _, err := alice.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("quota"), Key: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := put("b", 3<<10); errCode(err) != "QuotaExceeded" {
		t.Fatalf("a PUT over the quota counting noncurrent versions: %v", err)
	}
	if _, err := alice.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("quota"), Key: aws.String("a"), VersionId: aws.String(big)}); err != nil {
		t.Fatal(err)
	}
	if _, err := put("b", 3<<10); err != nil {
		t.Fatalf("a PUT once the noncurrent version is gone: %v", err)
	}
}
