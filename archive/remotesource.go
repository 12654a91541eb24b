package archive

import (
	"context"
	"fmt"
	"io"

	"github.com/ipas/ipas/objecthash"
	"github.com/ipas/ipas/queue"
)

// remoteSource reads the one piece of a remote-only object, the whole
// object, from its remote copy in blocks (ReadThrough).
type remoteSource struct {
	rt    *ReadThrough
	o     queue.Object
	check *wholeCheck // a whole read: its hash
	cache *recache    // a whole read that re-caches the object
}

var _ PieceSource = (*remoteSource)(nil)

// OpenPiece opens [r.Start+r.Off, +r.Len) of the object and waits for its
// first bytes, so that the remote's errors come before any byte.
func (s *remoteSource) OpenPiece(ctx context.Context, r PieceRange) (io.ReadCloser, error) {
	off := r.Start + r.Off
	br := &blockReader{src: s, ctx: ctx, pos: off, end: off + r.Len, next: off / BlockSize}
	br.cursor = &readCursor{version: versionName(s.o), next: br.next, last: (br.end - 1) / BlockSize}
	s.rt.group.open(br.cursor)
	if r.Len > 0 {
		if err := br.take(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

// blockReader serves a byte range from blocks, keeping fetches running past
// the block it serves: a window of MinReadAhead blocks that doubles at each
// block taken up to MaxReadAhead, refilled by one span once half of it is
// sent, as far as the group's budget allows.
type blockReader struct {
	src      *remoteSource
	ctx      context.Context
	pos, end int64       // the next byte to take from a block, the range's end
	cur      []byte      // taken, not yet served
	held     *blockFetch // the block cur is part of, pinned
	ahead    []*blockFetch
	next     int64       // index of the block after the last one in ahead
	cursor   *readCursor // next and the range's last block, for the group
	window   int64
	started  bool // the first bytes were taken
	err      error
	closed   bool
}

// fill starts the fetches of the range's next blocks, once at most half of
// the window is left in flight.
func (r *blockReader) fill() {
	last := (r.end - 1) / BlockSize
	if r.window == 0 {
		r.window = MinReadAhead
	}
	if r.next > last || int64(len(r.ahead)) > r.window/2 {
		return
	}
	n := min(r.window+1-int64(len(r.ahead)), last+1-r.next)
	fs := r.src.rt.blocks(r.src.o, r.next, n, len(r.ahead) == 0, r.cursor)
	r.ahead = append(r.ahead, fs...)
	r.next += int64(len(fs))
}

// take waits for the next bytes of the range and makes them current. The
// read's first bytes go as soon as any arrive, so that the client's first
// byte follows the remote's by one round trip, not by a block's transfer;
// after them it takes the rest of a block once the block is whole: handing
// every block out as it arrives cost the daemon over twice the CPU per GiB
// (wake-ups, writes, and a channel per wait that, near the memory limit,
// starts a collection), for nothing, as the link sets the pace. A whole
// read's hash of the bytes served before runs while they are sent
// (wholeCheck): take waits for it before the next bytes are hashed or the
// block's buffer may go. The block holding a whole read's last bytes is
// taken whole, and hashed and checked before any of it is handed out.
func (r *blockReader) take() error {
	c := r.src.check
	if c != nil {
		c.wait()
	}
	next := r.held == nil || r.pos >= (r.held.key.index+1)*BlockSize
	if next {
		r.release()
		r.fill()
		r.held, r.ahead = r.ahead[0], r.ahead[1:]
	}
	f := r.held
	start := f.key.index * BlockSize
	var data []byte
	var err error
	if r.started || (c != nil && (r.end-1)/BlockSize == f.key.index) {
		data, err = f.wait(r.ctx)
	} else {
		data, err = f.waitFor(r.ctx, r.pos-start+1)
	}
	r.started = true
	if err != nil {
		return err
	}
	if next {
		r.window = min(2*r.window, MaxReadAhead)
		r.fill()
	}
	piece := data[r.pos-start : min(int64(len(data)), r.end-start)]
	last := r.pos+int64(len(piece)) >= r.end
	if c != nil {
		c.hash(piece)
		if last {
			c.wait()
			if err := c.verify(r.src.rt); err != nil {
				r.src.cache.abort(err)
				return err
			}
		}
	}
	if cache := r.src.cache; cache != nil {
		cache.write(piece)
		if last {
			cache.commit(r.ctx)
		}
	}
	r.cur = piece
	r.pos += int64(len(piece))
	return nil
}

// release unpins the block served last: its bytes are all sent.
func (r *blockReader) release() {
	if r.held != nil {
		r.src.rt.group.unpin(r.held)
		r.held = nil
	}
}

func (r *blockReader) Read(p []byte) (int, error) {
	if err := r.current(); err != nil {
		return 0, err
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// WriteTo writes the range to w a block at a time, each block's bytes in
// one Write: no copy through a small buffer, one write deadline and one
// system call per block rather than per 32 KiB.
func (r *blockReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := r.current(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
		n, err := w.Write(r.cur)
		r.cur = r.cur[n:]
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

// current makes sure bytes are current, taking the next block when none are
// left: io.EOF at the end of the range.
func (r *blockReader) current() error {
	switch {
	case r.closed:
		return io.ErrClosedPipe
	case r.err != nil:
		return r.err
	case len(r.cur) > 0:
		return nil
	case r.pos >= r.end:
		return io.EOF
	}
	r.err = r.take()
	return r.err
}

// Close abandons a re-cache that did not reach the end and unpins the
// blocks the read held.
func (r *blockReader) Close() error {
	if !r.closed {
		r.closed = true
		r.src.check.stop()
		r.src.cache.abort(io.ErrUnexpectedEOF)
		r.src.rt.group.close(r.cursor)
		r.cur = nil // its buffer may be reused once unpinned
		r.release()
		for _, f := range r.ahead {
			r.src.rt.group.unpin(f)
		}
		r.ahead = nil
	}
	return nil
}

// wholeCheck hashes a whole read to compare it with the object's hash,
// in a goroutine of its own, one block behind the reader: the hash of a
// block runs while the block is sent to the client, in order.
type wholeCheck struct {
	o       queue.Object
	h       *objecthash.Verifier
	blocks  chan []byte   // to hash; nil until the first
	hashed  chan struct{} // one value per block hashed
	pending bool          // a block was handed over and not waited for
}

func newWholeCheck(o queue.Object) *wholeCheck {
	return &wholeCheck{o: o, h: objecthash.NewVerifier(o.SHA256, o.PartSizes())}
}

// hash starts hashing p, the next bytes of the read. p must stay unchanged
// until wait returns.
func (c *wholeCheck) hash(p []byte) {
	if c.blocks == nil {
		c.blocks, c.hashed = make(chan []byte), make(chan struct{})
		go func(blocks <-chan []byte, hashed chan<- struct{}) {
			for p := range blocks {
				c.h.Write(p)
				hashed <- struct{}{}
			}
		}(c.blocks, c.hashed)
	}
	c.blocks <- p
	c.pending = true
}

// wait returns once every block handed to hash is hashed.
func (c *wholeCheck) wait() {
	if c.pending {
		<-c.hashed
		c.pending = false
	}
}

// stop waits for the block being hashed and ends the goroutine; nil does
// nothing.
func (c *wholeCheck) stop() {
	if c == nil || c.blocks == nil {
		return
	}
	c.wait()
	close(c.blocks)
	c.blocks = nil
}

func (c *wholeCheck) verify(rt *ReadThrough) error {
	if c.h.Check() == nil {
		return nil
	}
	err := fmt.Errorf("archive: read %s/%s through from %s: %w: its bytes hash to SHA-256 %s, the index says %s",
		c.o.Bucket, c.o.Key, rt.name, ErrRemoteCorrupt, c.h.Sum(), c.o.SHA256)
	rt.logCorrupt(c.o, err)
	return err
}
