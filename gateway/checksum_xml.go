package gateway

import (
	"github.com/johannesboyne/gofakes3"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/queue"
)

// checksumFields are the checksum elements of S3's XML documents: of a completed or
// listed part, of CompleteMultipartUpload, CopyObject and UploadPartCopy results.
// Pointers tell an empty element from an absent one.
type checksumFields struct {
	ChecksumCRC32     *string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    *string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME *string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      *string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    *string `xml:"ChecksumSHA256,omitempty"`
	ChecksumSHA512    *string `xml:"ChecksumSHA512,omitempty"`
	ChecksumMD5       *string `xml:"ChecksumMD5,omitempty"`
	ChecksumXXHASH64  *string `xml:"ChecksumXXHASH64,omitempty"`
	ChecksumXXHASH3   *string `xml:"ChecksumXXHASH3,omitempty"`
	ChecksumXXHASH128 *string `xml:"ChecksumXXHASH128,omitempty"`
}

// field returns the element of algorithm a.
func (f *checksumFields) field(a checksum.Algorithm) **string {
	switch a {
	case checksum.CRC32:
		return &f.ChecksumCRC32
	case checksum.CRC32C:
		return &f.ChecksumCRC32C
	case checksum.CRC64NVME:
		return &f.ChecksumCRC64NVME
	case checksum.SHA1:
		return &f.ChecksumSHA1
	case checksum.SHA256:
		return &f.ChecksumSHA256
	case checksum.SHA512:
		return &f.ChecksumSHA512
	case checksum.MD5:
		return &f.ChecksumMD5
	case checksum.XXHASH64:
		return &f.ChecksumXXHASH64
	case checksum.XXHASH3:
		return &f.ChecksumXXHASH3
	case checksum.XXHASH128:
		return &f.ChecksumXXHASH128
	}
	return new(*string)
}

// newChecksumFields fills the elements from stored checksums.
func newChecksumFields(sums map[string]string) checksumFields {
	var f checksumFields
	for alg, v := range sums {
		if a, ok := checksum.Parse(alg); ok {
			*f.field(a) = &v
		}
	}
	return f
}

// values returns the elements present, by algorithm, in S3's order.
func (f *checksumFields) values() ([]checksum.Algorithm, []string) {
	var algs []checksum.Algorithm
	var vals []string
	for _, a := range checksum.Algorithms {
		if p := *f.field(a); p != nil {
			algs, vals = append(algs, a), append(vals, *p)
		}
	}
	return algs, vals
}

// listContent adds an object's checksum algorithm and type to gofakes3's listing
// entry.
type listContent struct {
	gofakes3.Content
	ChecksumAlgorithm []string `xml:"ChecksumAlgorithm,omitempty"`
	ChecksumType      string   `xml:"ChecksumType,omitempty"`
}

func newListContent(c gofakes3.Content, o queue.Object) listContent {
	return listContent{Content: c, ChecksumAlgorithm: checksumAlgorithms(o.Checksums), ChecksumType: string(checksumType(o.Checksums))}
}
