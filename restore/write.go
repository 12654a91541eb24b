package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/ipas/ipas/remoteindex"
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

// fetchRange fetches range i into place, retrying transient failures; with
// h, its bytes are hashed into h as they are written (once, whatever the
// attempts).
func (r *Restorer) fetchRange(ctx context.Context, o *remoteindex.Object, p *partial, i int, fetched *atomic.Int64, h *partHash) error {
	sp := p.ranges[i]
	var err error
	for attempt := 0; attempt <= r.opts.Retries; attempt++ {
		if attempt > 0 && !r.backoff(ctx, attempt) {
			return ctx.Err()
		}
		if h != nil {
			if attempt == 0 {
				err = h.mark()
			} else {
				err = h.rewind()
			}
			if err != nil {
				return err
			}
		}
		if err = r.fetchRangeOnce(ctx, o, p, sp, fetched, h); err == nil {
			return p.markDone(i)
		}
		if !retryable(err) {
			return err
		}
		r.log.Debug().Err(err).Str("object", o.Name()).Int("range", i).Int("attempt", attempt+1).Msg("restore: range failed")
	}
	off := p.offset(sp)
	return fmt.Errorf("restore: get %s bytes %d-%d: %w (after %d attempts)", o.Name(), off, off+sp.length-1, err, r.opts.Retries+1)
}

// fetchRangeOnce writes range sp into its part file (and h, if not nil) and
// fsyncs it. With h, it writes through O_DIRECT where it can (write.go).
func (r *Restorer) fetchRangeOnce(ctx context.Context, o *remoteindex.Object, p *partial, sp span, fetched *atomic.Int64, h *partHash) error {
	off := p.offset(sp)
	rc, err := r.get(ctx, o, off, sp.length, fetched)
	if err != nil {
		return err
	}
	defer rc.Close()
	path := p.partFile(sp.part)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("restore: open partial %s: %w", p.dir, noSpace(err))
	}
	defer f.Close()
	buf := chunks.Get().(*[]byte)
	defer chunks.Put(buf)
	w := &rangeWriter{f: f, off: sp.off, noDirect: r.noDirect, buf: *buf}
	if h != nil {
		w.h = h
		if sp.off%directAlign == 0 && !r.buffered.Load() {
			w.direct, _ = openDirect(path) // nil: the page cache
		}
	}
	defer w.close()
	_, err = w.ReadFrom(exactly(rc, sp.length))
	switch {
	case errors.Is(err, errShort) || errors.Is(err, errLong):
		return &objectError{fmt.Sprintf("the remote sent a different size for bytes %d-%d (%v)", off, off+sp.length-1, err), fixCorrupt}
	case err != nil:
		return fmt.Errorf("restore: partial %s: %w", p.dir, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("restore: sync partial %s: %w", p.dir, noSpace(err))
	}
	return nil
}

// noDirect makes every later range go through the page cache once the
// filesystem refused a direct write.
func (r *Restorer) noDirect(err error) {
	if !r.buffered.Swap(true) {
		r.log.Debug().Err(err).Msg("restore: the filesystem refuses direct writes; writing through the page cache")
	}
}

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
