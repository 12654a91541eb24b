package store

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

const (
	// bloomBitsPerDigest and bloomHashes give about 0.3% false positives
	// at the expected count: that share of garbage survives one collection.
	bloomBitsPerDigest = 12
	bloomHashes        = 8
	// bloomMinDigests sizes the filter of a store with few references.
	bloomMinDigests = 1 << 16
)

// bloom is the set of referenced digests during one collection: 1.5 MiB per
// million references instead of 32 bytes each plus a map's overhead. A false
// positive keeps a garbage blob; never the other way round. SHA-256 digests
// are uniformly random, so the bit positions come from the digest's own
// bytes, mixed with seeds chosen per filter so that a blob kept by a false
// positive is not kept again by the next collection.
type bloom struct {
	words        []uint64
	mask         uint64 // bit count - 1; the bit count is a power of two
	seed1, seed2 uint64
	n            int // digests added
	capacity     int // the count the filter was sized for
}

func newBloom(expected int) *bloom {
	expected = max(expected, bloomMinDigests)
	nbits := uint64(1) << bits.Len64(uint64(expected*bloomBitsPerDigest)-1)
	return &bloom{
		words: make([]uint64, nbits/64), mask: nbits - 1,
		seed1: rand.Uint64(), seed2: rand.Uint64(), capacity: expected,
	}
}

// positions calls fn with the filter's bit positions for d (double hashing).
func (b *bloom) positions(d *Digest, fn func(bit uint64) bool) bool {
	h1 := binary.LittleEndian.Uint64(d[0:8]) ^ b.seed1
	h2 := (binary.LittleEndian.Uint64(d[8:16]) ^ b.seed2) | 1
	for i := range uint64(bloomHashes) {
		if !fn((h1 + i*h2) & b.mask) {
			return false
		}
	}
	return true
}

func (b *bloom) add(d Digest) {
	b.n++
	b.positions(&d, func(bit uint64) bool {
		b.words[bit/64] |= 1 << (bit % 64)
		return true
	})
}

// mayContain is false only for a digest that was never added.
func (b *bloom) mayContain(d Digest) bool {
	return b.positions(&d, func(bit uint64) bool { return b.words[bit/64]&(1<<(bit%64)) != 0 })
}

// overfull reports that far more digests went in than the filter was sized
// for, so that it would keep most garbage.
func (b *bloom) overfull() bool { return b.n > 2*b.capacity }
