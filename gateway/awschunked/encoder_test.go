package awschunked

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/sigv4"
)

// testSigning returns a signing context as sigv4.Verifier would produce it.
func testSigning(secret, seed string) *Signing {
	when := time.Date(2026, 11, 2, 10, 30, 0, 0, time.UTC)
	scope := sigv4.Scope{Date: when.Format("20060102"), Region: "eu-central-1", Service: "s3"}
	return &Signing{
		Key:     sigv4.DeriveSigningKey(secret, scope),
		Seed:    seed,
		Scope:   scope.String(),
		AmzDate: when.Format("20060102T150405Z"),
	}
}

// trailer is one trailer line of a test body.
type trailer struct{ name, value string }

// encodeBody writes data as an aws-chunked body per the S3 documentation ("Signature
// Calculations for the Authorization Header: Transferring Payload in Multiple Chunks"
// and "... Including Trailing Headers"). It is written independently of the decoder so
// that the two check each other.
func encodeBody(mode Mode, s *Signing, data []byte, chunkSize int, trailers []trailer) []byte {
	var sizes []int
	for off := 0; off < len(data); off += chunkSize {
		sizes = append(sizes, min(chunkSize, len(data)-off))
	}
	return encodeChunks(mode, s, data, sizes, trailers)
}

// encodeChunks is encodeBody with the data cut into chunks of the given sizes, which
// must add up to len(data).
func encodeChunks(mode Mode, s *Signing, data []byte, sizes []int, trailers []trailer) []byte {
	var b bytes.Buffer
	prev := ""
	if s != nil {
		prev = s.Seed
	}
	sign := func(sts string) string {
		m := hmac.New(sha256.New, s.Key)
		m.Write([]byte(sts))
		return hex.EncodeToString(m.Sum(nil))
	}
	writeChunk := func(c []byte) {
		if mode == UnsignedTrailer {
			fmt.Fprintf(&b, "%x\r\n", len(c))
		} else {
			h := sha256.Sum256(c)
			sig := sign("AWS4-HMAC-SHA256-PAYLOAD\n" + s.AmzDate + "\n" + s.Scope + "\n" + prev + "\n" +
				emptySHA256 + "\n" + hex.EncodeToString(h[:]))
			prev = sig
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(c), sig)
		}
		b.Write(c)
		if len(c) > 0 {
			b.WriteString("\r\n")
		}
	}
	off := 0
	for _, n := range sizes {
		writeChunk(data[off : off+n])
		off += n
	}
	writeChunk(nil)
	if mode == Signed {
		b.WriteString("\r\n")
		return b.Bytes()
	}
	var canonical strings.Builder
	for _, t := range trailers {
		fmt.Fprintf(&b, "%s:%s\r\n", t.name, t.value)
		canonical.WriteString(t.name + ":" + t.value + "\n")
	}
	if mode == SignedTrailer {
		h := sha256.Sum256([]byte(canonical.String()))
		sig := sign("AWS4-HMAC-SHA256-TRAILER\n" + s.AmzDate + "\n" + s.Scope + "\n" + prev + "\n" + hex.EncodeToString(h[:]))
		fmt.Fprintf(&b, "%s:%s\r\n", trailerSignatureName, sig)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// checksumOf computes the base64 S3 checksum of data for a trailer name.
func checksumOf(name string, data []byte) string {
	h := checksumAlgorithms[name].new()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
