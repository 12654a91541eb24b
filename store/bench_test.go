package store

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"
)

// benchmarkPut puts b.N distinct blobs of size bytes (a counter in the first bytes
// defeats dedup) and releases them so that the store does not grow a pin table.
func benchmarkPut(b *testing.B, size int) {
	s := openStore(b, "")
	data := content(99, size)
	ctx := testContext(b)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.LittleEndian.PutUint64(data, uint64(i))
		blob, err := s.Put(ctx, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		s.Unpin(blob.Digest)
	}
}

func BenchmarkPut4KiB(b *testing.B)  { benchmarkPut(b, 4<<10) }
func BenchmarkPut1MiB(b *testing.B)  { benchmarkPut(b, 1<<20) }
func BenchmarkPut64MiB(b *testing.B) { benchmarkPut(b, 64<<20) }

func BenchmarkOpenBlobRead64MiB(b *testing.B) {
	s := openStore(b, "")
	blob := mustPut(b, s, content(98, 64<<20))
	buf := make([]byte, 1<<20)
	ctx := testContext(b)
	b.SetBytes(blob.Size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.OpenBlob(ctx, blob.Digest, blob.Size, 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(buf); err != nil {
				break
			}
		}
		r.Close()
	}
}

func BenchmarkVerify64MiB(b *testing.B) {
	s := openStore(b, "")
	blob := mustPut(b, s, content(97, 64<<20))
	ctx := testContext(b)
	b.SetBytes(blob.Size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Verify(ctx, blob.Digest, blob.Size); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut4KiBParallel16 puts distinct 4 KiB blobs from 16 goroutines.
func BenchmarkPut4KiBParallel16(b *testing.B) {
	s := openStore(b, "")
	ctx := testContext(b)
	var seq atomic.Uint64
	b.SetParallelism(8) // 16 goroutines on 2 CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		data := content(99, 4<<10)
		for pb.Next() {
			binary.LittleEndian.PutUint64(data, seq.Add(1))
			blob, err := s.Put(ctx, bytes.NewReader(data))
			if err != nil {
				b.Error(err)
				return
			}
			s.Unpin(blob.Digest)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}
