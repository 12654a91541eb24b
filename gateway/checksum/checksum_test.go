package checksum

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

// TestCheckValues pins each algorithm to the published check value of "123456789"
// (or, for the hashes, to a digest of the right size).
func TestCheckValues(t *testing.T) {
	crcs := map[Algorithm]uint64{CRC32: 0xcbf43926, CRC32C: 0xe3069283, CRC64NVME: 0xae8b14860a799888}
	for _, a := range Algorithms {
		h := a.New()
		h.Write([]byte("123456789"))
		d := h.Sum(nil)
		if len(d) != a.Size() {
			t.Fatalf("%s: digest is %d bytes, Size says %d", a, len(d), a.Size())
		}
		want, isCRC := crcs[a]
		if !isCRC {
			continue
		}
		var got uint64
		for _, b := range d {
			got = got<<8 | uint64(b)
		}
		if got != want {
			t.Errorf("%s(123456789) = %#x, want %#x", a, got, want)
		}
	}
}

// TestFullObjectSum: combining part CRCs gives the CRC of the whole, whatever the
// part sizes (empty parts included).
func TestFullObjectSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	splits := [][]int{{0}, {1}, {len(data)}, {5, 0, 7}, {1 << 19, 1 << 19}, {3, 100000, 65536, 1}}
	for i := 0; i < 20; i++ {
		var s []int
		for n := 1 + r.IntN(8); n > 0; n-- {
			s = append(s, r.IntN(200000))
		}
		splits = append(splits, s)
	}
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		for _, sizes := range splits {
			f, err := NewFullObjectSum(a)
			if err != nil {
				t.Fatal(err)
			}
			whole := a.New()
			off := 0
			for _, n := range sizes {
				part := data[off : off+n]
				off += n
				h := a.New()
				h.Write(part)
				whole.Write(part)
				f.Add(h.Sum(nil), int64(n))
			}
			if got, want := f.Digest(), whole.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%s parts %v: combined %x, direct %x", a, sizes, got, want)
			}
		}
	}
	for _, a := range []Algorithm{SHA1, SHA256, SHA512, MD5, XXHASH64, XXHASH3, XXHASH128} {
		if _, err := NewFullObjectSum(a); err != ErrNotCombinable {
			t.Errorf("%s: full-object sum error %v, want ErrNotCombinable", a, err)
		}
	}
}

// TestCompositeSum: the checksum of the concatenated part digests, then "-N".
func TestCompositeSum(t *testing.T) {
	c := NewCompositeSum(SHA256)
	var cat []byte
	for i := 0; i < 3; i++ {
		d := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		c.Add(d[:])
		cat = append(cat, d[:]...)
	}
	want := sha256.Sum256(cat)
	if got := c.Value(); got != Encode(want[:])+"-3" {
		t.Fatalf("composite = %s, want %s-3", got, Encode(want[:]))
	}
}

func TestParseAndSupports(t *testing.T) {
	if a, ok := Parse("crc64nvme"); !ok || a != CRC64NVME {
		t.Fatalf("Parse(crc64nvme) = %q %v", a, ok)
	}
	if _, ok := Parse("crc16"); ok {
		t.Fatal("Parse(crc16) succeeded")
	}
	if ty, ok := ParseType("Full_Object"); !ok || ty != FullObject {
		t.Fatalf("ParseType = %q %v", ty, ok)
	}
	for _, tc := range []struct {
		a          Algorithm
		full, comp bool
	}{{CRC32, true, true}, {CRC32C, true, true}, {CRC64NVME, true, false}, {SHA256, false, true}, {XXHASH128, false, true}} {
		if tc.a.Supports(FullObject) != tc.full || tc.a.Supports(Composite) != tc.comp {
			t.Errorf("%s: supports full %v composite %v", tc.a, tc.a.Supports(FullObject), tc.a.Supports(Composite))
		}
	}
	if CRC64NVME.DefaultType() != FullObject || CRC32.DefaultType() != Composite {
		t.Error("default types")
	}
	if CRC32.Header() != "x-amz-checksum-crc32" {
		t.Error(CRC32.Header())
	}
}

func TestSplitComposite(t *testing.T) {
	for _, tc := range []struct {
		in     string
		digest string
		parts  int
		ok     bool
	}{
		{"AAAAAA==", "AAAAAA==", 0, true},
		{"AAAAAA==-3", "AAAAAA==", 3, true},
		{"AAAAAA==-smth", "", 0, false},
		{"AAAAAA==-10-20", "", 0, false},
		{"AAAAAA==--3", "", 0, false},
		{"AAAAAA==-0", "", 0, false},
	} {
		d, n, ok := SplitComposite(tc.in)
		if d != tc.digest || n != tc.parts || ok != tc.ok {
			t.Errorf("SplitComposite(%q) = %q %d %v", tc.in, d, n, ok)
		}
	}
	if TypeOf("AAAAAA==-3") != Composite || TypeOf("AAAAAA==") != FullObject {
		t.Error("TypeOf")
	}
}

func BenchmarkFullObjectSum10000Parts(b *testing.B) {
	d := make([]byte, 8)
	for i := 0; i < b.N; i++ {
		f, _ := NewFullObjectSum(CRC64NVME)
		for p := 0; p < 10000; p++ {
			f.Add(d, 8<<20)
		}
	}
}

// BenchmarkAlgorithms measures each algorithm's throughput over 1 MiB writes: the
// cost a body pays for its checksum (CRC64NVME is the default).
func BenchmarkAlgorithms(b *testing.B) {
	buf := make([]byte, 1<<20)
	for _, a := range Algorithms {
		b.Run(string(a), func(b *testing.B) {
			h := a.New()
			b.SetBytes(int64(len(buf)))
			for i := 0; i < b.N; i++ {
				h.Write(buf)
			}
		})
	}
}

// TestCRC64NVMEMatchesReference: the CRC64NVME hash (crc64nvme, with its CPU
// instructions where there are any) gives the CRC that hash/crc64 computes bit by
// bit with the same polynomial, for any length and however the bytes are split
// into writes: short tails, odd sizes, writes that cross its 128-byte fast path.
func TestCRC64NVMEMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, 3<<20+77)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	ref := crc64.MakeTable(crc64NVMEPoly)
	for _, n := range []int{0, 1, 7, 127, 128, 129, 4095, 65536 + 3, len(data)} {
		want := crc64.Checksum(data[:n], ref)
		h := CRC64NVME.New()
		for rest := data[:n]; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(300000))
			h.Write(rest[:k])
			rest = rest[k:]
		}
		if got := binary.BigEndian.Uint64(h.Sum(nil)); got != want {
			t.Fatalf("%d bytes: crc %016x, hash/crc64 says %016x", n, got, want)
		}
	}
}
