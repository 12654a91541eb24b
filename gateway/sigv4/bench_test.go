package sigv4

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkVerify measures one header-signed request check (the per-request cost of
// authentication, before any body is read).
func BenchmarkVerify(b *testing.B) {
	r := httptest.NewRequest("GET", "/test.txt", nil)
	r.Host = "examplebucket.s3.amazonaws.com"
	r.Header.Set("Range", "bytes=0-9")
	r.Header.Set("X-Amz-Content-Sha256", docEmptyHash)
	r.Header.Set("X-Amz-Date", docDate)
	r.Header.Set("Authorization", docAuth("host;range;x-amz-content-sha256;x-amz-date",
		"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))
	v := NewVerifier(StaticCredentials{docAccessKey: docSecret})
	v.MaxSkew = 0
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}
