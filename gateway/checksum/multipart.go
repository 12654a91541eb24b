package checksum

import (
	"errors"
	"hash"
	"strconv"
)

// ErrNotCombinable is returned by FullObjectSum for an algorithm that is not a CRC.
var ErrNotCombinable = errors.New("checksum: only CRCs combine into a full-object checksum")

// CompositeSum accumulates the COMPOSITE checksum of a multipart object: the
// algorithm's digest over the concatenated part digests, followed by "-N".
type CompositeSum struct {
	h     hash.Hash
	parts int
}

// NewCompositeSum starts a composite checksum with algorithm a.
func NewCompositeSum(a Algorithm) *CompositeSum { return &CompositeSum{h: a.New()} }

// Add appends the next part's digest.
func (c *CompositeSum) Add(partDigest []byte) {
	c.h.Write(partDigest)
	c.parts++
}

// Value returns the checksum as S3 writes it: "base64-N".
func (c *CompositeSum) Value() string {
	return Encode(c.h.Sum(nil)) + "-" + strconv.Itoa(c.parts)
}

// FullObjectSum accumulates the FULL_OBJECT checksum of a multipart object from
// its parts' CRCs and sizes: the CRC of the concatenation, without the bytes.
type FullObjectSum struct {
	width int
	poly  uint64
	crc   uint64
	any   bool
	// lastSize and lastShift cache x^(8·size) mod P: parts are mostly one size.
	lastSize  int64
	lastShift uint64
}

// NewFullObjectSum starts a full-object checksum with algorithm a, which must be a
// CRC (ErrNotCombinable otherwise).
func NewFullObjectSum(a Algorithm) (*FullObjectSum, error) {
	s := specs[a]
	if s.crcWidth == 0 {
		return nil, ErrNotCombinable
	}
	return &FullObjectSum{width: s.crcWidth, poly: s.crcPoly}, nil
}

// Add appends the next part: its CRC digest (big-endian, as S3 encodes it) and its
// length in bytes.
func (f *FullObjectSum) Add(partDigest []byte, size int64) {
	var crc uint64
	for _, b := range partDigest {
		crc = crc<<8 | uint64(b)
	}
	if !f.any {
		f.crc, f.any = crc, true
		return
	}
	if size != f.lastSize || f.lastShift == 0 {
		f.lastSize, f.lastShift = size, xPow8(size, f.width, f.poly)
	}
	f.crc = mulMod(f.crc, f.lastShift, f.width, f.poly) ^ crc
}

// Digest returns the CRC of everything added, big-endian.
func (f *FullObjectSum) Digest() []byte {
	out := make([]byte, f.width/8)
	for i := range out {
		out[i] = byte(f.crc >> (8 * (len(out) - 1 - i)))
	}
	return out
}

// Value returns the checksum as S3 writes it: base64.
func (f *FullObjectSum) Value() string { return Encode(f.Digest()) }
