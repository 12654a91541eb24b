package awschunked

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

// trailerSignatureName carries the signature of the trailer section.
const trailerSignatureName = "x-amz-trailer-signature"

// readTrailers reads the trailer section after the final chunk:
//
//	x-amz-checksum-crc32:BASE64 CRLF   (each trailer named in x-amz-trailer)
//	x-amz-trailer-signature:HEX CRLF   (signed mode only)
//	CRLF
//
// The S3 documentation shows a blank line between the final chunk and the trailers;
// it is accepted when more follows. The checks run in the order that gives S3's
// answers: a section that does not end as the format says is a truncated body
// (IncompleteBody), trailers other than the declared ones are MalformedTrailerError,
// then the trailer signature, then each checksum against the decoded bytes.
func (r *Reader) readTrailers() error {
	lines := make([]string, 0, len(r.sums)+1)
	for {
		line, err := r.readLine(maxTrailerLine)
		if err != nil {
			return err
		}
		if line == "" {
			if len(lines) == 0 && r.moreInput() {
				continue // the documented blank line before the trailers
			}
			break
		}
		if len(lines) == maxTrailerLines {
			return malformed("too many trailer lines")
		}
		lines = append(lines, line)
	}
	var signature string
	if r.opts.Mode == SignedTrailer {
		// The signature line is last; without it the body was cut or mangled.
		if len(lines) == 0 {
			return malformed("no " + trailerSignatureName)
		}
		name, value, ok := strings.Cut(lines[len(lines)-1], ":")
		if !ok || strings.ToLower(strings.TrimSpace(name)) != trailerSignatureName {
			return malformed("no " + trailerSignatureName)
		}
		signature = strings.TrimSpace(value)
		if len(signature) != sha256.Size*2 {
			return malformed("malformed " + trailerSignatureName)
		}
		lines = lines[:len(lines)-1]
	}
	values := make(map[string]string, len(r.sums))
	var canonical strings.Builder
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || !r.declared(name) {
			return s3err.ErrMalformedTrailer
		}
		if _, dup := values[name]; dup {
			return s3err.ErrMalformedTrailer
		}
		value = strings.TrimSpace(value)
		values[name] = value
		canonical.WriteString(name + ":" + value + "\n")
	}
	for _, s := range r.sums {
		if _, ok := values[s.trailer]; !ok {
			return s3err.ErrMalformedTrailer
		}
	}
	if r.opts.Mode == SignedTrailer {
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

// moreInput reports whether the body has bytes left; a read error counts as more,
// so that the next read reports it.
func (r *Reader) moreInput() bool {
	_, err := r.br.Peek(1)
	return !errors.Is(err, io.EOF)
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
