package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/objecthash"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestCompletedObjectSHA256: whatever order parts arrive in, whether a part is
// uploaded again after it was hashed ahead, and whichever parts Complete picks, the
// object journaled has the composite hash of exactly its parts (the SHA-256 of
// their SHA-256 digests, "-N"), or the part's SHA-256 for one part, and its
// CRC64NVME.
func TestCompletedObjectSHA256(t *testing.T) {
	g := newGateway(t, withConfig(func(c *Config) { c.MinPartSize = 1 }))
	c := g.client()
	mustBucket(t, c, "hashes")
	parts := [][]byte{content(40, 300_000), content(41, 200_000), content(42, 1000), content(43, 70_000)}
	other := content(44, 123_456)
	for _, tc := range []struct {
		name     string
		uploads  []int // part numbers in upload order; a negative number uploads `other` as that part
		complete []int
	}{
		{"in order", []int{1, 2, 3, 4}, []int{1, 2, 3, 4}},
		{"reverse order", []int{4, 3, 2, 1}, []int{1, 2, 3, 4}},
		{"part replaced after it was hashed", []int{1, 2, 3, -2}, []int{1, 2, 3}},
		{"part replaced back", []int{1, -2, 3, 2}, []int{1, 2, 3}},
		{"a part skipped", []int{1, 2, 3, 4}, []int{1, 3, 4}},
		{"first part missing", []int{2, 3}, []int{2, 3}},
		{"one part", []int{3}, []int{3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := aws.String(tc.name)
			cr, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String("hashes"), Key: key})
			if err != nil {
				t.Fatal(err)
			}
			content := map[int][]byte{}
			etags := map[int]*string{}
			for _, n := range tc.uploads {
				body := []byte(nil)
				if n < 0 {
					n, body = -n, other
				} else {
					body = parts[n-1]
				}
				out, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("hashes"), Key: key, UploadId: cr.UploadId,
					PartNumber: aws.Int32(int32(n)), Body: bytes.NewReader(body)})
				if err != nil {
					t.Fatal(err)
				}
				content[n], etags[n] = body, out.ETag
			}
			var list []types.CompletedPart
			var want, digests []byte
			var sizes []int64
			for _, n := range tc.complete {
				list = append(list, types.CompletedPart{PartNumber: aws.Int32(int32(n)), ETag: etags[n]})
				want = append(want, content[n]...)
				d := sha256.Sum256(content[n])
				digests = append(digests, d[:]...)
				sizes = append(sizes, int64(len(content[n])))
			}
			composite := sha256.Sum256(digests)
			wantHash := fmt.Sprintf("%x-%d", composite, len(tc.complete))
			if len(tc.complete) == 1 {
				wantHash = hex.EncodeToString(digests)
			}
			if _, err := c.CompleteMultipartUpload(ctxT(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String("hashes"), Key: key,
				UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: list}}); err != nil {
				t.Fatal(err)
			}
			o, err := g.node.Object("hashes", tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if o.SHA256 != wantHash {
				t.Fatalf("journaled hash %s, want %s", o.SHA256, wantHash)
			}
			if err := objecthash.Verify(o.SHA256, sizes, want); err != nil {
				t.Fatal(err)
			}
			// Created without a checksum: the chain's CRC64NVME is the object's.
			if crc := sumOf(checksum.CRC64NVME, want); o.Checksums[string(checksum.CRC64NVME)] != crc {
				t.Fatalf("checksums %v, want CRC64NVME %s", o.Checksums, crc)
			}
			if got, _ := getBytes(t, c, &s3.GetObjectInput{Bucket: aws.String("hashes"), Key: key}); !bytes.Equal(got, want) {
				t.Fatalf("read back %d bytes, want %d", len(got), len(want))
			}
		})
	}
}

// TestIrregularPartsFullSHA256: parts of more sizes than the remote copy's
// metadata is sure to carry (objecthash.MaxRuns) give the object a full SHA-256,
// computed at Complete.
func TestIrregularPartsFullSHA256(t *testing.T) {
	g := newGateway(t, withConfig(func(c *Config) { c.MinPartSize = 1 }))
	c := g.client()
	mustBucket(t, c, "hashes")
	key := aws.String("irregular")
	cr, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String("hashes"), Key: key,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	var list []types.CompletedPart
	for n := 1; n <= objecthash.MaxRuns+1; n++ {
		body := content(n, 1000+n)
		out, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("hashes"), Key: key, UploadId: cr.UploadId,
			PartNumber: aws.Int32(int32(n)), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, body...)
		list = append(list, types.CompletedPart{PartNumber: aws.Int32(int32(n)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	if _, err := c.CompleteMultipartUpload(ctxT(t), &s3.CompleteMultipartUploadInput{Bucket: aws.String("hashes"), Key: key,
		UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: list}}); err != nil {
		t.Fatal(err)
	}
	o, err := g.node.Object("hashes", "irregular")
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(want); o.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("journaled hash %s, want the full SHA-256 %x", o.SHA256, sum)
	}
}
