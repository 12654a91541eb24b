//go:build ipasmultipart

package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// multipartETag is md5-of-md5s-N over data cut into parts of partSize.
func multipartETag(data []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(data); off += partSize {
		s := md5.Sum(data[off:min(off+partSize, len(data))])
		sums = append(sums, s[:]...)
		n++
	}
	s := md5.Sum(sums)
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(s[:]), n)
}

// TestMultipartManager uploads with the SDK's transfer manager (parallel parts, a
// CRC32 per part, trailers over HTTPS) and checks bytes and the ETag everywhere.
func TestMultipartManager(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			var opts []gwOption
			if tls {
				opts = append(opts, withTLS())
			}
			g := newGateway(t, opts...)
			c := g.client()
			mustBucket(t, c, "mpu")
			const partSize = 5 << 20
			data := content(9, 3*partSize+12345)
			up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = partSize; u.Concurrency = 4 })
			res, err := up.Upload(ctxT(t), &s3.PutObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"),
				Body: bytes.NewReader(data), Metadata: map[string]string{"owner": "carol"}})
			if err != nil {
				t.Fatalf("upload: %v", err)
			}
			want := multipartETag(data, partSize)
			if aws.ToString(res.ETag) != want {
				t.Fatalf("Complete ETag %s, want %s", aws.ToString(res.ETag), want)
			}
			got, out := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")})
			if sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("read back %d bytes that differ", len(got))
			}
			head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")})
			if err != nil {
				t.Fatal(err)
			}
			l, err := c.ListObjectsV2(ctxT(t), &s3.ListObjectsV2Input{Bucket: aws.String("mpu")})
			if err != nil || len(l.Contents) != 1 {
				t.Fatalf("list: %v", err)
			}
			for name, e := range map[string]string{"GET": aws.ToString(out.ETag), "HEAD": aws.ToString(head.ETag), "LIST": aws.ToString(l.Contents[0].ETag)} {
				if e != want {
					t.Fatalf("%s ETag %s, want %s", name, e, want)
				}
			}
			if head.Metadata["owner"] != "carol" {
				t.Fatalf("metadata %v", head.Metadata)
			}
			// A range across the boundary of parts 1 and 2.
			rng, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big"),
				Range: aws.String(fmt.Sprintf("bytes=%d-%d", partSize-10, partSize+9))})
			if !bytes.Equal(rng, data[partSize-10:partSize+10]) {
				t.Fatalf("range across parts: %d bytes differ", len(rng))
			}
			// Downloading with the manager's parallel ranged GETs.
			buf := manager.NewWriteAtBuffer(nil)
			if _, err := manager.NewDownloader(c, func(d *manager.Downloader) { d.PartSize = 4 << 20 }).Download(ctxT(t), buf,
				&s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big")}); err != nil || !bytes.Equal(buf.Bytes(), data) {
				t.Fatalf("manager download: %v", err)
			}
		})
	}
}

func TestMultipartOperations(t *testing.T) {
	g := newGateway(t)
	c := g.client()
	ctx := ctxT(t)
	mustBucket(t, c, "mpu")
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("ListMultipartUploads on a fresh bucket: %v, %d uploads", err, len(lu.Uploads))
	}
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	id := cr.UploadId
	p1, p2 := content(1, 5<<20), content(2, 1000)
	e1 := uploadPart(t, c, "k", id, 1, p1)
	e2 := uploadPart(t, c, "k", id, 2, p2)
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("k"), UploadId: id})
	if err != nil || len(lp.Parts) != 2 || aws.ToInt64(lp.Parts[1].Size) != 1000 || aws.ToString(lp.Parts[0].ETag) != e1 {
		t.Fatalf("ListParts: %v %+v", err, lp)
	}
	lu, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].UploadId) != aws.ToString(id) {
		t.Fatalf("ListMultipartUploads: %v %+v", err, lu)
	}
	complete := func(parts ...types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("k"),
			UploadId: id, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
		return err
	}
	part := func(n int32, etag string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	wantCode(t, complete(part(2, e2), part(1, e1)), "InvalidPartOrder")
	wantCode(t, complete(part(1, e1), part(2, `"deadbeef"`)), "InvalidPart")
	wantCode(t, complete(part(2, e2), part(3, e2)), "InvalidPart")
	wantCode(t, complete(part(2, e2)), "")
	// Part 2 (1000 bytes) completed alone is fine; now a too-small first part:
	cr2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("small")})
	s1 := uploadPart(t, c, "small", cr2.UploadId, 1, []byte("tiny"))
	s2 := uploadPart(t, c, "small", cr2.UploadId, 2, []byte("tail"))
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("small"),
		UploadId: cr2.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{part(1, s1), part(2, s2)}}})
	wantCode(t, err, "EntityTooSmall")
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("small"), UploadId: cr2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("small"), UploadId: cr2.UploadId})
	wantCode(t, err, "NoSuchUpload")
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("small"), UploadId: cr2.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x"))})
	wantCode(t, err, "NoSuchUpload")
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("k"), UploadId: aws.String("nope"),
		PartNumber: aws.Int32(10001), Body: bytes.NewReader([]byte("x"))})
	wantCode(t, err, "InvalidArgument")

	// UploadPartCopy: a whole object and a range of it.
	src := content(5, 6<<20)
	put(t, c, "mpu", "src", src)
	cr3, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("copied")})
	var parts []types.CompletedPart
	for i, rng := range []string{"", "bytes=0-99"} {
		in := &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("copied"), UploadId: cr3.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String("mpu/src")}
		if rng != "" {
			in.CopySourceRange = aws.String(rng)
		}
		out, err := c.UploadPartCopy(ctx, in)
		if err != nil {
			t.Fatalf("UploadPartCopy %q: %v", rng, err)
		}
		parts = append(parts, part(int32(i+1), aws.ToString(out.CopyPartResult.ETag)))
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("copied"),
		UploadId: cr3.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("copied")})
	if !bytes.Equal(got, append(append([]byte{}, src...), src[:100]...)) {
		t.Fatalf("UploadPartCopy object: %d bytes differ", len(got))
	}
	// CopyObject of a multipart object keeps its parts and ETag.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("mpu"), Key: aws.String("copy2"), CopySource: aws.String("mpu/copied")}); err != nil {
		t.Fatal(err)
	}
	got, _ = getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("copy2")})
	if len(got) != len(src)+100 {
		t.Fatalf("copy of a multipart object: %d bytes", len(got))
	}
}

func uploadPart(t *testing.T, c *s3.Client, key string, id *string, n int32, data []byte) string {
	t.Helper()
	out, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(key), UploadId: id,
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("upload part %d: %v", n, err)
	}
	s := md5.Sum(data)
	if want := `"` + hex.EncodeToString(s[:]) + `"`; aws.ToString(out.ETag) != want {
		t.Fatalf("part ETag %s, want %s", aws.ToString(out.ETag), want)
	}
	return aws.ToString(out.ETag)
}
