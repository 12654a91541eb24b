package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"

	"github.com/ipas/ipas/gateway/s3err"
)

// The x-amz-content-sha256 values other than a hex SHA-256.
const (
	// UnsignedPayload: the body is not covered by the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload: aws-chunked body, every chunk signed.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer: aws-chunked body, every chunk and the trailer signed.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedPayloadTrailer: aws-chunked body without signatures, with a
	// checksum trailer; what AWS SDKs and CLIs send over HTTPS.
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// IsStreaming reports whether payloadHash announces an aws-chunked body.
func IsStreaming(payloadHash string) bool {
	switch payloadHash {
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
		return true
	}
	return false
}

// IsSHA256Hex reports whether s is a hex SHA-256 (64 lower-case hex digits).
func IsSHA256Hex(s string) bool {
	return len(s) == 2*sha256.Size && isLowerHex(s)
}

// emptyPayloadSHA256 is the hex SHA-256 of an empty body.
const emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// errPayloadMismatch is XAmzContentSHA256Mismatch with both hashes, as S3 sends it.
func errPayloadMismatch(client, computed string) error {
	return s3err.ErrXAmzContentSHA256Mismatch.WithElements(
		s3err.Element{Name: s3err.ElementClientComputedContentSHA256, Value: client},
		s3err.Element{Name: s3err.ElementS3ComputedContentSHA256, Value: computed})
}

func validPayloadHash(s string) bool {
	return s == UnsignedPayload || IsStreaming(s) || IsSHA256Hex(s)
}

// PayloadReader passes a body through and checks its SHA-256 against the signed
// x-amz-content-sha256 at EOF. Until Read returns io.EOF the body is unverified: a
// consumer must commit only after io.EOF and abort on any other error.
type PayloadReader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
	err  error
}

// NewPayloadReader wraps body to verify it against wantHex, a hex SHA-256. An invalid
// wantHex gives InvalidArgument.
func NewPayloadReader(body io.Reader, wantHex string) (*PayloadReader, error) {
	if !IsSHA256Hex(wantHex) {
		return nil, s3err.ErrInvalidArgument.WithMessage("x-amz-content-sha256 is not a valid sha256 value.")
	}
	want, _ := hex.DecodeString(wantHex) // validated above
	return &PayloadReader{r: body, h: sha256.New(), want: want}, nil
}

// Read implements io.Reader. At the end of the body it returns io.EOF only if the hash
// matches, XAmzContentSHA256Mismatch otherwise. Errors are sticky.
func (p *PayloadReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	p.h.Write(b[:n])
	if err == io.EOF {
		if sum := p.h.Sum(nil); subtle.ConstantTimeCompare(sum, p.want) != 1 {
			err = errPayloadMismatch(hex.EncodeToString(p.want), hex.EncodeToString(sum))
		}
	}
	if err != nil {
		p.err = err
	}
	return n, err
}
