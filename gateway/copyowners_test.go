package gateway

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithy "github.com/aws/smithy-go"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/users"
)

// TestCopyBetweenOwners: CopyObject and UploadPartCopy from another user's
// bucket go through exactly when s3:GetObject on the source (owner, or
// granted by the source bucket's policy) and s3:PutObject on the
// destination both hold. A refused copy is AccessDenied whether or not the
// source exists, and writes nothing; an allowed one reads back the source's
// bytes.
func TestCopyBetweenOwners(t *testing.T) {
	g := newUsersGateway(t)
	ctx := ctxT(t)
	alice, bob, carol := g.addUser(t, "alice", authz.RoleUser), g.addUser(t, "bob", authz.RoleUser), g.addUser(t, "carol", authz.RoleUser)
	admin := g.client()
	clients := map[string]*s3.Client{
		"alice": alice, "bob": bob,
		"bob-read":  g.addKey(t, "bob", users.KeySpec{Access: string(authz.AccessRead)}),
		"bob-write": g.addKey(t, "bob", users.KeySpec{Access: string(authz.AccessWrite)}),
	}
	mustBucket(t, alice, "alice-src")
	mustBucket(t, alice, "alice-pub")
	mustBucket(t, bob, "bob-dst")
	mustBucket(t, carol, "carol-src")
	src := map[string][]byte{}
	for _, bk := range []string{"alice-src/shared/a.txt", "alice-src/private/b.txt", "alice-pub/p.txt", "carol-src/c.txt", "bob-dst/taken"} {
		bucket, key, _ := strings.Cut(bk, "/")
		src[bk] = content(len(src)+1, 3000)
		put(t, map[string]*s3.Client{"alice": alice, "bob": bob, "carol": carol}[strings.Split(bucket, "-")[0]], bucket, key, src[bk])
	}
	for bucket, policy := range map[string]string{
		"alice-src": `{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-src/shared/*"}}`,
		"alice-pub": `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::alice-pub/*"}}`,
	} {
		if _, err := alice.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}

	for i, c := range []struct {
		name, who, from, to string
		code                string // "" allowed
	}{
		{"owner to own bucket", "alice", "alice-src/private/b.txt", "alice-src/copy", ""},
		{"other user's bucket, no grant", "bob", "carol-src/c.txt", "bob-dst/c", "AccessDenied"},
		{"other user's bucket, no grant, missing source", "bob", "carol-src/missing", "bob-dst/c", "AccessDenied"},
		{"prefix grant, inside", "bob", "alice-src/shared/a.txt", "bob-dst/a", ""},
		{"prefix grant, inside, missing source", "bob", "alice-src/shared/missing", "bob-dst/m", "NoSuchKey"},
		{"prefix grant, outside", "bob", "alice-src/private/b.txt", "bob-dst/b", "AccessDenied"},
		{"prefix grant, outside, missing source", "bob", "alice-src/private/missing", "bob-dst/b", "AccessDenied"},
		{"public-read source", "bob", "alice-pub/p.txt", "bob-dst/p", ""},
		{"granted source, destination not the copier's", "bob", "alice-src/shared/a.txt", "carol-src/a", "AccessDenied"},
		{"granted source into its own bucket, not the copier's", "bob", "alice-src/shared/a.txt", "alice-src/shared/again", "AccessDenied"},
		{"read-only key", "bob-read", "alice-src/shared/a.txt", "bob-dst/ro", "AccessDenied"},
		{"write-only key, new object", "bob-write", "alice-src/shared/a.txt", "bob-dst/wo", ""},
		{"write-only key, overwrite", "bob-write", "alice-src/shared/a.txt", "bob-dst/taken", "AccessDenied"},
		{"write-only key, ungranted source", "bob-write", "carol-src/c.txt", "bob-dst/wo2", "AccessDenied"},
	} {
		from, to := c.from, c.to
		dstBucket, dstKey, _ := strings.Cut(to, "/")
		cl := clients[c.who]
		// CopyObject, then UploadPartCopy into a new upload by the destination's owner.
		_, err := cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dstBucket), Key: aws.String(dstKey), CopySource: aws.String(from)})
		if got := errCode(err); got != c.code {
			t.Errorf("%s: CopyObject %s -> %s as %s: %v (code %q), want %q", c.name, from, to, c.who, err, got, c.code)
		}
		before := src[to]
		if c.code == "" {
			before = src[from]
		}
		if got, out := readObject(t, admin, dstBucket, dstKey); !bytes.Equal(got, before) || (before == nil) != (out == nil) {
			t.Errorf("%s: %s holds %d bytes after the copy, want %d", c.name, to, len(got), len(before))
		}

		partKey := "part-" + string(rune('a'+i))
		up, err := alice.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("alice-src"), Key: aws.String(partKey)})
		if dstBucket != "alice-src" {
			owner := map[string]*s3.Client{"bob-dst": bob, "carol-src": carol}[dstBucket]
			up, err = owner.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(dstBucket), Key: aws.String(partKey)})
		}
		if err != nil {
			t.Fatal(err)
		}
		_, err = cl.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(dstBucket), Key: aws.String(partKey), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), CopySource: aws.String(from)})
		want := c.code
		if c.name == "write-only key, overwrite" {
			want = "" // a part overwrites nothing; its completion is checked
		}
		if got := errCode(err); got != want {
			t.Errorf("%s: UploadPartCopy %s -> %s as %s: %v (code %q), want %q", c.name, from, to, c.who, err, got, want)
		}
	}
	// The refusals carry nothing of the source: the same message whether or not it exists.
	_, e1 := bob.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bob-dst"), Key: aws.String("x"), CopySource: aws.String("carol-src/c.txt")})
	_, e2 := bob.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bob-dst"), Key: aws.String("x"), CopySource: aws.String("carol-src/missing")})
	if e1 == nil || e2 == nil || errMessage(e1) != errMessage(e2) {
		t.Fatalf("refusals differ between an existing and a missing source: %v / %v", e1, e2)
	}
}

// readObject returns the bytes at bucket/key (nil, nil when there is no
// object).
func readObject(t *testing.T, c *s3.Client, bucket, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(ctxT(t), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if errCode(err) == "NoSuchKey" {
		return nil, nil
	}
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(out.Body)
	return buf.Bytes(), out
}

// errMessage is the S3 message of err without the request IDs.
func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
