package replication

import "testing"

func TestPartSize(t *testing.T) {
	const (
		mib = 1 << 20
		gib = 1 << 30
		tib = 1 << 40
		// maxPartSize is S3's largest part.
		maxPartSize = 5 * gib
	)
	for _, c := range []struct {
		name       string
		size, want int64
		ps         int64
	}{
		{"empty", 0, DefaultPartSize, DefaultPartSize},
		{"small", 17 * mib, DefaultPartSize, DefaultPartSize},
		{"unset want", 17 * mib, 0, MinPartSize},
		{"below S3 minimum", 17 * mib, 1 * mib, MinPartSize},
		{"larger asked", 17 * mib, 64 * mib, 64 * mib},
		{"exactly 10,000 parts", 10000 * DefaultPartSize, DefaultPartSize, DefaultPartSize},
		{"one byte more", 10000*DefaultPartSize + 1, DefaultPartSize, 2 * DefaultPartSize},
		{"100 GB", 100e9, DefaultPartSize, 16 * mib},
		{"100 GiB", 100 * gib, DefaultPartSize, 16 * mib},
		{"1 TiB", tib, DefaultPartSize, 128 * mib},
		{"5 TiB, S3's largest object", 5 * tib, DefaultPartSize, 1 * gib},
		{"5 TiB from the minimum", 5 * tib, MinPartSize, 640 * mib},
	} {
		ps := partSize(c.size, c.want)
		n := partCount(c.size, ps)
		if ps != c.ps || ps < MinPartSize || ps > maxPartSize || n > MaxParts || n < 1 {
			t.Errorf("%s: partSize(%d, %d) = %d (%d parts), want %d, within [%d, %d] and at most %d parts",
				c.name, c.size, c.want, ps, n, c.ps, MinPartSize, maxPartSize, MaxParts)
			continue
		}
		// The parts cover the object exactly, each but the last a full part.
		var sum int64
		for i := 1; i <= n; i++ {
			off, l := partRange(c.size, ps, i)
			if off != sum || l > ps || (l <= 0 && c.size > 0) || (i < n && l != ps) {
				t.Fatalf("%s: part %d of %d: offset %d length %d after %d bytes", c.name, i, n, off, l, sum)
			}
			sum += l
		}
		if sum != c.size {
			t.Errorf("%s: parts cover %d bytes of %d", c.name, sum, c.size)
		}
	}
	if DefaultConfig().PartSize != 8<<20 {
		t.Errorf("default part size %d, want 8 MiB", DefaultConfig().PartSize)
	}
}
