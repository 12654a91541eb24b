package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ipas/ipas/gateway/checksum"
)

// smallParts lets multipart tests use parts of a few KiB.
func smallParts(c *Config) { c.MinPartSize = 1 }

// mpu is one multipart upload driven by a test.
type mpu struct {
	t     *testing.T
	c     *s3.Client
	key   string
	id    *string
	parts []types.CompletedPart
	data  []byte
}

func newMPU(t *testing.T, c *s3.Client, key string, a checksum.Algorithm, typ types.ChecksumType) *mpu {
	t.Helper()
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithm(a), ChecksumType: typ}
	out, err := c.CreateMultipartUpload(ctxT(t), in)
	if err != nil {
		t.Fatalf("create %s %s: %v", a, typ, err)
	}
	return &mpu{t: t, c: c, key: key, id: out.UploadId}
}

// part uploads data as the next part, with its checksum a computed by the client
// ("" sends none), and keeps what CompleteMultipartUpload needs.
func (m *mpu) part(data []byte, a checksum.Algorithm) *s3.UploadPartOutput {
	m.t.Helper()
	n := int32(len(m.parts) + 1)
	in := &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(m.key), UploadId: m.id, PartNumber: aws.Int32(n), Body: bytes.NewReader(data)}
	if a != "" {
		*partSum(in, a) = aws.String(sumOf(a, data))
	}
	out, err := m.c.UploadPart(ctxT(m.t), in)
	if err != nil {
		m.t.Fatalf("part %d: %v", n, err)
	}
	cp := types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag}
	for _, alg := range checksum.Algorithms {
		if v := partOutSum(out, alg); v != "" {
			*completedSum(&cp, alg) = aws.String(v)
		}
	}
	m.parts = append(m.parts, cp)
	m.data = append(m.data, data...)
	return out
}

func partOutSum(o *s3.UploadPartOutput, a checksum.Algorithm) string {
	return aws.ToString(*checksumField(a, &o.ChecksumCRC32, &o.ChecksumCRC32C, &o.ChecksumCRC64NVME, &o.ChecksumSHA1, &o.ChecksumSHA256,
		&o.ChecksumSHA512, &o.ChecksumMD5, &o.ChecksumXXHASH64, &o.ChecksumXXHASH3, &o.ChecksumXXHASH128))
}

func (m *mpu) complete(edit func(*s3.CompleteMultipartUploadInput)) (*s3.CompleteMultipartUploadOutput, error) {
	in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(m.key), UploadId: m.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: append([]types.CompletedPart(nil), m.parts...)}}
	if edit != nil {
		edit(in)
	}
	return m.c.CompleteMultipartUpload(ctxT(m.t), in)
}

// compositeOf is the COMPOSITE checksum of parts with a.
func compositeOf(a checksum.Algorithm, parts ...[]byte) string {
	cs := checksum.NewCompositeSum(a)
	for _, p := range parts {
		d, _ := a.Decode(sumOf(a, p))
		cs.Add(d)
	}
	return cs.Value()
}

// TestMultipartChecksums: what each kind of upload makes of its parts' checksums.
func TestMultipartChecksums(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client(noSDKChecksums)
	mustBucket(t, c, "mpu")
	p1, p2, p3 := content(1, 70000), content(2, 65536), content(3, 1234)

	// FULL_OBJECT: the server computes part CRCs the client leaves out, and the
	// object's CRC is that of all its bytes.
	for _, a := range []checksum.Algorithm{checksum.CRC32, checksum.CRC32C, checksum.CRC64NVME} {
		m := newMPU(t, c, "full-"+string(a), a, types.ChecksumTypeFullObject)
		if got := partOutSum(m.part(p1, ""), a); got != sumOf(a, p1) {
			t.Fatalf("%s: server-computed part checksum %q, want %q", a, got, sumOf(a, p1))
		}
		m.part(p2, a)
		m.part(p3, "")
		whole := sumOf(a, append(append(append([]byte{}, p1...), p2...), p3...))
		_, err := m.complete(func(in *s3.CompleteMultipartUploadInput) { *completeInSum(in, a) = aws.String(sumOf(a, p1)) })
		wantCode(t, err, "BadDigest")
		out, err := m.complete(func(in *s3.CompleteMultipartUploadInput) { *completeInSum(in, a) = aws.String(whole) })
		if err != nil || completeOutSum(out, a) != whole || out.ChecksumType != types.ChecksumTypeFullObject {
			t.Fatalf("%s: complete: %v, %q type %q, want %q", a, err, completeOutSum(out, a), out.ChecksumType, whole)
		}
		head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String(m.key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || headSum(head, a) != whole || head.ChecksumType != types.ChecksumTypeFullObject {
			t.Fatalf("%s: HEAD: %v, %q type %q", a, err, headSum(head, a), head.ChecksumType)
		}
	}

	// COMPOSITE: a checksum of the part checksums, "-N"; every part needs one.
	for _, a := range []checksum.Algorithm{checksum.CRC32, checksum.SHA256, checksum.SHA512, checksum.MD5, checksum.XXHASH3} {
		m := newMPU(t, c, "comp-"+string(a), a, "")
		_, err := c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String(m.key), UploadId: m.id,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)})
		if !strings.Contains(fmt.Sprint(err), "expected checksum Type: "+string(a)+", actual checksum Type: null") {
			t.Fatalf("%s: part without checksum: %v", a, err)
		}
		m.part(p1, a)
		m.part(p2, a)
		want := compositeOf(a, p1, p2)
		_, err = m.complete(func(in *s3.CompleteMultipartUploadInput) {
			in.MultipartUpload.Parts[1] = types.CompletedPart{PartNumber: aws.Int32(2), ETag: m.parts[1].ETag}
		})
		if !strings.Contains(fmt.Sprint(err), "It was missing for part 2 in the request.") {
			t.Fatalf("%s: complete without a part checksum: %v", a, err)
		}
		_, err = m.complete(func(in *s3.CompleteMultipartUploadInput) { in.ChecksumType = types.ChecksumTypeFullObject })
		if !strings.Contains(fmt.Sprint(err), "created using the COMPOSITE checksum mode") {
			t.Fatalf("%s: complete with the other type: %v", a, err)
		}
		digest, _, _ := checksum.SplitComposite(want)
		out, err := m.complete(func(in *s3.CompleteMultipartUploadInput) { *completeInSum(in, a) = aws.String(digest) })
		if err != nil || completeOutSum(out, a) != want || out.ChecksumType != types.ChecksumTypeComposite {
			t.Fatalf("%s: complete: %v, %q type %q, want %q", a, err, completeOutSum(out, a), out.ChecksumType, want)
		}
		head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String(m.key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || headSum(head, a) != want || head.ChecksumType != types.ChecksumTypeComposite {
			t.Fatalf("%s: HEAD: %v, %q type %q", a, err, headSum(head, a), head.ChecksumType)
		}
	}

	// No algorithm: parts may carry any checksum; the object gets a CRC64NVME of its
	// bytes, and a final checksum the client sends is ignored.
	m := newMPU(t, c, "none", "", "")
	m.part(p1, checksum.CRC32)
	m.part(p3, "")
	out, err := m.complete(func(in *s3.CompleteMultipartUploadInput) { in.ChecksumCRC64NVME = aws.String("vqf3hRLTlJw=") })
	whole := sumOf(checksum.CRC64NVME, append(append([]byte{}, p1...), p3...))
	if err != nil || aws.ToString(out.ChecksumCRC64NVME) != whole || out.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("no algorithm: %v, crc64nvme %q type %q, want %q", err, aws.ToString(out.ChecksumCRC64NVME), out.ChecksumType, whole)
	}
}

// TestMultipartChecksumSettings: CreateMultipartUpload's algorithm and type, their
// errors, and how ListParts and ListMultipartUploads report them.
func TestMultipartChecksumSettings(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client(noSDKChecksums)
	mustBucket(t, c, "mpu")
	for _, tc := range []struct {
		algo checksum.Algorithm
		typ  types.ChecksumType
		msg  string
	}{
		{"crc16", "", "Checksum algorithm provided is unsupported."},
		{"", "FULL_OBJECT", "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."},
		{"CRC32", "BOTH", "Value for x-amz-checksum-type header is invalid."},
		{"SHA1", "FULL_OBJECT", "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."},
		{"CRC64NVME", "COMPOSITE", "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."},
	} {
		_, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String("k"),
			ChecksumAlgorithm: types.ChecksumAlgorithm(tc.algo), ChecksumType: tc.typ})
		if errCode(err) != "InvalidRequest" || !strings.Contains(fmt.Sprint(err), tc.msg) {
			t.Errorf("create %s %s: %v, want InvalidRequest %q", tc.algo, tc.typ, err, tc.msg)
		}
	}
	want := map[string][2]string{"a": {"CRC32", "COMPOSITE"}, "b": {"CRC32C", "FULL_OBJECT"}, "c": {"CRC64NVME", "FULL_OBJECT"}, "d": {"XXHASH64", "COMPOSITE"}}
	ids := map[string]*string{}
	for key, w := range want {
		in := &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu"), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithm(strings.ToLower(w[0]))}
		if key == "b" {
			in.ChecksumType = "full_object"
		}
		out, err := c.CreateMultipartUpload(ctxT(t), in)
		if err != nil || string(out.ChecksumAlgorithm) != w[0] || string(out.ChecksumType) != w[1] {
			t.Fatalf("create %s: %v, %q %q, want %v", key, err, out.ChecksumAlgorithm, out.ChecksumType, w)
		}
		ids[key] = out.UploadId
	}
	l, err := c.ListMultipartUploads(ctxT(t), &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
	if err != nil || len(l.Uploads) != len(want) {
		t.Fatalf("list uploads: %v %d", err, len(l.Uploads))
	}
	for _, u := range l.Uploads {
		if w := want[aws.ToString(u.Key)]; string(u.ChecksumAlgorithm) != w[0] || string(u.ChecksumType) != w[1] {
			t.Fatalf("list uploads %s: %q %q, want %v", aws.ToString(u.Key), u.ChecksumAlgorithm, u.ChecksumType, w)
		}
	}
	m := &mpu{t: t, c: c, key: "b", id: ids["b"]}
	m.part(content(1, 100), checksum.CRC32C)
	_, err = c.UploadPart(ctxT(t), &s3.UploadPartInput{Bucket: aws.String("mpu"), Key: aws.String("b"), UploadId: m.id,
		PartNumber: aws.Int32(2), Body: bytes.NewReader([]byte("x")), ChecksumSHA1: aws.String(sumOf(checksum.SHA1, []byte("x")))})
	if !strings.Contains(fmt.Sprint(err), "expected checksum Type: CRC32C, actual checksum Type: SHA1") {
		t.Fatalf("part with another algorithm: %v", err)
	}
	lp, err := c.ListParts(ctxT(t), &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("b"), UploadId: m.id})
	if err != nil || lp.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c || lp.ChecksumType != types.ChecksumTypeFullObject ||
		len(lp.Parts) != 1 || aws.ToString(lp.Parts[0].ChecksumCRC32C) != sumOf(checksum.CRC32C, content(1, 100)) {
		t.Fatalf("ListParts: %v %+v", err, lp)
	}
	none := newMPU(t, c, "e", "", "")
	lp, err = c.ListParts(ctxT(t), &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("e"), UploadId: none.id})
	if err != nil || lp.ChecksumAlgorithm != "null" || lp.ChecksumType != "null" {
		t.Fatalf("ListParts without algorithm: %v %q %q", err, lp.ChecksumAlgorithm, lp.ChecksumType)
	}
	none.part(content(2, 10), "")
	_, err = none.complete(func(in *s3.CompleteMultipartUploadInput) { in.MpuObjectSize = aws.Int64(11) })
	if !strings.Contains(fmt.Sprint(err), "x-amz-mp-object-size") {
		t.Fatalf("complete with a wrong x-amz-mp-object-size: %v", err)
	}
	if _, err = none.complete(func(in *s3.CompleteMultipartUploadInput) { in.MpuObjectSize = aws.Int64(10) }); err != nil {
		t.Fatalf("complete with the right x-amz-mp-object-size: %v", err)
	}
}

// TestCopyChecksums: a copy keeps its source's checksum or, asked for another
// algorithm, gets that one computed; a copied part gets its upload's.
func TestCopyChecksums(t *testing.T) {
	g := newGateway(t, withConfig(smallParts))
	c := g.client(noSDKChecksums)
	mustBucket(t, c, "mpu")
	data := content(7, 3000)
	put(t, c, "mpu", "src", data, func(in *s3.PutObjectInput) { in.ChecksumSHA1 = aws.String(sumOf(checksum.SHA1, data)) })

	cp, err := c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("mpu"), Key: aws.String("keep"), CopySource: aws.String("mpu/src")})
	if err != nil || aws.ToString(cp.CopyObjectResult.ChecksumSHA1) != sumOf(checksum.SHA1, data) {
		t.Fatalf("copy: %v %+v", err, cp)
	}
	cp, err = c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("mpu"), Key: aws.String("new"), CopySource: aws.String("mpu/src"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil || aws.ToString(cp.CopyObjectResult.ChecksumCRC32C) != sumOf(checksum.CRC32C, data) || cp.CopyObjectResult.ChecksumSHA1 != nil {
		t.Fatalf("copy with CRC32C: %v %+v", err, cp)
	}
	head, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("new"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || headSum(head, checksum.CRC32C) != sumOf(checksum.CRC32C, data) || head.ChecksumSHA1 != nil {
		t.Fatalf("HEAD of the copy: %v", err)
	}
	_, err = c.CopyObject(ctxT(t), &s3.CopyObjectInput{Bucket: aws.String("mpu"), Key: aws.String("bad"), CopySource: aws.String("mpu/src"),
		ChecksumAlgorithm: "CRC16"})
	if errCode(err) != "InvalidRequest" {
		t.Fatalf("copy with an unknown algorithm: %v", err)
	}

	m := newMPU(t, c, "parts", checksum.CRC64NVME, "")
	for i, rng := range []string{"", "bytes=10-99"} {
		in := &s3.UploadPartCopyInput{Bucket: aws.String("mpu"), Key: aws.String("parts"), UploadId: m.id, PartNumber: aws.Int32(int32(i + 1)),
			CopySource: aws.String("mpu/src")}
		want := sumOf(checksum.CRC64NVME, data)
		if rng != "" {
			in.CopySourceRange, want = aws.String(rng), sumOf(checksum.CRC64NVME, data[10:100])
		}
		out, err := c.UploadPartCopy(ctxT(t), in)
		if err != nil || aws.ToString(out.CopyPartResult.ChecksumCRC64NVME) != want || out.CopyPartResult.ChecksumSHA1 != nil {
			t.Fatalf("UploadPartCopy %q: %v %+v", rng, err, out)
		}
		m.parts = append(m.parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag,
			ChecksumCRC64NVME: out.CopyPartResult.ChecksumCRC64NVME})
	}
	whole := sumOf(checksum.CRC64NVME, append(append([]byte{}, data...), data[10:100]...))
	out, err := m.complete(nil)
	if err != nil || aws.ToString(out.ChecksumCRC64NVME) != whole {
		t.Fatalf("complete copied parts: %v, %q want %q", err, aws.ToString(out.ChecksumCRC64NVME), whole)
	}
}
