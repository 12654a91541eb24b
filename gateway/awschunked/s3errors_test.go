package awschunked

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/ipas/ipas/gateway/s3err"
)

// decodeErr decodes body to the end and returns the error, checking that no
// checksum is exposed after a failure.
func decodeErr(t *testing.T, body []byte, opts Options) error {
	t.Helper()
	r := NewReader(bytes.NewReader(body), opts)
	_, err := io.Copy(io.Discard, r)
	if err != nil && r.Checksums() != nil {
		t.Fatal("checksums exposed after a failure")
	}
	return err
}

// wantS3 checks the code, message, status and extra elements of err.
func wantS3(t *testing.T, name string, err error, want *s3err.APIError, elements ...s3err.Element) {
	t.Helper()
	var e *s3err.APIError
	if !errors.As(err, &e) || e.Code != want.Code || e.Message != want.Message || e.Status != want.Status {
		t.Fatalf("%s: got %v, want %v", name, err, want)
	}
	var d *s3err.DetailedError
	var got []s3err.Element
	if errors.As(err, &d) {
		got = d.Elements
	}
	if len(got) != len(elements) {
		t.Fatalf("%s: elements %v, want %v", name, got, elements)
	}
	for i := range got {
		if got[i] != elements[i] {
			t.Fatalf("%s: elements %v, want %v", name, got, elements)
		}
	}
}

func element(name string, n int) s3err.Element {
	return s3err.Element{Name: name, Value: strconv.Itoa(n)}
}

// TestChunkSizeRule: every data chunk but the last holds at least 8 KiB, in every
// mode. S3 names the chunk that showed a short one was not the last, and the short
// one's size.
func TestChunkSizeRule(t *testing.T) {
	const k = 8 << 10
	signing := testSigning(testSecret, testSeed)
	cases := []struct {
		sizes    []int
		chunk    int // the Chunk element; 0 when the body is accepted
		badChunk int
	}{
		{[]int{k, k, 100}, 0, 0},
		{[]int{100}, 0, 0},
		{[]int{10000, 9500, 20}, 0, 0},
		{[]int{k + 8, k + 9, 10000, 10}, 0, 0},
		{nil, 0, 0},
		{[]int{100, k, 100}, 2, 100},
		{[]int{k, 10, 100}, 3, 10},
		{[]int{10, 10, 10}, 2, 10},
		{[]int{10000, 10, k, k}, 3, 10},
		{[]int{k - 1, k}, 2, k - 1},
	}
	for _, mode := range []Mode{Signed, SignedTrailer, UnsignedTrailer} {
		for _, tc := range cases {
			total := 0
			for _, n := range tc.sizes {
				total += n
			}
			body := encodeChunks(mode, signing, payload(total), tc.sizes, nil)
			err := decodeErr(t, body, Options{Mode: mode, Signing: signing, DecodedLength: int64(total)})
			name := fmt.Sprintf("mode %d sizes %v", mode, tc.sizes)
			if tc.chunk == 0 {
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				continue
			}
			wantS3(t, name, err, s3err.ErrInvalidChunkSize,
				element(s3err.ElementChunk, tc.chunk), element(s3err.ElementBadChunkSize, tc.badChunk))
		}
	}
}

// TestBrokenFraming: a body that ends early or breaks the framing is IncompleteBody
// with S3's "terminated unexpectedly" message, whatever else is wrong with it.
func TestBrokenFraming(t *testing.T) {
	const data = "0123456789"
	crc := "x-amz-checksum-crc64nvme"
	tr := crc + ":" + checksumOf(crc, []byte(data)) + "\r\n"
	opts := Options{Mode: UnsignedTrailer, Trailers: []string{crc}, DecodedLength: int64(len(data))}
	for name, body := range map[string]string{
		"valid, for reference":       "", // replaced below
		"header ends in LF only":     "a\n" + data + "\r\n0\r\n" + tr + "\r\n",
		"data not followed by CRLF":  "a\r\n" + data + "0\r\n" + tr + "\r\n",
		"size larger than the data":  "b\r\n" + data + "\r\n0\r\n" + tr + "\r\n",
		"size smaller than the data": "9\r\n" + data + "\r\n0\r\n" + tr + "\r\n",
		"size not hex":               "a0x\r\n" + data + "\r\n0\r\n" + tr + "\r\n",
		"final chunk size not hex":   "a\r\n" + data + "\r\nK\r\n" + tr + "\r\n",
		"ends after a header":        "a\r\n",
		"ends inside data":           "a\r\n01234",
		"ends after the final chunk": "a\r\n" + data + "\r\n0\r\n",
		"ends after a trailer line":  "a\r\n" + data + "\r\n0\r\n" + tr,
		"trailer line cut":           "a\r\n" + data + "\r\n0\r\n" + strings.TrimSuffix(tr, "\r\n"),
		"CR inside a trailer line":   "a\r\n" + data + "\r\n0\r\n" + strings.Replace(tr, ":", ":\r", 1) + "\r\n",
		"data after the body":        "a\r\n" + data + "\r\n0\r\n" + tr + "\r\nx",
	} {
		if name == "valid, for reference" {
			if err := decodeErr(t, []byte("a\r\n"+data+"\r\n0\r\n"+tr+"\r\n"), opts); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			continue
		}
		wantS3(t, name, decodeErr(t, []byte(body), opts), s3err.ErrTruncatedBody)
	}

	// The signed mode: a missing or broken chunk-signature extension, or a final
	// CRLF that is not one.
	signing := testSigning(testSecret, testSeed)
	signed := string(encodeBody(Signed, signing, []byte(data), 8<<10, nil))
	sOpts := Options{Mode: Signed, Signing: signing, DecodedLength: int64(len(data))}
	sig := signed[strings.Index(signed, "=")+1 : strings.Index(signed, "\r\n")]
	for name, body := range map[string]string{
		"no extension":          strings.Replace(signed, ";chunk-signature="+sig, "", 1),
		"':' for ';'":           strings.Replace(signed, ";chunk", ":chunk", 1),
		"short signature":       strings.Replace(signed, sig, sig[:60], 1),
		"no final CRLF":         strings.TrimSuffix(signed, "\r\n"),
		"final CRLF mangled":    strings.TrimSuffix(signed, "\n") + "s",
		"no CRLF after header":  strings.Replace(signed, sig+"\r\n", sig, 1),
		"data CRLF mangled":     strings.Replace(signed, data+"\r\n", data+"xx", 1),
		"garbage for the CRLFs": strings.TrimSuffix(signed, "\r\n\r\n") + "bbbb",
	} {
		wantS3(t, name, decodeErr(t, []byte(body), sOpts), s3err.ErrTruncatedBody)
	}
}

// TestDecodedLengthMismatch: a decoded body longer or shorter than
// x-amz-decoded-content-length is IncompleteBody with S3's Content-Length message,
// checked before the trailers and after the framing.
func TestDecodedLengthMismatch(t *testing.T) {
	expected := func(n int) s3err.Element { return element(s3err.ElementNumberBytesExpected, n) }
	provided := func(n int) s3err.Element { return element(s3err.ElementNumberBytesProvided, n) }
	const body = "b\r\nabcdefghijk\r\n0\r\n\r\n"
	unsigned := func(n int64, trailers ...string) Options {
		return Options{Mode: UnsignedTrailer, DecodedLength: n, Trailers: trailers}
	}
	// Longer: stopped at the end of the chunk that passes the length.
	wantS3(t, "longer", decodeErr(t, []byte(body), unsigned(5)), s3err.ErrIncompleteBody, expected(5))
	wantS3(t, "shorter", decodeErr(t, []byte(body), unsigned(200)), s3err.ErrIncompleteBody, expected(200), provided(11))

	crc := "x-amz-checksum-crc64nvme"
	sha := "x-amz-checksum-sha256"
	withTrailer := "a\r\n0123456789\r\n0\r\n" + sha + ":" + checksumOf(sha, []byte("0123456789")) + "\r\n\r\n"
	wantS3(t, "before an undeclared trailer", decodeErr(t, []byte(withTrailer), unsigned(7, crc)), s3err.ErrIncompleteBody, expected(7))
	wantS3(t, "before a missing trailer", decodeErr(t, []byte(body), unsigned(128, crc)), s3err.ErrIncompleteBody, expected(128), provided(11))

	signing := testSigning(testSecret, testSeed)
	for _, n := range []int{8, 12} {
		enc := encodeBody(Signed, signing, payload(n), 8<<10, nil)
		err := decodeErr(t, enc, Options{Mode: Signed, Signing: signing, DecodedLength: 10})
		if n < 10 {
			wantS3(t, "signed shorter", err, s3err.ErrIncompleteBody, expected(10), provided(n))
		} else {
			wantS3(t, "signed longer", err, s3err.ErrIncompleteBody, expected(10))
		}
	}
}

// TestTrailerSection: the trailers must be exactly the declared ones
// (MalformedTrailerError); in the signed mode a section that does not end with a
// well-formed trailer signature is a truncated body.
func TestTrailerSection(t *testing.T) {
	data := []byte("abcdefg")
	crc := "x-amz-checksum-crc64nvme"
	sum := checksumOf(crc, data)
	chunks := "7\r\nabcdefg\r\n0\r\n"
	unsigned := func(trailers ...string) Options {
		return Options{Mode: UnsignedTrailer, DecodedLength: int64(len(data)), Trailers: trailers}
	}
	for name, tc := range map[string]struct {
		body string
		opts Options
	}{
		"declared, not sent":         {chunks + "\r\n", unsigned(crc)},
		"no name":                    {chunks + ":" + sum + "\r\n\r\n", unsigned(crc)},
		"not declared":               {chunks + crc + ":" + sum + "\r\n\r\n", unsigned()},
		"another name":               {chunks + "x-amz-checksum-crc64:" + sum + "\r\n\r\n", unsigned(crc)},
		"sent twice":                 {chunks + crc + ":" + sum + "\r\n" + crc + ":" + sum + "\r\n\r\n", unsigned(crc)},
		"no colon":                   {chunks + crc + "=" + sum + "\r\n\r\n", unsigned(crc)},
		"signature in unsigned body": {chunks + crc + ":" + sum + "\r\nx-amz-trailer-signature:" + strings.Repeat("0", 64) + "\r\n\r\n", unsigned(crc)},
	} {
		wantS3(t, name, decodeErr(t, []byte(tc.body), tc.opts), s3err.ErrMalformedTrailer)
	}

	// No trailer declared and none sent: S3 accepts it, there is no checksum.
	r := NewReader(strings.NewReader(chunks+"\r\n"), unsigned())
	if got, err := io.ReadAll(r); err != nil || string(got) != string(data) || len(r.Checksums()) != 0 {
		t.Fatalf("no trailer: %q %v %v", got, err, r.Checksums())
	}

	signing := testSigning(testSecret, testSeed)
	signed := func(trailers ...string) Options {
		return Options{Mode: SignedTrailer, Signing: signing, DecodedLength: int64(len(data)), Trailers: trailers}
	}
	good := string(encodeBody(SignedTrailer, signing, data, 8<<10, []trailer{{crc, sum}}))
	sigAt := strings.Index(good, trailerSignatureName)
	sig := good[sigAt+len(trailerSignatureName)+1 : len(good)-4]
	for name, tc := range map[string]struct {
		body string
		opts Options
		want *s3err.APIError
	}{
		"valid":                  {good, signed(crc), nil},
		"undeclared, signed":     {string(encodeBody(SignedTrailer, signing, data, 8<<10, []trailer{{"x-amz-invalid", "invalid"}})), signed(crc), s3err.ErrMalformedTrailer},
		"other checksum, signed": {string(encodeBody(SignedTrailer, signing, data, 8<<10, []trailer{{"x-amz-checksum-crc32", checksumOf("x-amz-checksum-crc32", data)}})), signed(crc), s3err.ErrMalformedTrailer},
		"no x-amz-trailer":       {good, signed(), s3err.ErrMalformedTrailer},
		"none sent, blank line first": {strings.Replace(string(encodeBody(SignedTrailer, signing, data, 8<<10, nil)), "\r\n"+trailerSignatureName, "\r\n\r\n"+trailerSignatureName, 1),
			signed(crc), s3err.ErrMalformedTrailer},
		"none declared, none sent": {string(encodeBody(SignedTrailer, signing, data, 8<<10, nil)), signed(), nil},
		"signature line renamed":   {strings.Replace(good, "x-amz-trailer-signature", "x-aminvalidrailer-signature", 1), signed(crc), s3err.ErrTruncatedBody},
		"signature line missing":   {good[:sigAt] + "\r\n", signed(crc), s3err.ErrTruncatedBody},
		"signature merged":         {strings.Replace(good, sum+"\r\n", sum+"\rbcd", 1), signed(crc), s3err.ErrTruncatedBody},
		"signature too long":       {strings.Replace(good, sig, sig+"a", 1), signed(crc), s3err.ErrTruncatedBody},
		"signature ends the body":  {strings.TrimSuffix(good, "\r\n\r\n"), signed(crc), s3err.ErrTruncatedBody},
		"final CRLF mangled":       {strings.TrimSuffix(good, "\r\n") + "pp", signed(crc), s3err.ErrTruncatedBody},
		"signature wrong":          {strings.Replace(good, sig, strings.Repeat("0", 64), 1), signed(crc), s3err.ErrSignatureDoesNotMatch},
		"checksum not base64":      {string(encodeBody(SignedTrailer, signing, data, 8<<10, []trailer{{crc, "invalid"}})), signed(crc), s3err.ErrInvalidRequest},
		"checksum of other data":   {string(encodeBody(SignedTrailer, signing, data, 8<<10, []trailer{{crc, checksumOf(crc, data[1:])}})), signed(crc), s3err.ErrBadDigest},
	} {
		err := decodeErr(t, []byte(tc.body), tc.opts)
		switch {
		case tc.want == nil && err != nil:
			t.Fatalf("%s: %v", name, err)
		case tc.want == s3err.ErrSignatureDoesNotMatch || tc.want == s3err.ErrInvalidRequest || tc.want == s3err.ErrBadDigest:
			if codeOf(err) != tc.want.Code {
				t.Fatalf("%s: got %v, want %s", name, err, tc.want.Code)
			}
		case tc.want != nil:
			wantS3(t, name, err, tc.want)
		}
	}
}
