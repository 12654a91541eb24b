package main

import (
	"errors"
	"io"
	"math/rand/v2"
)

// patternBlockSize is the period of the generated object data: large enough
// that nothing downstream can dedupe or compress it cheaply.
const patternBlockSize = 1 << 20

// patternBlock is incompressible data that every generated object repeats.
var patternBlock = func() []byte {
	b := make([]byte, patternBlockSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// patternReader is an object body of size bytes generated on the fly, so that a
// 4 GiB upload costs the client no memory. It is an io.ReadSeeker and io.ReaderAt,
// which lets the SDK's uploader cut parts without buffering them.
type patternReader struct {
	size, off int64
}

func newPatternReader(size int64) *patternReader { return &patternReader{size: size} }

func (p *patternReader) Read(b []byte) (int, error) {
	n, err := p.ReadAt(b, p.off)
	p.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (p *patternReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.size {
		return 0, io.EOF
	}
	if rest := p.size - off; int64(len(b)) > rest {
		b = b[:rest]
	}
	n := 0
	for n < len(b) {
		i := (off + int64(n)) % patternBlockSize
		n += copy(b[n:], patternBlock[i:])
	}
	if off+int64(n) == p.size {
		return n, io.EOF
	}
	return n, nil
}

func (p *patternReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	}
	if offset < 0 {
		return 0, errors.New("s3bench: seek before start")
	}
	p.off = offset
	return offset, nil
}

// discardAt is an io.WriterAt that counts and drops what the downloader writes.
type discardAt struct{}

func (discardAt) WriteAt(b []byte, _ int64) (int, error) { return len(b), nil }
