package gateway

import (
	"io"
	"math"
	"net/http"
	"time"

	"github.com/ipas/ipas/archive"
)

// sendStep is how many bytes of a file one sendfile call may send under one write
// deadline. A client that takes less than sendStep per StallTimeout (17 KiB/s with
// the defaults) is cut off as stalled; larger steps would raise that floor, smaller
// ones cost more system calls.
const sendStep = 1 << 20

// The GetObject body goes io.Copy(stallWriter, archive.Reader) → Reader.WriteTo
// → the store's blob reader, which hands over its *os.File limited to the range →
// stallWriter.ReadFrom, in steps under a fresh deadline → responseWriter.ReadFrom →
// net/http's response.ReadFrom → sendfile(2) over TCP. Any plain Writer in between
// would turn it back into a copy through user space.
var (
	_ io.WriterTo   = (*archive.Reader)(nil)
	_ io.ReaderFrom = (*stallWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

// ReadFrom sends src in steps of sendStep, each under a fresh write deadline. A
// src that is an *io.LimitedReader (a blob's file limited to a range) is unwrapped
// so that the step's own limit wraps the file directly: net's sendfile path looks
// through one LimitedReader, not two.
func (s *stallWriter) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := s.w.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{s}, src)
	}
	lr, ok := src.(*io.LimitedReader)
	if !ok {
		lr = &io.LimitedReader{R: src, N: math.MaxInt64}
	}
	var total int64
	for lr.N > 0 {
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
		n, err := rf.ReadFrom(&io.LimitedReader{R: lr.R, N: min(lr.N, sendStep)})
		total += n
		lr.N -= n
		if err != nil || n == 0 {
			return total, err
		}
	}
	return total, nil
}

// ReadFrom passes src to net/http's own ReadFrom, which uses sendfile(2) when src
// is a file and the connection is plain TCP.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{w}, src)
	}
	n, err := rf.ReadFrom(src)
	w.written += n
	return n, err
}

// writerOnly hides a Writer's ReadFrom from io.Copy, to copy through a buffer.
type writerOnly struct{ io.Writer }
