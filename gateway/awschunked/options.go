package awschunked

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

// Mode is the aws-chunked variant, named by the x-amz-content-sha256 header.
type Mode int

// The aws-chunked variants.
const (
	// Signed is STREAMING-AWS4-HMAC-SHA256-PAYLOAD.
	Signed Mode = iota + 1
	// SignedTrailer is STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.
	SignedTrailer
	// UnsignedTrailer is STREAMING-UNSIGNED-PAYLOAD-TRAILER.
	UnsignedTrailer
)

// The x-amz-content-sha256 values of the three variants.
const (
	ContentSHA256Signed          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	ContentSHA256SignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	ContentSHA256UnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// DefaultMaxChunkSize is the largest chunk accepted. SDKs send 64 KiB to 8 MiB chunks;
// a bigger limit only lets a client hold a connection longer before a chunk signature
// is checked.
const DefaultMaxChunkSize = 16 << 20

// DefaultMinChunkSize is the smallest chunk S3 accepts anywhere but at the end of the
// data: a body cut into tiny chunks costs a signature check or a header parse per
// few bytes.
const DefaultMinChunkSize = 8 << 10

// ModeOf returns the variant announced by an x-amz-content-sha256 value.
func ModeOf(contentSHA256 string) (Mode, bool) {
	switch contentSHA256 {
	case ContentSHA256Signed:
		return Signed, true
	case ContentSHA256SignedTrailer:
		return SignedTrailer, true
	case ContentSHA256UnsignedTrailer:
		return UnsignedTrailer, true
	}
	return 0, false
}

func (m Mode) signed() bool   { return m == Signed || m == SignedTrailer }
func (m Mode) trailers() bool { return m == SignedTrailer || m == UnsignedTrailer }

// Signing is what verifying chunk signatures needs, taken from the verified request
// (sigv4.Result): the derived signing key, the request's signature (the seed of the
// chain), the credential scope and the signed time in X-Amz-Date format.
type Signing struct {
	Key     []byte
	Seed    string // hex
	Scope   string // date/region/s3/aws4_request
	AmzDate string // 20060102T150405Z
}

// Options configure a Reader.
type Options struct {
	Mode Mode
	// Signing is required for Signed and SignedTrailer.
	Signing *Signing
	// Trailers are the trailer names announced in x-amz-trailer, lower case. Each
	// must be a checksum trailer (x-amz-checksum-*), each must arrive, and no other
	// may. None is allowed: the body then ends with an empty trailer section.
	Trailers []string
	// DecodedLength is x-amz-decoded-content-length, or -1 when not given.
	DecodedLength int64
	// MaxChunkSize bounds a chunk; 0 means DefaultMaxChunkSize.
	MaxChunkSize int64
	// MinChunkSize is the smallest size of a data chunk followed by another data
	// chunk; 0 means DefaultMinChunkSize.
	MinChunkSize int64
}

// OptionsFromHeader reads Mode, Trailers and DecodedLength from the request headers.
// The caller adds Signing for the signed modes. ok is false when the body is not
// aws-chunked at all (x-amz-content-sha256 is not a STREAMING-* value). As in S3,
// x-amz-decoded-content-length is required (MissingContentLength when absent or not
// a number) and x-amz-trailer is optional in the trailer modes.
func OptionsFromHeader(h http.Header) (opts Options, ok bool, err error) {
	mode, ok := ModeOf(h.Get("X-Amz-Content-Sha256"))
	if !ok {
		return Options{}, false, nil
	}
	n, perr := strconv.ParseInt(h.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if perr != nil || n < 0 {
		return Options{}, true, s3err.ErrMissingContentLength
	}
	opts = Options{Mode: mode, DecodedLength: n}
	for _, v := range h.Values("X-Amz-Trailer") {
		for _, name := range strings.Split(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if _, known := checksumAlgorithms[name]; !known {
				return Options{}, true, s3err.ErrInvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
			}
			opts.Trailers = append(opts.Trailers, name)
		}
	}
	if !mode.trailers() && len(opts.Trailers) > 0 {
		return Options{}, true, s3err.ErrInvalidRequest.WithMessage("x-amz-trailer is not allowed with " + ContentSHA256Signed + ".")
	}
	return opts, true, nil
}

// StripContentEncoding removes aws-chunked from a Content-Encoding value, which S3
// does not store with the object: "aws-chunked,gzip" becomes "gzip".
func StripContentEncoding(v string) string {
	var kept []string
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e != "" && !strings.EqualFold(e, "aws-chunked") {
			kept = append(kept, e)
		}
	}
	return strings.Join(kept, ",")
}
