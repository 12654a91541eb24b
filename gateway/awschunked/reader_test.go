package awschunked

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ipas/ipas/gateway/s3err"
)

const (
	testSecret = "test/secret+key"
	testSeed   = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
)

func payload(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func codeOf(err error) string {
	var e *s3err.APIError
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "non-S3 error: " + err.Error()
	}
	return ""
}

// TestRoundTrip encodes payloads of awkward sizes in every mode and checks that the
// decoder returns the same bytes and the verified checksums, however it is read.
func TestRoundTrip(t *testing.T) {
	const chunk = 8 << 10
	sizes := []int{0, 1, chunk - 1, chunk, chunk + 1, 3*chunk + 17}
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for _, mode := range []Mode{Signed, SignedTrailer, UnsignedTrailer} {
		for _, name := range []string{"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
			"x-amz-checksum-sha1", "x-amz-checksum-sha256"} {
			if mode == Signed && name != "x-amz-checksum-crc32" {
				continue // no trailers in this mode
			}
			for _, n := range sizes {
				for rname, wrap := range readers {
					data := payload(n)
					opts := Options{Mode: mode, Signing: testSigning(testSecret, testSeed), DecodedLength: int64(n)}
					var trailers []trailer
					if mode != Signed {
						opts.Trailers = []string{name}
						trailers = []trailer{{name, checksumOf(name, data)}}
					}
					body := encodeBody(mode, opts.Signing, data, chunk, trailers)
					r := NewReader(wrap(bytes.NewReader(body)), opts)
					got, err := io.ReadAll(r)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("mode %d %s size %d reader %s: err %v, got %d bytes", mode, name, n, rname, err, len(got))
					}
					if mode != Signed {
						algo := checksumAlgorithms[name].name
						if r.Checksums()[algo] != trailers[0].value {
							t.Fatalf("checksums %v, want %s=%s", r.Checksums(), algo, trailers[0].value)
						}
					}
					if r.DecodedBytes() != int64(n) {
						t.Fatalf("DecodedBytes %d, want %d", r.DecodedBytes(), n)
					}
				}
			}
		}
	}
}

// TestCRC64NVMECheckValue checks the polynomial against the catalogued CRC-64/NVME
// check value (the CRC of "123456789").
func TestCRC64NVMECheckValue(t *testing.T) {
	h := checksumAlgorithms["x-amz-checksum-crc64nvme"].new()
	h.Write([]byte("123456789"))
	if got := h.Sum(nil); !bytes.Equal(got, []byte{0xae, 0x8b, 0x14, 0x86, 0x0a, 0x79, 0x98, 0x88}) {
		t.Fatalf("CRC-64/NVME(123456789) = %x, want ae8b14860a799888", got)
	}
}

// TestDecodeErrors damages valid bodies and checks the exact S3 error code.
func TestDecodeErrors(t *testing.T) {
	data := payload(20000)
	const chunk = 8 << 10
	crc := "x-amz-checksum-crc32"
	signing := testSigning(testSecret, testSeed)
	signed := encodeBody(Signed, signing, data, chunk, nil)
	signedTr := encodeBody(SignedTrailer, signing, data, chunk, []trailer{{crc, checksumOf(crc, data)}})
	unsigned := encodeBody(UnsignedTrailer, nil, data, chunk, []trailer{{crc, checksumOf(crc, data)}})
	replace := func(b []byte, old, new string) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("test body has no %q", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 1
		return c
	}
	headerLen := bytes.Index(signed, []byte("\r\n")) + 2
	sOpts := Options{Mode: Signed, Signing: signing, DecodedLength: -1}
	stOpts := Options{Mode: SignedTrailer, Signing: signing, Trailers: []string{crc}, DecodedLength: -1}
	uOpts := Options{Mode: UnsignedTrailer, Trailers: []string{crc}, DecodedLength: -1}
	withLen := func(o Options, n int64) Options { o.DecodedLength = n; return o }
	withMax := func(o Options, n int64) Options { o.MaxChunkSize = n; return o }
	otherSeed := testSigning(testSecret, strings.Repeat("0", 64))
	wrongKey := testSigning("another secret", testSeed)

	cases := []struct {
		name string
		body []byte
		opts Options
		want string
	}{
		{"signed: data byte changed", flip(signed, headerLen+5), sOpts, "SignatureDoesNotMatch"},
		{"signed: last chunk byte changed", flip(signed, bytes.LastIndex(signed, []byte("0;chunk"))-3), sOpts, "SignatureDoesNotMatch"},
		{"signed: chunk signature changed", flip(signed, headerLen-5), sOpts, "SignatureDoesNotMatch"},
		{"signed: wrong seed", signed, Options{Mode: Signed, Signing: otherSeed, DecodedLength: -1}, "SignatureDoesNotMatch"},
		{"signed: wrong key", signed, Options{Mode: Signed, Signing: wrongKey, DecodedLength: -1}, "SignatureDoesNotMatch"},
		{"signed: final chunk signature changed", flip(signed, len(signed)-6), sOpts, "SignatureDoesNotMatch"},
		{"signed: final chunk missing", signed[:bytes.LastIndex(signed, []byte("0;chunk"))], sOpts, "IncompleteBody"},
		{"signed: truncated in data", signed[:headerLen+100], sOpts, "IncompleteBody"},
		{"signed: truncated in header", signed[:headerLen-10], sOpts, "IncompleteBody"},
		{"signed: empty body", nil, sOpts, "IncompleteBody"},
		{"signed: no chunk signature", replace(signed, ";chunk-signature=", ";chunk-signatur="), sOpts, "IncompleteBody"},
		{"signed: decoded length short", signed, withLen(sOpts, int64(len(data)+1)), "IncompleteBody"},
		{"signed: decoded length long", signed, withLen(sOpts, int64(len(data)-1)), "IncompleteBody"},
		{"signed: data after end", append(bytes.Clone(signed), 'x'), sOpts, "IncompleteBody"},
		{"signed: chunk over the limit", signed, withMax(sOpts, chunk-1), "InvalidArgument"},
		{"signed: chunks reordered", reorder(t, signed), sOpts, "SignatureDoesNotMatch"},

		{"trailer: checksum wrong", replace(unsigned, checksumOf(crc, data), checksumOf(crc, data[1:])), uOpts, "BadDigest"},
		{"trailer: checksum not base64", replace(unsigned, checksumOf(crc, data), "!!!!"), uOpts, "InvalidRequest"},
		{"trailer: checksum too short", replace(unsigned, checksumOf(crc, data), "AAA="), uOpts, "InvalidRequest"},
		{"trailer: undeclared", replace(unsigned, crc+":", "x-amz-meta-evil:"), uOpts, "MalformedTrailerError"},
		{"trailer: missing", replace(unsigned, crc+":"+checksumOf(crc, data)+"\r\n", ""), uOpts, "MalformedTrailerError"},
		{"trailer: declared another", unsigned, Options{Mode: UnsignedTrailer, Trailers: []string{"x-amz-checksum-sha256"}, DecodedLength: -1}, "MalformedTrailerError"},
		{"trailer: no colon", replace(unsigned, crc+":", crc+"="), uOpts, "MalformedTrailerError"},
		{"trailer: data byte changed", flip(unsigned, 10), uOpts, "BadDigest"},
		{"trailer: signature in unsigned body", replace(unsigned, "\r\n\r\n", "\r\nx-amz-trailer-signature:"+strings.Repeat("a", 64)+"\r\n\r\n"), uOpts, "MalformedTrailerError"},
		{"unsigned: chunk signature present", replace(unsigned, "2000\r\n", "2000;chunk-signature=x\r\n"), uOpts, "IncompleteBody"},
		{"signed trailer: checksum changed", replace(signedTr, checksumOf(crc, data), checksumOf(crc, data[1:])), stOpts, "SignatureDoesNotMatch"},
		{"signed trailer: signature changed", flip(signedTr, len(signedTr)-6), stOpts, "SignatureDoesNotMatch"},
		{"signed trailer: signature missing", cutTrailerSignature(t, signedTr), stOpts, "IncompleteBody"},
		{"signed trailer: data byte changed", flip(signedTr, headerLen+1), stOpts, "SignatureDoesNotMatch"},

		{"size: not hex", replace(unsigned, "2000\r\n", "20g0\r\n"), uOpts, "IncompleteBody"},
		{"size: negative", replace(unsigned, "2000\r\n", "-2000\r\n"), uOpts, "IncompleteBody"},
		{"size: overflow", replace(unsigned, "2000\r\n", "10000000000000000\r\n"), uOpts, "IncompleteBody"},
		{"size: max uint64", replace(unsigned, "2000\r\n", "ffffffffffffffff\r\n"), uOpts, "InvalidArgument"},
		{"size: over 16 MiB", replace(unsigned, "2000\r\n", "1000001\r\n"), uOpts, "InvalidArgument"},
		{"size: empty", replace(unsigned, "2000\r\n", "\r\n"), uOpts, "IncompleteBody"},
		{"size: long line", replace(unsigned, "2000\r\n", strings.Repeat("0", 200)+"2000\r\n"), uOpts, "IncompleteBody"},
		{"size: huge line", replace(unsigned, "2000\r\n", strings.Repeat("0", 10000)+"2000\r\n"), uOpts, "IncompleteBody"},
		{"framing: LF only", replace(unsigned, "2000\r\n", "2000\n"), uOpts, "IncompleteBody"},
		{"framing: no CRLF after data", flip(unsigned, 6+chunk), uOpts, "IncompleteBody"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(bytes.NewReader(tc.body), tc.opts)
			_, err := io.Copy(io.Discard, r)
			if got := codeOf(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if r.Checksums() != nil {
				t.Fatal("checksums exposed after a failure")
			}
			if _, again := r.Read(make([]byte, 1)); again == nil || again == io.EOF {
				t.Fatalf("error not sticky: %v", again)
			}
		})
	}
}

// reorder swaps the first two chunks of a signed body.
func reorder(t *testing.T, body []byte) []byte {
	t.Helper()
	chunks := bytes.SplitAfter(body, []byte("\r\n"))
	// chunks: hdr1, data1, hdr2, data2, ... (data contains no CRLF with high probability; check)
	if len(chunks) < 6 {
		t.Fatal("body too short to reorder")
	}
	var out []byte
	out = append(out, chunks[2]...)
	out = append(out, chunks[3]...)
	out = append(out, chunks[0]...)
	out = append(out, chunks[1]...)
	for _, c := range chunks[4:] {
		out = append(out, c...)
	}
	return out
}

func cutTrailerSignature(t *testing.T, body []byte) []byte {
	t.Helper()
	i := bytes.Index(body, []byte(trailerSignatureName))
	if i < 0 {
		t.Fatal("no trailer signature")
	}
	return append(bytes.Clone(body[:i]), "\r\n"...)
}

// TestBodyReadError passes an I/O error of the underlying body through: the gateway
// must be able to tell a dropped connection from a protocol error.
func TestBodyReadError(t *testing.T) {
	cause := errors.New("connection reset")
	body := io.MultiReader(strings.NewReader("5\r\nhel"), iotest.ErrReader(cause))
	_, err := io.ReadAll(NewReader(body, Options{Mode: UnsignedTrailer, Trailers: []string{"x-amz-checksum-crc32"}, DecodedLength: -1}))
	if !errors.Is(err, cause) || codeOf(err) != "IncompleteBody" {
		t.Fatalf("got %v", err)
	}
}

func TestBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"no mode":            {},
		"signed, no signing": {Mode: Signed},
		"unknown trailer":    {Mode: UnsignedTrailer, Trailers: []string{"x-amz-meta-a"}},
	} {
		if _, err := io.ReadAll(NewReader(strings.NewReader("0\r\n\r\n"), opts)); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
}
