package awschunked

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadCaptured reads a body captured from aws-sdk-go-v2 by TestCaptureSDKBodies and
// the request headers that describe it.
func loadCaptured(t testing.TB, base string) ([]byte, http.Header) {
	t.Helper()
	body, err := os.ReadFile(base + ".body")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(base + ".hdr")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
			h.Set(k, v)
		}
	}
	return body, h
}

// TestCapturedSDKBodies decodes stored real SDK bodies, independent of the live SDK
// version: the CRC64NVME one is the SDK's own value for "Hello, IPAS!".
func TestCapturedSDKBodies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "sdk-*.body"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured bodies: %v", err)
	}
	for _, f := range files {
		body, h := loadCaptured(t, strings.TrimSuffix(f, ".body"))
		opts, chunked, err := OptionsFromHeader(h)
		if err != nil || !chunked {
			t.Fatalf("%s: options %v chunked %v", f, err, chunked)
		}
		r := NewReader(bytes.NewReader(body), opts)
		got, err := io.ReadAll(r)
		if err != nil || string(got) != "Hello, IPAS!" {
			t.Fatalf("%s: %q, %v", f, got, err)
		}
		algo := strings.TrimPrefix(h.Get("X-Amz-Trailer"), "x-amz-checksum-")
		if r.Checksums()[algo] == "" || r.Checksums()[algo] != checksumOf(h.Get("X-Amz-Trailer"), got) {
			t.Fatalf("%s: checksums %v", f, r.Checksums())
		}
	}
}

func TestOptionsFromHeader(t *testing.T) {
	cases := []struct {
		name    string
		header  map[string]string
		chunked bool
		want    string
	}{
		{"plain", map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}, false, ""},
		{"signed", map[string]string{"X-Amz-Content-Sha256": ContentSHA256Signed, "X-Amz-Decoded-Content-Length": "5"}, true, ""},
		{"trailer list", map[string]string{"X-Amz-Content-Sha256": ContentSHA256SignedTrailer, "X-Amz-Decoded-Content-Length": "5",
			"X-Amz-Trailer": "X-Amz-Checksum-Crc32C, x-amz-checksum-sha256"}, true, ""},
		// S3 takes a trailer-mode body without x-amz-trailer: it has no checksum trailer.
		{"unsigned, no trailer", map[string]string{"X-Amz-Content-Sha256": ContentSHA256UnsignedTrailer, "X-Amz-Decoded-Content-Length": "5"}, true, ""},
		{"signed, no trailer", map[string]string{"X-Amz-Content-Sha256": ContentSHA256SignedTrailer, "X-Amz-Decoded-Content-Length": "5"}, true, ""},
		{"trailer not allowed", map[string]string{"X-Amz-Content-Sha256": ContentSHA256Signed, "X-Amz-Decoded-Content-Length": "5",
			"X-Amz-Trailer": "x-amz-checksum-crc32"}, true, "InvalidRequest"},
		{"trailer unknown", map[string]string{"X-Amz-Content-Sha256": ContentSHA256UnsignedTrailer, "X-Amz-Decoded-Content-Length": "5",
			"X-Amz-Trailer": "x-amz-meta-a"}, true, "InvalidRequest"},
		{"decoded length missing", map[string]string{"X-Amz-Content-Sha256": ContentSHA256UnsignedTrailer}, true, "MissingContentLength"},
		{"decoded length negative", map[string]string{"X-Amz-Content-Sha256": ContentSHA256Signed, "X-Amz-Decoded-Content-Length": "-1"}, true, "MissingContentLength"},
		{"decoded length not a number", map[string]string{"X-Amz-Content-Sha256": ContentSHA256SignedTrailer, "X-Amz-Decoded-Content-Length": "12x"}, true, "MissingContentLength"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			_, chunked, err := OptionsFromHeader(h)
			if chunked != tc.chunked || codeOf(err) != tc.want {
				t.Fatalf("chunked %v err %v, want %v %q", chunked, err, tc.chunked, tc.want)
			}
		})
	}
	if got := StripContentEncoding("aws-chunked, gzip"); got != "gzip" {
		t.Fatalf("StripContentEncoding = %q", got)
	}
	if got := StripContentEncoding("aws-chunked"); got != "" {
		t.Fatalf("StripContentEncoding = %q", got)
	}
}
