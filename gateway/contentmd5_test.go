package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/store"
)

// TestContentMD5LargeBodies: the Content-MD5 of a body that is not staged (a
// PutObject above the inline size, every UploadPart) is checked by the store
// against the MD5 it computes for the ETag, not by a second MD5 pass: a wrong
// one is BadDigest and stores nothing (no blob, no part, the old object stays);
// a right one gives the MD5 as ETag and the bytes back.
func TestContentMD5LargeBodies(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	mustBucket(t, c, "bkt")
	put(t, c, "bkt", "k", []byte("original"))
	data := bytes.Repeat([]byte("0123456789abcdef"), 96<<10) // 1.5 MiB
	other := md5.Sum([]byte("other"))
	good := md5.Sum(data)
	wrongMD5 := aws.String(base64.StdEncoding.EncodeToString(other[:]))
	rightMD5 := aws.String(base64.StdEncoding.EncodeToString(good[:]))
	stored := func() bool {
		ok, err := g.store.Has(store.Digest(sha256.Sum256(data)))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	_, err := c.PutObject(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: bytes.NewReader(data), ContentMD5: wrongMD5})
	wantCode(t, err, "BadDigest")
	up, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(data), ContentMD5: wrongMD5})
	wantCode(t, err, "BadDigest")
	if stored() {
		t.Fatal("a body with a wrong Content-MD5 was stored")
	}
	parts, err := c.ListParts(ctxT(t), &s3.ListPartsInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: up.UploadId})
	if err != nil || len(parts.Parts) != 0 {
		t.Fatalf("parts after a BadDigest part: %v, %d", err, len(parts.Parts))
	}
	if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); string(got) != "original" {
		t.Fatalf("after rejected PUTs the object is %q, want the original", got)
	}

	part, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("k"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(data), ContentMD5: rightMD5})
	if err != nil || aws.ToString(part.ETag) != `"`+hex.EncodeToString(good[:])+`"` {
		t.Fatalf("UploadPart with the right Content-MD5: %v, ETag %s", err, aws.ToString(part.ETag))
	}
	if _, err := c.CompleteMultipartUpload(ctxT(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); !bytes.Equal(got, data) {
		t.Fatalf("multipart object: %d bytes back, want the %d sent", len(got), len(data))
	}
	out := put(t, c, "bkt", "single", data, func(in *s3.PutObjectInput) { in.ContentMD5 = rightMD5 })
	if aws.ToString(out.ETag) != `"`+hex.EncodeToString(good[:])+`"` {
		t.Fatalf("PutObject ETag %s, want the MD5", aws.ToString(out.ETag))
	}
	if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("single")}); !bytes.Equal(got, data) {
		t.Fatalf("single object: %d bytes back, want the %d sent", len(got), len(data))
	}
}
