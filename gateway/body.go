package gateway

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/gateway/awschunked"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

// crc64NVMEPoly is CRC-64/NVME in the reversed form hash/crc64 expects.
const crc64NVMEPoly = 0x9a6c9329ac4bc9b5

var (
	crc32cTable    = crc32.MakeTable(crc32.Castagnoli)
	crc64NVMETable = crc64.MakeTable(crc64NVMEPoly)
)

// checksumAlgorithms are the S3 additional checksums by their name in the index
// (upper case, as x-amz-checksum-algorithm spells them).
var checksumAlgorithms = map[string]func() hash.Hash{
	"CRC32":     func() hash.Hash { return crc32.NewIEEE() },
	"CRC32C":    func() hash.Hash { return crc32.New(crc32cTable) },
	"CRC64NVME": func() hash.Hash { return crc64.New(crc64NVMETable) },
	"SHA1":      sha1.New,
	"SHA256":    sha256.New,
}

// checksumHeader returns the header that carries algorithm's value.
func checksumHeader(algorithm string) string {
	return "X-Amz-Checksum-" + strings.ToLower(algorithm)
}

// runningSum is one checksum computed over a body and, when the client sent a value
// in a header, compared with it at EOF.
type runningSum struct {
	algorithm string
	h         hash.Hash
	want      []byte // nil: only computed, to be stored
}

// body is a request body decoded and verified as it streams. Read returns io.EOF only
// when everything the client claimed holds: signature or payload hash, chunk
// signatures, trailers, Content-MD5, checksum headers, the declared length; any other
// error must make the consumer discard what it read.
type body struct {
	r       io.Reader
	chunked *awschunked.Reader
	md5     hash.Hash
	wantMD5 []byte
	sums    []runningSum
	n       int64
	max     int64
	size    int64 // decoded size the client declared; -1 unknown
	err     error
	// signed is the payload SHA-256 the client signed, and unhashed the body
	// without the reader that checks it, for putBody to let the store check it.
	signed   string
	unhashed io.Reader
}

// newBody prepares the body of r. max bounds the decoded size (EntityTooLarge). An
// object body needs its length (Content-Length, or x-amz-decoded-content-length for
// aws-chunked, which may also be left out), as in S3. A checksum named by
// x-amz-sdk-checksum-algorithm without a value is computed, to be stored, as S3 does.
func (s *Server) newBody(w http.ResponseWriter, r *request, max int64, needLength bool) (*body, error) {
	b := &body{max: max, size: r.ContentLength}
	var raw io.Reader = &stallReader{r: r.Body, rc: http.NewResponseController(w), timeout: s.cfg.StallTimeout}
	opts, chunked, err := awschunked.OptionsFromHeader(r.Header)
	if err != nil {
		return nil, err
	}
	switch {
	case chunked:
		if opts.Mode == awschunked.Signed || opts.Mode == awschunked.SignedTrailer {
			a := r.auth
			opts.Signing = &awschunked.Signing{Key: a.SigningKey, Seed: a.Signature, Scope: a.Scope.String(), AmzDate: a.AmzDate()}
		}
		b.chunked = awschunked.NewReader(raw, opts)
		b.r = b.chunked
		b.size = opts.DecodedLength
	case sigv4.IsSHA256Hex(r.auth.PayloadHash):
		pr, err := sigv4.NewPayloadReader(raw, r.auth.PayloadHash)
		if err != nil {
			return nil, err
		}
		b.r = pr
		b.signed, b.unhashed = r.auth.PayloadHash, raw
	default:
		b.r = raw
	}
	if needLength && !chunked && r.ContentLength < 0 {
		return nil, s3err.ErrMissingContentLength
	}
	if b.size > max {
		return nil, s3err.ErrEntityTooLarge
	}
	if v := r.Header.Get("Content-Md5"); v != "" {
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != md5.Size {
			return nil, s3err.ErrInvalidDigest
		}
		b.md5, b.wantMD5 = md5.New(), want
	}
	seen := map[string]bool{}
	for alg, newHash := range checksumAlgorithms {
		v := r.Header.Get(checksumHeader(alg))
		if v == "" {
			continue
		}
		h := newHash()
		want, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(want) != h.Size() {
			return nil, s3err.ErrInvalidRequest.WithMessage("Value for x-amz-checksum-" + strings.ToLower(alg) + " header is invalid.")
		}
		b.sums = append(b.sums, runningSum{algorithm: alg, h: h, want: want})
		seen[alg] = true
	}
	for _, t := range opts.Trailers {
		seen[strings.ToUpper(strings.TrimPrefix(t, "x-amz-checksum-"))] = true
	}
	if alg := strings.ToUpper(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm")); alg != "" && !seen[alg] {
		if newHash, ok := checksumAlgorithms[alg]; ok {
			b.sums = append(b.sums, runningSum{algorithm: alg, h: newHash()})
		}
	}
	return b, nil
}

// Read implements io.Reader.
func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	if n > 0 {
		b.n += int64(n)
		if b.n > b.max {
			b.err = s3err.ErrEntityTooLarge
			return 0, b.err
		}
		if b.md5 != nil {
			b.md5.Write(p[:n])
		}
		for _, s := range b.sums {
			s.h.Write(p[:n])
		}
	}
	if err == io.EOF {
		err = b.finish()
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// finish checks what only the end of the body can prove.
func (b *body) finish() error {
	if b.size >= 0 && b.n != b.size {
		return s3err.ErrIncompleteBody
	}
	if b.md5 != nil && !bytes.Equal(b.md5.Sum(nil), b.wantMD5) {
		return s3err.ErrBadDigest
	}
	for _, s := range b.sums {
		if s.want != nil && !bytes.Equal(s.h.Sum(nil), s.want) {
			return s3err.ErrBadDigest.WithMessage("The " + s.algorithm + " you specified did not match the calculated checksum.")
		}
	}
	return io.EOF
}

// Checksums returns the verified (or computed) checksums of the body, algorithm to
// base64, once Read has returned io.EOF.
func (b *body) Checksums() map[string]string {
	out := map[string]string{}
	for _, s := range b.sums {
		out[s.algorithm] = base64.StdEncoding.EncodeToString(s.h.Sum(nil))
	}
	if b.chunked != nil {
		for alg, v := range b.chunked.Checksums() {
			out[strings.ToUpper(alg)] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// stallReader gives every Read of a request body StallTimeout to make progress, so
// that a client that stops sending is cut off whatever the size of its upload.
type stallReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *stallReader) Read(p []byte) (int, error) {
	// An error means the connection cannot take deadlines (HTTP/2 over some proxies):
	// the server's own timeouts still apply.
	_ = s.rc.SetReadDeadline(time.Now().Add(s.timeout))
	return s.r.Read(p)
}

// stallWriter gives every Write of a response StallTimeout to be accepted.
type stallWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	return s.w.Write(p)
}

// readXML reads a small XML request body through the same verification as object
// bodies, bounded by maxXMLBody.
func (s *Server) readXML(w http.ResponseWriter, r *request) ([]byte, error) {
	if r.ContentLength > maxXMLBody {
		return nil, s3err.ErrMalformedXML.WithMessage("The XML body is larger than " + strconv.Itoa(maxXMLBody) + " bytes.")
	}
	b, err := s.newBody(w, r, maxXMLBody, false)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(b)
}
