package awschunked

import (
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"hash/crc32"
	"hash/crc64"
)

// crc64NVMEPoly is the CRC-64/NVME polynomial 0xad93d23594c93659 in the bit-reversed
// form hash/crc64 expects. With crc64's initial ~0 and final xor this is CRC-64/NVME
// (check value 0xae8b14860a799888 for "123456789"), the algorithm S3 calls CRC64NVME.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var (
	crc32cTable    = crc32.MakeTable(crc32.Castagnoli)
	crc64NVMETable = crc64.MakeTable(crc64NVMEPoly)
)

// checksumAlgorithm is one S3 checksum: its name in Checksums and its hash.
type checksumAlgorithm struct {
	name string
	new  func() hash.Hash
}

// checksumAlgorithms maps the trailer names to their algorithms.
var checksumAlgorithms = map[string]checksumAlgorithm{
	"x-amz-checksum-crc32":     {"crc32", func() hash.Hash { return crc32.NewIEEE() }},
	"x-amz-checksum-crc32c":    {"crc32c", func() hash.Hash { return crc32.New(crc32cTable) }},
	"x-amz-checksum-crc64nvme": {"crc64nvme", func() hash.Hash { return crc64.New(crc64NVMETable) }},
	"x-amz-checksum-sha1":      {"sha1", sha1.New},
	"x-amz-checksum-sha256":    {"sha256", sha256.New},
}

// runningChecksum is a checksum computed over the decoded bytes for one trailer.
type runningChecksum struct {
	trailer string
	algo    checksumAlgorithm
	h       hash.Hash
}
