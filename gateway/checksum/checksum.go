package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/minio/crc64nvme"
	"github.com/zeebo/xxh3"
)

// Algorithm is an S3 checksum algorithm by its upper-case S3 name ("CRC32").
type Algorithm string

// The algorithms S3 accepts.
const (
	CRC32     Algorithm = "CRC32"
	CRC32C    Algorithm = "CRC32C"
	CRC64NVME Algorithm = "CRC64NVME"
	SHA1      Algorithm = "SHA1"
	SHA256    Algorithm = "SHA256"
	SHA512    Algorithm = "SHA512"
	MD5       Algorithm = "MD5"
	XXHASH64  Algorithm = "XXHASH64"
	XXHASH3   Algorithm = "XXHASH3"
	XXHASH128 Algorithm = "XXHASH128"
)

// Default is the checksum S3 computes and stores when a client sends none.
const Default = CRC64NVME

// Type says how a multipart object's checksum relates to its bytes.
type Type string

// The checksum types.
const (
	// FullObject is a checksum of the object's bytes, however it was uploaded.
	FullObject Type = "FULL_OBJECT"
	// Composite is a checksum of the part checksums, written "value-N".
	Composite Type = "COMPOSITE"
)

// crc64NVMEPoly is the CRC-64/NVME polynomial 0xad93d23594c93659 bit-reversed, as
// hash/crc64 expects it; with crc64's initial ~0 and final xor this is CRC-64/NVME.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

// spec is what the package knows of one algorithm.
type spec struct {
	new  func() hash.Hash
	size int
	// crcWidth is the CRC width in bits (0: not a CRC) and crcPoly its reversed
	// polynomial: a CRC can be combined, so it supports FULL_OBJECT.
	crcWidth int
	crcPoly  uint64
	// composite reports whether COMPOSITE is allowed (all but CRC64NVME).
	composite bool
}

var specs = map[Algorithm]spec{
	CRC32:  {func() hash.Hash { return crc32.NewIEEE() }, 4, 32, crc32.IEEE, true},
	CRC32C: {func() hash.Hash { return crc32.New(crc32cTable) }, 4, 32, crc32.Castagnoli, true},
	// crc64nvme, not hash/crc64: hash/crc64 rebuilds its 16 KiB slicing table on
	// every write of 2 KiB or more for any polynomial but ISO and ECMA, which made
	// CRC64NVME, the default checksum, cost as much CPU as SHA-256.
	CRC64NVME: {func() hash.Hash { return crc64nvme.New() }, 8, 64, crc64NVMEPoly, false},
	SHA1:      {sha1.New, sha1.Size, 0, 0, true},
	SHA256:    {sha256.New, sha256.Size, 0, 0, true},
	SHA512:    {sha512.New, sha512.Size, 0, 0, true},
	MD5:       {md5.New, md5.Size, 0, 0, true},
	XXHASH64:  {func() hash.Hash { return xxhash.New() }, 8, 0, 0, true},
	XXHASH3:   {func() hash.Hash { return xxh3.New() }, 8, 0, 0, true},
	XXHASH128: {func() hash.Hash { return xxh3.New128() }, 16, 0, 0, true},
}

// Algorithms lists every algorithm, in the order S3 documents them.
var Algorithms = []Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256, SHA512, MD5, XXHASH64, XXHASH3, XXHASH128}

// Parse returns the algorithm named by s, in any case.
func Parse(s string) (Algorithm, bool) {
	a := Algorithm(strings.ToUpper(strings.TrimSpace(s)))
	_, ok := specs[a]
	return a, ok
}

// ParseType returns the checksum type named by s, in any case.
func ParseType(s string) (Type, bool) {
	t := Type(strings.ToUpper(strings.TrimSpace(s)))
	return t, t == FullObject || t == Composite
}

// New returns a hash computing a's digest. a must be known.
func (a Algorithm) New() hash.Hash { return specs[a].new() }

// Size is the length of a's digest in bytes.
func (a Algorithm) Size() int { return specs[a].size }

// Header is the header (and trailer) that carries a's value, lower case:
// "x-amz-checksum-crc32".
func (a Algorithm) Header() string { return "x-amz-checksum-" + strings.ToLower(string(a)) }

// Supports reports whether a multipart upload may use a with checksum type t.
func (a Algorithm) Supports(t Type) bool {
	s := specs[a]
	switch t {
	case FullObject:
		return s.crcWidth > 0
	case Composite:
		return s.composite
	}
	return false
}

// DefaultType is the type of an upload created with a and no x-amz-checksum-type:
// FULL_OBJECT for CRC64NVME, which has no composite form, COMPOSITE otherwise.
func (a Algorithm) DefaultType() Type {
	if specs[a].composite {
		return Composite
	}
	return FullObject
}

// Decode returns the digest in value, a base64 checksum of a; ok is false when
// value is not one.
func (a Algorithm) Decode(value string) (digest []byte, ok bool) {
	d, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(d) != a.Size() {
		return nil, false
	}
	return d, true
}

// Encode writes a digest as S3 does: standard base64.
func Encode(digest []byte) string { return base64.StdEncoding.EncodeToString(digest) }

// SplitComposite splits a composite value "digest-N" into its digest and part
// count; a value without "-N" has parts 0. ok is false when the suffix is not a
// positive number or there is more than one '-'.
func SplitComposite(value string) (digest string, parts int, ok bool) {
	d, n, found := strings.Cut(value, "-")
	if !found {
		return value, 0, true
	}
	parts, err := strconv.Atoi(n)
	if err != nil || parts < 1 || strings.Contains(n, "-") {
		return "", 0, false
	}
	return d, parts, true
}

// TypeOf returns the type of a stored object checksum value: composite values end
// in "-N".
func TypeOf(value string) Type {
	if strings.Contains(value, "-") {
		return Composite
	}
	return FullObject
}
