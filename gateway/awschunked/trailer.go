package awschunked

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

// trailerSignatureName carries the signature of the trailer section.
const trailerSignatureName = "x-amz-trailer-signature"

// readTrailers reads the trailer section after the final chunk:
//
//	x-amz-checksum-crc32:BASE64 CRLF
//	x-amz-trailer-signature:HEX CRLF   (signed mode only)
//	CRLF
//
// Some encoders put a blank line between the final chunk and the trailers, and some end
// the last trailer line at EOF without CRLF; both are accepted because everything that
// matters is checked: each declared trailer exactly once, the trailer signature, and
// each checksum against the decoded bytes.
func (r *Reader) readTrailers() error {
	values := make(map[string]string, len(r.sums))
	var canonical strings.Builder
	var signature string
	for lines := 0; ; lines++ {
		if lines > maxTrailerLines {
			return malformed("too many trailer lines")
		}
		line, atEOF, err := r.readLine(maxTrailerLine)
		if err != nil {
			return err
		}
		if line == "" {
			if atEOF || len(values) > 0 || signature != "" {
				break
			}
			continue // the optional blank line before the trailers
		}
		if signature != "" {
			return malformed("trailer after " + trailerSignatureName)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return malformed("trailer line without ':'")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		switch {
		case name == trailerSignatureName && r.opts.Mode == SignedTrailer:
			if value == "" {
				return malformed("empty " + trailerSignatureName)
			}
			signature = value
		case !r.declared(name):
			return s3err.ErrInvalidRequest.WithMessage("The trailer " + strconv.Quote(name) +
				" was not declared in x-amz-trailer.")
		default:
			if _, dup := values[name]; dup {
				return malformed("trailer " + name + " sent twice")
			}
			values[name] = value
			canonical.WriteString(name + ":" + value + "\n")
		}
		if atEOF {
			break
		}
	}
	for _, s := range r.sums {
		if _, ok := values[s.trailer]; !ok {
			return s3err.ErrIncompleteBody.WithMessage("The trailer " + s.trailer + " declared in x-amz-trailer was not sent.")
		}
	}
	if r.opts.Mode == SignedTrailer {
		if signature == "" {
			return s3err.ErrSignatureDoesNotMatch.WithMessage("The trailer has no " + trailerSignatureName + ".")
		}
		sum := sha256.Sum256([]byte(canonical.String()))
		s := r.opts.Signing
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + s.AmzDate + "\n" + s.Scope + "\n" + r.prevSig + "\n" +
			hex.EncodeToString(sum[:])
		if !r.signatureMatches(sts, signature) {
			return s3err.ErrSignatureDoesNotMatch.WithMessage(
				"The trailer signature we calculated does not match the signature you provided.")
		}
	}
	return r.verifyChecksums(values)
}

func (r *Reader) declared(name string) bool {
	for _, s := range r.sums {
		if s.trailer == name {
			return true
		}
	}
	return false
}

// verifyChecksums compares each trailer checksum with the one computed over the
// decoded bytes, and keeps the verified values for Checksums.
func (r *Reader) verifyChecksums(values map[string]string) error {
	r.checksums = make(map[string]string, len(r.sums))
	for _, s := range r.sums {
		want, err := base64.StdEncoding.DecodeString(values[s.trailer])
		if err != nil || len(want) != s.h.Size() {
			return s3err.ErrInvalidRequest.WithMessage("Value for " + s.trailer + " trailing header is invalid.")
		}
		got := s.h.Sum(nil)
		if string(got) != string(want) {
			return s3err.ErrBadDigest.WithMessage("The " + strings.ToUpper(s.algo.name) +
				" you specified did not match the calculated checksum.")
		}
		r.checksums[s.algo.name] = base64.StdEncoding.EncodeToString(got)
	}
	return nil
}
