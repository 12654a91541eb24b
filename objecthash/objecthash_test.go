package objecthash

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand"
	"strconv"
	"testing"
)

// object returns random bytes cut into parts of the given sizes, the hex
// SHA-256 of each part, and the composite hash computed here by hand:
// SHA-256 over the concatenated raw part digests, then "-N".
func object(t *testing.T, sizes ...int64) ([]byte, []string, string) {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(len(sizes))))
	var all, cat []byte
	var hexes []string
	for _, s := range sizes {
		p := make([]byte, s)
		rng.Read(p)
		d := sha256.Sum256(p)
		all = append(all, p...)
		cat = append(cat, d[:]...)
		hexes = append(hexes, hex.EncodeToString(d[:]))
	}
	c := sha256.Sum256(cat)
	return all, hexes, hex.EncodeToString(c[:]) + "-" + strconv.Itoa(len(sizes))
}

func TestCompositeIsHashOfPartDigests(t *testing.T) {
	_, hexes, want := object(t, 5<<20, 5<<20, 1234)
	got, err := CompositeOf(hexes)
	if err != nil || got.String() != want {
		t.Fatalf("CompositeOf = %v, %v; want %s", got, err, want)
	}
	back, err := Parse(want)
	if err != nil || back != got || !back.Composite() || back.Parts != 3 {
		t.Fatalf("Parse(%s) = %+v, %v", want, back, err)
	}
	if _, err := CompositeOf([]string{hexes[0], "not-hex"}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("CompositeOf of a bad part name: %v", err)
	}
}

func TestVerifier(t *testing.T) {
	sizes := []int64{100_000, 100_000, 0, 777}
	data, _, comp := object(t, sizes...)
	full := sha256.Sum256(data)
	fullHex := hex.EncodeToString(full[:])

	swapped := append(append([]byte{}, data[100_000:200_000]...), data[:100_000]...)
	swapped = append(swapped, data[200_000:]...)
	flipped := bytes.Clone(data)
	flipped[150_000] ^= 1

	for _, tc := range []struct {
		name  string
		want  string
		sizes []int64
		bytes []byte
		err   error
	}{
		{"composite, whole object", comp, sizes, data, nil},
		{"full hash, whole object", fullHex, nil, data, nil},
		{"full hash ignores part sizes", fullHex, sizes, data, nil},
		{"composite, parts swapped", comp, sizes, swapped, ErrMismatch},
		{"composite, one bit flipped", comp, sizes, flipped, ErrMismatch},
		{"composite, truncated", comp, sizes, data[:len(data)-1], ErrMismatch},
		{"composite, one byte too many", comp, sizes, append(bytes.Clone(data), 0), ErrMismatch},
		{"composite, wrong part sizes", comp, []int64{100_001, 99_999, 0, 777}, data, ErrMismatch},
		{"composite, part sizes missing", comp, nil, data, ErrMalformed},
		{"composite, one part size too many", comp, append(sizes, 0), data, ErrMalformed},
		{"full hash, truncated", fullHex, nil, data[:10], ErrMismatch},
		{"malformed", "abc", nil, data, ErrMalformed},
		{"upper case", "A" + fullHex[1:], nil, data, ErrMalformed},
		{"bad count", fullHex + "-0", []int64{}, data, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Written in odd pieces: part boundaries fall inside writes.
			v := NewVerifier(tc.want, tc.sizes)
			for b := tc.bytes; len(b) > 0; {
				k := min(len(b), 33_333)
				v.Write(b[:k])
				b = b[k:]
			}
			err := v.Check()
			if !errors.Is(err, tc.err) || (tc.err != nil && err == nil) {
				t.Fatalf("Check = %v, want %v", err, tc.err)
			}
			if tc.err == nil && v.Sum() != tc.want {
				t.Fatalf("Sum = %s, want %s", v.Sum(), tc.want)
			}
		})
	}
}

func TestFits(t *testing.T) {
	same := make([]int64, 10_000)
	for i := range same {
		same[i] = 8 << 20
	}
	same[len(same)-1] = 12
	if !Fits(same) {
		t.Fatal("10,000 equal parts and a short last one do not fit")
	}
	varied := make([]int64, MaxRuns+1)
	for i := range varied {
		varied[i] = int64(5<<20 + i)
	}
	if Fits(varied) || !Fits(varied[:MaxRuns]) {
		t.Fatalf("Fits(%d runs) = %v, Fits(%d runs) = %v", MaxRuns+1, Fits(varied), MaxRuns, Fits(varied[:MaxRuns]))
	}
}
