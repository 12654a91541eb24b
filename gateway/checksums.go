package gateway

import (
	"fmt"
	"hash"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/queue"
)

// Checksum errors, worded as S3 words them.
var (
	errMultipleChecksums = s3err.ErrInvalidRequest.WithMessage(
		"Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	errUnknownChecksumHeader = s3err.ErrInvalidRequest.WithMessage(
		"The algorithm type you specified in x-amz-checksum- header is invalid.")
	errInvalidChecksumAlgorithm = s3err.ErrInvalidRequest.WithMessage(
		"Checksum algorithm provided is unsupported. Please try again with any of the valid types: " +
			"[CRC32, CRC32C, CRC64NVME, MD5, SHA1, SHA256, SHA512, XXHASH128, XXHASH3, XXHASH64]")
	errChecksumTypeWithoutAlgorithm = s3err.ErrInvalidRequest.WithMessage(
		"The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
)

// errInvalidHeader says that header's value is not valid.
func errInvalidHeader(header string) error {
	return s3err.ErrInvalidRequest.WithMessage("Value for " + header + " header is invalid.")
}

// errChecksumMismatch is a body that does not match the checksum the client sent.
func errChecksumMismatch(a checksum.Algorithm) error {
	return s3err.ErrBadDigest.WithMessage("The " + string(a) + " you specified did not match the calculated checksum.")
}

// errChecksumAlgorithmMismatch is a part whose checksum is not the upload's:
// actual is "null" when the part has none.
func errChecksumAlgorithmMismatch(expected, actual string) error {
	return s3err.ErrInvalidRequest.WithMessage("Checksum Type mismatch occurred, expected checksum Type: " +
		expected + ", actual checksum Type: " + actual)
}

// Header names of the checksum settings, which are not checksum values although they
// share the x-amz-checksum- prefix.
const (
	hdrChecksumAlgorithm    = "X-Amz-Checksum-Algorithm"
	hdrChecksumType         = "X-Amz-Checksum-Type"
	hdrChecksumMode         = "X-Amz-Checksum-Mode"
	hdrSDKChecksumAlgorithm = "X-Amz-Sdk-Checksum-Algorithm"
	checksumHeaderPrefix    = "X-Amz-Checksum-"
	// nullChecksum is how S3 names the absence of a checksum algorithm or type.
	nullChecksum = "null"
)

// checksumValues returns the x-amz-checksum-<algorithm> headers of h, by algorithm,
// empty values included (an empty value is an invalid one, not an absent one).
func checksumValues(h http.Header) (map[checksum.Algorithm]string, error) {
	var out map[checksum.Algorithm]string
	for name, vs := range h {
		if !strings.HasPrefix(name, checksumHeaderPrefix) {
			continue
		}
		switch name {
		case hdrChecksumAlgorithm, hdrChecksumType, hdrChecksumMode:
			continue
		}
		a, ok := checksum.Parse(strings.TrimPrefix(name, checksumHeaderPrefix))
		if !ok {
			return nil, errUnknownChecksumHeader
		}
		if out == nil {
			out = map[checksum.Algorithm]string{}
		}
		out[a] = strings.Join(vs, ",")
	}
	return out, nil
}

// requestChecksum is the additional checksum of a request body.
type requestChecksum struct {
	algo    checksum.Algorithm // "": the client named none
	want    []byte             // the digest of a header value; nil otherwise
	trailer bool               // the value comes in an aws-chunked trailer
}

// parseRequestChecksum reads the checksum a client announces for a body: one
// x-amz-checksum-<algorithm> header, or one checksum trailer, or only an algorithm in
// x-amz-sdk-checksum-algorithm (computed and stored, not verified). trailers are the
// names declared in x-amz-trailer, lower case.
func parseRequestChecksum(h http.Header, trailers []string) (requestChecksum, error) {
	var rc requestChecksum
	var sdk checksum.Algorithm
	if v := h.Get(hdrSDKChecksumAlgorithm); v != "" {
		a, ok := checksum.Parse(v)
		if !ok {
			return rc, errInvalidChecksumAlgorithm
		}
		sdk = a
	}
	values, err := checksumValues(h)
	if err != nil {
		return rc, err
	}
	if len(values)+len(trailers) > 1 {
		return rc, errMultipleChecksums
	}
	for a, v := range values {
		want, ok := a.Decode(v)
		if !ok {
			return rc, errInvalidHeader(a.Header())
		}
		rc.algo, rc.want = a, want
	}
	for _, t := range trailers {
		a, ok := checksum.Parse(strings.TrimPrefix(t, "x-amz-checksum-"))
		if !ok {
			return rc, s3err.ErrInvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
		}
		rc.algo, rc.trailer = a, true
	}
	switch {
	case sdk == "":
	case rc.algo == "":
		rc.algo = sdk
	case rc.algo != sdk:
		return rc, errInvalidHeader("x-amz-sdk-checksum-algorithm")
	}
	return rc, nil
}

// writeChecksums sets the checksum headers of an object (or part) on a response:
// each value and, for an object, its type.
func writeChecksums(h http.Header, sums map[string]string, withType bool) {
	for alg, v := range sums {
		if a, ok := checksum.Parse(alg); ok {
			h.Set(a.Header(), v)
		}
	}
	if t := checksumType(sums); withType && t != "" {
		h.Set(hdrChecksumType, string(t))
	}
}

// checksumType is the type of an object's stored checksums; "" when it has none.
func checksumType(sums map[string]string) checksum.Type {
	for _, v := range sums {
		if checksum.TypeOf(v) == checksum.Composite {
			return checksum.Composite
		}
	}
	if len(sums) == 0 {
		return ""
	}
	return checksum.FullObject
}

// checksumAlgorithms lists the algorithms of stored checksums, sorted.
func checksumAlgorithms(sums map[string]string) []string {
	out := make([]string, 0, len(sums))
	for alg := range sums {
		out = append(out, alg)
	}
	sort.Strings(out)
	return out
}

// hashingReader computes a checksum of what is read through it; with no algorithm
// it only passes the bytes on.
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func newHashingReader(r io.Reader, a checksum.Algorithm) *hashingReader {
	hr := &hashingReader{r: r}
	if a != "" {
		hr.h = a.New()
	}
	return hr
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	if hr.h != nil && n > 0 {
		hr.h.Write(p[:n])
	}
	return n, err
}

// Value returns the base64 checksum of everything read; "" without an algorithm.
func (hr *hashingReader) Value() string {
	if hr.h == nil {
		return ""
	}
	return checksum.Encode(hr.h.Sum(nil))
}

// hashObject reads o once to compute its checksum with a.
func (s *Server) hashObject(r *request, o queue.Object, a checksum.Algorithm) (string, error) {
	rc, err := s.openObject(r, o, 0, o.Size)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := a.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", err
	}
	if n != o.Size {
		return "", fmt.Errorf("gateway: checksum %s/%s: read %d of %d bytes", o.Bucket, o.Key, n, o.Size)
	}
	return checksum.Encode(h.Sum(nil)), nil
}
