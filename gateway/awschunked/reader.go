package awschunked

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"github.com/ipas/ipas/gateway/s3err"
)

const (
	// maxHeaderLine bounds a chunk header line: 16 hex digits, ";chunk-signature=",
	// 64 hex digits and CRLF fit with room to spare.
	maxHeaderLine = 128
	// maxTrailerLine bounds one trailer line; checksums are at most 44 base64 bytes.
	maxTrailerLine = 256
	// maxTrailerLines bounds the trailer section (the declared trailers and the
	// trailer signature), which is held until its closing empty line.
	maxTrailerLines = 8
	// readBufferSize is the framing read-ahead. Data reads larger than it bypass it.
	readBufferSize = 4 << 10
	// chunkSignaturePrefix introduces the signature in a signed chunk header.
	chunkSignaturePrefix = "chunk-signature="
	// emptySHA256 is the hex SHA-256 of nothing, part of every chunk string to sign.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

type state int

const (
	stateHeader state = iota // before a chunk header line
	stateData                // inside chunk data
	stateDone                // body verified
)

// Reader decodes an aws-chunked body. Read returns io.EOF only after every chunk
// signature, the trailer signature, the trailer checksums and the decoded length have
// been verified. Errors are sticky.
type Reader struct {
	br   *bufio.Reader
	opts Options
	max  int64
	min  int64

	state     state
	remaining int64     // undelivered bytes of the current chunk
	claimed   string    // signature the current chunk header claims
	chunkHash hash.Hash // SHA-256 of the current chunk, signed modes only
	prevSig   string    // the last verified signature in the chain
	sums      []runningChecksum
	decoded   int64
	chunks    int   // data chunks read so far
	lastSize  int64 // size of the last data chunk
	checksums map[string]string
	err       error
}

// NewReader returns a Reader decoding body. Invalid options surface as the error of the
// first Read.
func NewReader(body io.Reader, opts Options) *Reader {
	r := &Reader{br: bufio.NewReaderSize(body, readBufferSize), opts: opts, max: opts.MaxChunkSize, min: opts.MinChunkSize}
	if r.max <= 0 {
		r.max = DefaultMaxChunkSize
	}
	if r.min <= 0 {
		r.min = DefaultMinChunkSize
	}
	switch {
	case opts.Mode != Signed && opts.Mode != SignedTrailer && opts.Mode != UnsignedTrailer:
		r.err = errors.New("awschunked: unknown mode " + strconv.Itoa(int(opts.Mode)))
	case opts.Mode.signed() && (opts.Signing == nil || len(opts.Signing.Key) == 0):
		r.err = errors.New("awschunked: signed mode without a signing context")
	}
	if opts.Mode.signed() && r.err == nil {
		r.chunkHash = sha256.New()
		r.prevSig = opts.Signing.Seed
	}
	seen := make(map[string]bool)
	for _, name := range opts.Trailers {
		algo, ok := checksumAlgorithms[name]
		if !ok && r.err == nil {
			r.err = s3err.ErrInvalidRequest.WithMessage("The trailer " + strconv.Quote(name) + " is not supported.")
		}
		if ok && !seen[name] {
			seen[name] = true
			r.sums = append(r.sums, runningChecksum{trailer: name, algo: algo, h: algo.new()})
		}
	}
	return r
}

// Checksums returns the verified trailer checksums, algorithm name ("crc32", "crc32c",
// "crc64nvme", "sha1", "sha256") to base64 value, once Read has returned io.EOF; nil
// before.
func (r *Reader) Checksums() map[string]string {
	if r.state != stateDone {
		return nil
	}
	return r.checksums
}

// DecodedBytes returns how many decoded bytes Read has returned so far.
func (r *Reader) DecodedBytes() int64 { return r.decoded }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 && r.err == nil && r.state != stateDone {
		return 0, nil
	}
	for {
		if r.err != nil {
			return 0, r.err
		}
		switch r.state {
		case stateDone:
			return 0, io.EOF
		case stateHeader:
			r.err = r.readChunkHeader()
		case stateData:
			if r.remaining == 0 {
				r.err = r.endChunk()
				continue
			}
			return r.readData(p)
		}
	}
}

func (r *Reader) readData(p []byte) (int, error) {
	if int64(len(p)) > r.remaining {
		p = p[:r.remaining]
	}
	n, err := r.br.Read(p)
	if n > 0 {
		r.remaining -= int64(n)
		r.decoded += int64(n)
		if r.chunkHash != nil {
			r.chunkHash.Write(p[:n])
		}
		for i := range r.sums {
			r.sums[i].h.Write(p[:n])
		}
	}
	if err != nil {
		r.err = readError(err)
		if n > 0 {
			return n, nil
		}
		return 0, r.err
	}
	return n, nil
}

var (
	errTruncated      = s3err.ErrTruncatedBody
	errChunkSignature = s3err.ErrSignatureDoesNotMatch.WithMessage(
		"The chunk signature we calculated does not match the signature you provided.")
)

// malformed is a framing error. S3 answers it as a body that ended early; why goes
// to the logs only.
func malformed(why string) error {
	return fmt.Errorf("awschunked: %s: %w", why, s3err.ErrTruncatedBody)
}

// lengthMismatch is a decoded body longer or shorter than x-amz-decoded-content-length.
// provided is the decoded size when known exactly, -1 when the body was cut short at
// the first chunk past the declared length.
func (r *Reader) lengthMismatch(provided int64) error {
	elements := []s3err.Element{{Name: s3err.ElementNumberBytesExpected, Value: strconv.FormatInt(r.opts.DecodedLength, 10)}}
	if provided >= 0 {
		elements = append(elements, s3err.Element{Name: s3err.ElementNumberBytesProvided, Value: strconv.FormatInt(provided, 10)})
	}
	return s3err.ErrIncompleteBody.WithElements(elements...)
}

// readError maps an error of the underlying body: EOF inside the framing is a
// truncated body; anything else (a dropped connection, a server read timeout) passes
// through wrapped so the caller can tell it from a protocol error.
func readError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return errors.Join(errTruncated, err)
}

// readLine reads one CRLF-terminated line of at most max bytes and returns it without
// the CRLF. Every line of the format ends with CRLF, so input that ends before one is
// a truncated body.
func (r *Reader) readLine(max int) (string, error) {
	b, err := r.br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		return "", malformed("line too long")
	default:
		return "", readError(err)
	}
	if len(b) > max+2 {
		return "", malformed("line too long")
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return "", malformed("line not terminated by CRLF")
	}
	line := b[:len(b)-2]
	if bytes.IndexByte(line, '\r') >= 0 {
		return "", malformed("CR inside a line")
	}
	return string(line), nil
}

func (r *Reader) readChunkHeader() error {
	line, err := r.readLine(maxHeaderLine)
	if err != nil {
		return err
	}
	sizeHex, ext, hasExt := strings.Cut(line, ";")
	if sizeHex == "" || len(sizeHex) > 16 {
		return malformed("invalid chunk size")
	}
	size, perr := strconv.ParseUint(sizeHex, 16, 64)
	if perr != nil {
		return malformed("invalid chunk size")
	}
	if size > uint64(r.max) {
		return s3err.ErrInvalidArgument.WithMessage("Chunk size " + strconv.FormatUint(size, 10) +
			" exceeds the limit of " + strconv.FormatInt(r.max, 10) + " bytes.")
	}
	if r.opts.Mode.signed() {
		sig, ok := strings.CutPrefix(ext, chunkSignaturePrefix)
		if !hasExt || !ok || len(sig) != sha256.Size*2 {
			return malformed("chunk header without a chunk-signature")
		}
		r.claimed = sig
		r.chunkHash.Reset()
	} else if hasExt {
		return malformed("chunk extension in an unsigned body")
	}
	if size == 0 {
		return r.finalChunk()
	}
	if r.chunks > 0 && r.lastSize < r.min {
		return s3err.ErrInvalidChunkSize.WithElements(
			s3err.Element{Name: s3err.ElementChunk, Value: strconv.Itoa(r.chunks + 1)},
			s3err.Element{Name: s3err.ElementBadChunkSize, Value: strconv.FormatInt(r.lastSize, 10)})
	}
	r.chunks++
	r.lastSize = int64(size)
	r.remaining = int64(size)
	r.state = stateData
	return nil
}

// endChunk consumes the CRLF after chunk data and verifies the chunk signature.
func (r *Reader) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(r.br, crlf[:]); err != nil {
		return readError(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return malformed("chunk data not followed by CRLF")
	}
	if err := r.verifyChunk(); err != nil {
		return err
	}
	// The length is checked once the chunk is framed and verified, so that a broken
	// body is reported as such; the chunk itself is bounded by MaxChunkSize.
	if r.opts.DecodedLength >= 0 && r.decoded > r.opts.DecodedLength {
		return r.lengthMismatch(-1)
	}
	r.state = stateHeader
	return nil
}

// verifyChunk checks the claimed signature of the chunk just read, chained from the
// previous one.
func (r *Reader) verifyChunk() error {
	if !r.opts.Mode.signed() {
		return nil
	}
	s := r.opts.Signing
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.AmzDate + "\n" + s.Scope + "\n" + r.prevSig + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(r.chunkHash.Sum(nil))
	if !r.signatureMatches(sts, r.claimed) {
		return errChunkSignature
	}
	r.prevSig = r.claimed
	return nil
}

// signatureMatches compares claimed (hex) with the HMAC of sts in constant time.
func (r *Reader) signatureMatches(sts, claimed string) bool {
	m := hmac.New(sha256.New, r.opts.Signing.Key)
	m.Write([]byte(sts))
	got, err := hex.DecodeString(claimed)
	return err == nil && hmac.Equal(got, m.Sum(nil))
}

// finalChunk handles the zero-length chunk: its signature, the trailer section, and
// the checks that make the body complete.
func (r *Reader) finalChunk() error {
	if err := r.verifyChunk(); err != nil {
		return err
	}
	if r.opts.DecodedLength >= 0 && r.decoded != r.opts.DecodedLength {
		return r.lengthMismatch(r.decoded)
	}
	if r.opts.Mode.trailers() {
		if err := r.readTrailers(); err != nil {
			return err
		}
	} else {
		line, err := r.readLine(maxHeaderLine)
		if err != nil {
			return err
		}
		if line != "" {
			return malformed("data after the final chunk")
		}
	}
	if _, err := r.br.ReadByte(); err == nil {
		return malformed("data after the end of the body")
	} else if !errors.Is(err, io.EOF) {
		return readError(err)
	}
	r.state = stateDone
	return nil
}
