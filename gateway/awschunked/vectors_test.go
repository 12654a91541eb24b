package awschunked

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/ipas/ipas/gateway/sigv4"
)

// The chunked-upload examples of the S3 API reference: 65536 + 1024 bytes of 'a',
// signed with the documentation's example key on 20130524 in us-east-1.
func docSigning(seed string) *Signing {
	scope := sigv4.Scope{Date: "20130524", Region: "us-east-1", Service: "s3"}
	return &Signing{
		Key:     sigv4.DeriveSigningKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", scope),
		Seed:    seed,
		Scope:   scope.String(),
		AmzDate: "20130524T000000Z",
	}
}

func TestAWSDocChunkedExample(t *testing.T) {
	a1, a2 := strings.Repeat("a", 65536), strings.Repeat("a", 1024)
	body := "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" + a1 + "\r\n" +
		"400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" + a2 + "\r\n" +
		"0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, the documentation says 66824", len(body))
	}
	opts := Options{Mode: Signed, DecodedLength: 66560,
		Signing: docSigning("4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")}
	got, err := io.ReadAll(NewReader(strings.NewReader(body), opts))
	if err != nil || string(got) != a1+a2 {
		t.Fatalf("err %v, %d bytes", err, len(got))
	}
	// Our own encoder must produce the documented body byte for byte.
	if enc := encodeBody(Signed, opts.Signing, got, 65536, nil); !bytes.Equal(enc, []byte(body)) {
		t.Fatal("test encoder differs from the documented body")
	}
}

func TestAWSDocTrailerExample(t *testing.T) {
	a1, a2 := strings.Repeat("a", 65536), strings.Repeat("a", 1024)
	chunks := "10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n" + a1 + "\r\n" +
		"400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n" + a2 + "\r\n" +
		"0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n"
	trailers := "x-amz-checksum-crc32c:sOO8/Q==\r\n" +
		"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
	opts := Options{Mode: SignedTrailer, DecodedLength: 66560, Trailers: []string{"x-amz-checksum-crc32c"},
		Signing: docSigning("106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")}
	// The documentation shows a blank line before the trailers, which SDKs do not send;
	// both framings decode. Its listing stops after the signature line, but a body ends
	// with an empty line: without it S3 answers IncompleteBody, and so do we.
	for name, body := range map[string]string{
		"documented blank line": chunks + "\r\n" + trailers + "\r\n\r\n",
		"as SDKs send it":       chunks + trailers + "\r\n\r\n",
	} {
		r := NewReader(strings.NewReader(body), opts)
		got, err := io.ReadAll(r)
		if err != nil || string(got) != a1+a2 {
			t.Fatalf("%s: err %v, %d bytes", name, err, len(got))
		}
		if c := r.Checksums(); len(c) != 1 || c["crc32c"] != "sOO8/Q==" {
			t.Fatalf("%s: checksums %v", name, c)
		}
	}
	_, err := io.ReadAll(NewReader(strings.NewReader(chunks+trailers), opts))
	if codeOf(err) != "IncompleteBody" {
		t.Fatalf("body cut after the signature line: %v", err)
	}
}
