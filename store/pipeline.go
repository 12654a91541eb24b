package store

import (
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// stageCount is the number of goroutines a large write fans out to: MD5, SHA-256 and
// the file write. MD5 alone runs at ~700 MB/s on one core, below a fast disk, so the
// three run side by side on separate chunks instead of one after the other.
const stageCount = 3

// chunk is one buffer of a Writer's pipeline.
type chunk struct {
	buf    []byte
	n      int
	refs   atomic.Int32 // stages that have not finished with buf[:n]
	mapped bool         // buf is an anonymous mapping of its own (chunkPool)
}

// nextChunk returns an empty chunk, allocating up to Buffers of them and then waiting
// for the stages to hand one back: this is what bounds a Writer's memory.
func (w *Writer) nextChunk() *chunk {
	if w.allocated < w.s.Buffers {
		w.allocated++
		return w.s.chunks.get()
	}
	c := <-w.free
	c.n = 0
	return c
}

// dispatch hands a full chunk to every stage, starting them on first use so that
// blobs smaller than one chunk never start a goroutine.
func (w *Writer) dispatch(c *chunk) {
	if w.stages == nil {
		w.startStages()
	}
	c.refs.Store(stageCount)
	for _, st := range w.stages {
		st <- c
	}
}

func (w *Writer) startStages() {
	w.free = make(chan *chunk, w.s.Buffers)
	w.stages = make([]chan *chunk, stageCount)
	fns := [stageCount]func([]byte){
		func(p []byte) { w.md5.Write(p) },
		func(p []byte) { w.sha.Write(p) },
		w.writeFile,
	}
	for i := range w.stages {
		// Buffers slots: at most Buffers chunks exist, so dispatch never blocks here.
		w.stages[i] = make(chan *chunk, w.s.Buffers)
		w.wg.Add(1)
		go w.runStage(w.stages[i], fns[i])
	}
}

func (w *Writer) runStage(in <-chan *chunk, fn func([]byte)) {
	defer w.wg.Done()
	for c := range in {
		fn(c.buf[:c.n])
		if c.refs.Add(-1) == 0 {
			w.free <- c
		}
	}
}

// writeFile appends p to the temp file; after the first error it only drains, so
// that chunks keep flowing back and the caller sees the error instead of blocking.
func (w *Writer) writeFile(p []byte) {
	if w.loadErr() != nil {
		return
	}
	if _, err := w.s.fileWrite(w.f, p); err != nil {
		w.setErr(wrapNoSpace(fmt.Errorf("store: write temp file %s: %w", w.path, err)))
		return
	}
	// Start writeback of this chunk now rather than leaving it all to the fsync in
	// Commit: the disk then works while the next chunks are hashed, and dirty pages
	// do not pile up (a Pi has little RAM to hold them). Advisory: errors surface at
	// the fsync.
	w.written += int64(len(p))
	if step := w.s.WritebackStep; step > 0 && w.written-w.flushed >= step {
		unix.SyncFileRange(int(w.f.Fd()), w.flushed, w.written-w.flushed, unix.SYNC_FILE_RANGE_WRITE)
		w.flushed = w.written
	}
}

// drain processes the partly filled current chunk, stops the stages and returns every
// chunk to the store's pool.
func (w *Writer) drain(process bool) {
	if c := w.cur; c != nil && process && c.n > 0 {
		if w.stages == nil {
			// Small blob: hash and write inline, no goroutines.
			w.md5.Write(c.buf[:c.n])
			w.sha.Write(c.buf[:c.n])
			w.writeFile(c.buf[:c.n])
		} else {
			w.dispatch(c)
			w.cur = nil
		}
	}
	if w.stages != nil {
		for _, st := range w.stages {
			close(st)
		}
		w.wg.Wait()
		w.stages = nil
		for len(w.free) > 0 {
			w.s.chunks.put(<-w.free)
		}
	}
	if w.cur != nil {
		w.s.chunks.put(w.cur)
		w.cur = nil
	}
	w.allocated = 0
}
