package awschunked

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkReader measures decoding throughput for an 8 MiB body in 64 KiB chunks, the
// aws-cli and minio-go shape.
func BenchmarkReader(b *testing.B) {
	const size, chunk = 8 << 20, 64 << 10
	data := payload(size)
	signing := testSigning(testSecret, testSeed)
	crc := "x-amz-checksum-crc32"
	cases := []struct {
		name string
		mode Mode
	}{{"signed", Signed}, {"signed-trailer", SignedTrailer}, {"unsigned-trailer", UnsignedTrailer}}
	for _, tc := range cases {
		var trailers []trailer
		opts := Options{Mode: tc.mode, Signing: signing, DecodedLength: size}
		if tc.mode != Signed {
			trailers = []trailer{{crc, checksumOf(crc, data)}}
			opts.Trailers = []string{crc}
		}
		body := encodeBody(tc.mode, signing, data, chunk, trailers)
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := io.Copy(io.Discard, NewReader(bytes.NewReader(body), opts)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
