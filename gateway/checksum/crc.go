package checksum

// CRC combination. A CRC is the remainder of the message polynomial (times x^n) by
// the generator P, so for messages A and B:
//
//	crc(A‖B) = crc(A)·x^(8·len(B)) + crc(B)   (mod P, coefficients in GF(2))
//
// The initial value and the final xor of CRC-32, CRC-32C and CRC-64/NVME are both
// all ones; their contributions to that sum cancel, so the formula holds for the
// finished CRC values as the hash packages return them.
//
// Values are in the reflected form those CRCs use: for width n, bit n-1 holds the
// coefficient of x^0 and bit 0 that of x^(n-1); the reversed polynomial holds P's
// coefficients below x^n in the same order.

// mulX returns v·x mod P.
func mulX(v uint64, poly uint64) uint64 {
	if v&1 != 0 {
		return v>>1 ^ poly
	}
	return v >> 1
}

// mulMod returns a·b mod P.
func mulMod(a, b uint64, width int, poly uint64) uint64 {
	var p uint64
	for m := uint64(1) << (width - 1); m != 0 && a != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			a &^= m
		}
		b = mulX(b, poly)
	}
	return p
}

// xPow8 returns x^(8·n) mod P by squaring.
func xPow8(n int64, width int, poly uint64) uint64 {
	one := uint64(1) << (width - 1)
	result, sq := one, one>>8 // x^0 and x^8
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			result = mulMod(result, sq, width, poly)
		}
		sq = mulMod(sq, sq, width, poly)
	}
	return result
}
