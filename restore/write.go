package restore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// A range whose bytes are hashed as they arrive (parts.go) is written to
// its part file with O_DIRECT where the filesystem allows it: the bytes go
// from the buffer they were hashed in to the disk, without a copy into the
// page cache, which cost as much CPU as hashing them (0.6-1.2 s per GiB of
// kernel time on the development VM, against 0.3 s direct), and they are on
// the disk when the range's fsync comes. Nothing reads them back before
// they are adopted, so the page cache would only have held them for the
// writeback. A range hashed later from its file (ranges.go's read-back
// path) is written through the page cache, where that read finds it.
const (
	// directAlign is the alignment O_DIRECT needs of offsets, lengths and
	// memory: the largest logical block size of common disks.
	directAlign = 4096
	// chunkSize is how much of a range is read, hashed and written at a
	// time: a multiple of directAlign.
	chunkSize = 512 << 10
)

// chunks holds the buffers of chunkSize, aligned for O_DIRECT.
var chunks = sync.Pool{New: func() any {
	b := make([]byte, chunkSize+directAlign)
	skew := int(uintptr(unsafe.Pointer(&b[0])) & (directAlign - 1))
	b = b[(directAlign-skew)&(directAlign-1):][:chunkSize]
	return &b
}}

// rangeWriter writes one range of a part file, starting at off.
type rangeWriter struct {
	f *os.File
	// direct is f opened with O_DIRECT, or nil.
	direct *os.File
	off    int64
	// h, if not nil, is given every byte in order.
	h io.Writer
	// noDirect is told when the filesystem refused a direct write.
	noDirect func(error)
	// buf is what each chunk is read into: from chunks, for direct.
	buf []byte
}

// ReadFrom writes src at w.off and on until src ends, in chunks, each
// hashed first; a chunk of whole blocks goes through direct.
func (w *rangeWriter) ReadFrom(src io.Reader) (int64, error) {
	var total int64
	for {
		n, err := io.ReadFull(src, w.buf)
		if n > 0 {
			if w.h != nil {
				w.h.Write(w.buf[:n])
			}
			if werr := w.write(w.buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// write writes b at w.off: its whole blocks through direct, if open, and
// the rest through the page cache.
func (w *rangeWriter) write(b []byte) error {
	if whole := len(b) &^ (directAlign - 1); w.direct != nil && whole > 0 {
		_, err := w.direct.WriteAt(b[:whole], w.off)
		switch {
		case errors.Is(err, syscall.EINVAL):
			// The filesystem takes no direct writes after all: the page
			// cache it is, for this range and those after it.
			w.noDirect(err)
			w.direct.Close()
			w.direct = nil
		case err != nil:
			return fmt.Errorf("write: %w", noSpace(err))
		default:
			w.off += int64(whole)
			b = b[whole:]
		}
	}
	if len(b) == 0 {
		return nil
	}
	if _, err := w.f.WriteAt(b, w.off); err != nil {
		return fmt.Errorf("write: %w", noSpace(err))
	}
	w.off += int64(len(b))
	return nil
}

// close closes direct, if open; f belongs to the caller.
func (w *rangeWriter) close() {
	if w.direct != nil {
		w.direct.Close()
	}
}
