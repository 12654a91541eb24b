package awschunked

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/ipas/ipas/gateway/s3err"
)

// fuzzMaxChunk keeps each fuzz execution small; the limit logic is the same at 16 MiB.
// fuzzMinChunk lets small inputs come in many chunks, to exercise the framing; the
// minimum itself is tested in TestChunkSizeRule.
const (
	fuzzMaxChunk = 1 << 16
	fuzzMinChunk = 1
)

// FuzzDecoder feeds arbitrary bodies to the decoder in every mode: it must never panic
// or fail with anything but an S3 error, must never return more bytes than the body
// holds, and must decode whatever the test encoder produced from the same input.
func FuzzDecoder(f *testing.F) {
	signing := testSigning(testSecret, testSeed)
	crc := "x-amz-checksum-crc32"
	for _, data := range [][]byte{nil, []byte("a"), payload(100), payload(3000)} {
		f.Add(encodeBody(Signed, signing, data, 1024, nil), uint8(0), int64(-1))
		f.Add(encodeBody(SignedTrailer, signing, data, 1024, []trailer{{crc, checksumOf(crc, data)}}), uint8(1), int64(len(data)))
		f.Add(encodeBody(UnsignedTrailer, nil, data, 1024, []trailer{{crc, checksumOf(crc, data)}}), uint8(2), int64(-1))
	}
	for _, base := range []string{"testdata/sdk-put-crc32", "testdata/sdk-put-crc64nvme"} {
		body, _ := loadCaptured(f, base)
		f.Add(body, uint8(2), int64(12))
	}
	f.Add([]byte("ffffffffffffffffff\r\n"), uint8(2), int64(-1))
	f.Add([]byte("0\r\n\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"), uint8(2), int64(0))
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint8(11), int64(5))
	f.Fuzz(func(t *testing.T, body []byte, sel uint8, decodedLen int64) {
		mode := []Mode{Signed, SignedTrailer, UnsignedTrailer}[int(sel)%3]
		opts := Options{Mode: mode, Signing: signing, DecodedLength: decodedLen, MaxChunkSize: fuzzMaxChunk, MinChunkSize: fuzzMinChunk}
		if decodedLen < -1 {
			opts.DecodedLength = -1
		}
		// A trailer mode may declare no trailer: the fourth choice.
		if name := []string{crc, "x-amz-checksum-crc64nvme", "x-amz-checksum-sha256", ""}[int(sel/3)%4]; mode != Signed && name != "" {
			opts.Trailers = []string{name}
		}
		r := NewReader(bytes.NewReader(body), opts)
		n, err := io.Copy(io.Discard, r)
		if err != nil {
			var e *s3err.APIError
			if !errors.As(err, &e) {
				t.Fatalf("non-S3 error %v", err)
			}
		}
		if n > int64(len(body)) || n != r.DecodedBytes() {
			t.Fatalf("decoded %d bytes (DecodedBytes %d) from a %d-byte body", n, r.DecodedBytes(), len(body))
		}

		// The same input as a payload must survive an encode/decode round trip.
		var trailers []trailer
		for _, name := range opts.Trailers {
			trailers = append(trailers, trailer{name, checksumOf(name, body)})
		}
		// Small chunks exercise the framing; at most 256 of them keep an execution fast.
		chunk := max(1+int(sel)*37, len(body)/256+1)
		enc := encodeBody(mode, signing, body, chunk, trailers)
		opts.DecodedLength = int64(len(body))
		got, err := io.ReadAll(NewReader(bytes.NewReader(enc), opts))
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("round trip mode %d chunk %d: %v (%d of %d bytes)", mode, chunk, err, len(got), len(body))
		}
	})
}
