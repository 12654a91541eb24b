package gateway

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/gateway/awschunked"
	"github.com/ipas/ipas/gateway/checksum"
	"github.com/ipas/ipas/gateway/s3err"
	"github.com/ipas/ipas/gateway/sigv4"
)

// runningSum is the checksum computed over a body and, when the client sent a value
// in a header, compared with it at EOF.
type runningSum struct {
	algorithm checksum.Algorithm
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
	// claimed is the checksum the client announced; sum computes it unless it
	// comes in a trailer, which chunked verifies.
	claimed requestChecksum
	sum     *runningSum
	n       int64
	max     int64
	size    int64 // decoded size the client declared; -1 unknown
	err     error
	// signed is the payload SHA-256 the client signed, and unhashed the body
	// without the reader that checks it, for putBody to let the store check it.
	signed   string
	unhashed io.Reader
}

// DeclaredSize is the length the client declared (0 when unknown), which the
// archive's capacity admits before a byte is stored (archive.SizedReader).
func (b *body) DeclaredSize() int64 { return max(b.size, 0) }

var _ archive.SizedReader = (*body)(nil)

// newBody prepares the body of r. max bounds the decoded size (EntityTooLarge). An
// object body needs its length (Content-Length, or x-amz-decoded-content-length for
// aws-chunked, where awschunked.OptionsFromHeader requires it), as in S3. A checksum
// named by x-amz-sdk-checksum-algorithm without a value is computed, to be stored.
func (s *Server) newBody(w http.ResponseWriter, r *request, max int64, needLength bool) (*body, error) {
	return s.openBody(w, r, max, needLength, true)
}

// openBody is newBody; checksums false leaves the x-amz-checksum-* headers alone, for
// requests where they describe something other than the body (CompleteMultipartUpload).
func (s *Server) openBody(w http.ResponseWriter, r *request, max int64, needLength, checksums bool) (*body, error) {
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
	if checksums {
		rc, err := parseRequestChecksum(r.Header, opts.Trailers)
		if err != nil {
			return nil, err
		}
		b.claimed = rc
		if rc.algo != "" && !rc.trailer {
			b.sum = &runningSum{algorithm: rc.algo, h: rc.algo.New(), want: rc.want}
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
		if b.sum != nil {
			b.sum.h.Write(p[:n])
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
	if b.sum != nil && b.sum.want != nil && !bytes.Equal(b.sum.h.Sum(nil), b.sum.want) {
		return errChecksumMismatch(b.sum.algorithm)
	}
	return io.EOF
}

// Algorithm returns the checksum algorithm of the body: the one the client
// announced, or the one ComputeIfNone set; "" for none.
func (b *body) Algorithm() checksum.Algorithm {
	if b.sum != nil {
		return b.sum.algorithm
	}
	return b.claimed.algo
}

// ComputeIfNone makes the body compute a checksum with a when the client announced
// none, as S3 does (CRC64NVME for an object, the upload's algorithm for a part of a
// FULL_OBJECT upload). Call it before the first Read.
func (b *body) ComputeIfNone(a checksum.Algorithm) {
	if b.claimed.algo == "" && b.sum == nil && a != "" {
		b.sum = &runningSum{algorithm: a, h: a.New()}
	}
}

// Checksum returns the algorithm and the base64 value of the body's verified (or
// computed) checksum once Read has returned io.EOF; "" when it has none.
func (b *body) Checksum() (checksum.Algorithm, string) {
	switch {
	case b.sum != nil:
		return b.sum.algorithm, checksum.Encode(b.sum.h.Sum(nil))
	case b.claimed.trailer && b.chunked != nil:
		return b.claimed.algo, b.chunked.Checksums()[strings.ToLower(string(b.claimed.algo))]
	}
	return "", ""
}

// Checksums returns Checksum as the map stored with objects and parts; nil for none.
func (b *body) Checksums() map[string]string {
	a, v := b.Checksum()
	if a == "" || v == "" {
		return nil
	}
	return map[string]string{string(a): v}
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

// stallWriter gives every Write of a response StallTimeout to be accepted,
// and sends the first one at once: a read-through's first bytes are what the
// remote sent first, maybe a few hundred, which net/http would otherwise hold
// in its 4 KiB buffer until the rest of their block arrived.
type stallWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
	sent    bool // the first Write was flushed
}

func (s *stallWriter) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	n, err := s.w.Write(p)
	if !s.sent && err == nil {
		s.sent = true
		_ = s.rc.Flush() // a broken connection fails the next Write
	}
	return n, err
}

// readXML reads a small XML request body through the same verification as object
// bodies, bounded by maxXMLBody.
func (s *Server) readXML(w http.ResponseWriter, r *request) ([]byte, error) {
	return s.readXMLBody(w, r, true)
}

// readXMLBody is readXML; checksums false leaves x-amz-checksum-* headers alone (see
// openBody).
func (s *Server) readXMLBody(w http.ResponseWriter, r *request, checksums bool) ([]byte, error) {
	if r.ContentLength > maxXMLBody {
		return nil, s3err.ErrMalformedXML.WithMessage("The XML body is larger than " + strconv.Itoa(maxXMLBody) + " bytes.")
	}
	b, err := s.openBody(w, r, maxXMLBody, false, checksums)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(b)
}
