package archive

import (
	"context"
	"slices"
	"sync"
)

// Read-through moves an object's remote bytes in aligned blocks: block i of
// an object is bytes [i*BlockSize, (i+1)*BlockSize) (the last one shorter).
// A ranged GET fetches only the blocks it overlaps, so at most one block
// more than it asked for on each side; concurrent readers of one block share
// one fetch (blockGroup). One remote GET fetches a span of consecutive
// blocks, streamed into their buffers, so that a long read keeps the remote
// streaming instead of paying its latency once per block.
const (
	// BlockSize is the unit of memory and of sharing between readers.
	BlockSize = 1 << 20
	// MinReadAhead is how many blocks past the one being sent a read
	// fetches at first, to hide the remote's latency.
	MinReadAhead = 2
	// MaxReadAhead is the read-ahead window a read that stays sequential
	// grows to (doubling at each block taken): a whole read of a large
	// object keeps a span GET of about half of it running.
	MaxReadAhead = 16
	// BlockBudget is how many blocks all reads together hold in memory:
	// being fetched, fetched and not yet sent, and retained after being
	// sent (so that readers a little behind the first, e.g. 16 GETs of one
	// object started together, find them instead of fetching again). When
	// it is used, reads fetch no further ahead. A read fetches the block it
	// needs next anyway, so that it never waits on another's; a block of the
	// budget is kept for that per open read, so that all of them together
	// stay within it (while there are fewer open reads than blocks).
	BlockBudget = 24
)

// blockKey names one block of one object version.
type blockKey struct {
	version string // bucket/key/version: versions are unique per key
	index   int64
}

// blockFetch is one fetch of a block, shared by every reader that asked for
// the block while it ran (and, once done, by those that find it retained).
// Its bytes are readable as they arrive (waitFor), so that a read hands its
// first bytes out after one round trip rather than after the whole block
// crossed the link.
type blockFetch struct {
	key  blockKey
	done chan struct{}
	data []byte
	err  error
	pins int  // readers that will read data or are reading it
	gone bool // no longer in the group: its buffer is not reused

	mu      sync.Mutex
	arrived []byte        // the bytes fetched so far: a prefix of the block's buffer
	want    int64         // the fewest bytes a waiting reader wants arrived
	more    chan struct{} // closed once want bytes arrived; nil while no reader waits
}

// wait returns the block's bytes once fetched, or ctx's error first.
func (f *blockFetch) wait(ctx context.Context) ([]byte, error) {
	select {
	case <-f.done:
		return f.data, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// waitFor returns the block's bytes that arrived so far (a prefix of the
// block) once there are at least n of them, the whole block once fetched,
// the fetch's error, or ctx's error first.
func (f *blockFetch) waitFor(ctx context.Context, n int64) ([]byte, error) {
	for {
		f.mu.Lock()
		got := f.arrived
		if int64(len(got)) >= n {
			f.mu.Unlock()
			return got, nil
		}
		if f.more == nil {
			f.more, f.want = make(chan struct{}), n
		}
		f.want = min(f.want, n)
		more := f.more
		f.mu.Unlock()
		select {
		case <-more:
		case <-f.done:
			return f.data, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// arrive says the fetch has read got, a longer prefix of the block's
// buffer, and wakes the readers waiting once what they want arrived. The
// bytes of got must not change any more.
func (f *blockFetch) arrive(got []byte) {
	f.mu.Lock()
	f.arrived = got
	var more chan struct{}
	if f.more != nil && int64(len(got)) >= f.want {
		more, f.more = f.more, nil
	}
	f.mu.Unlock()
	if more != nil {
		close(more)
	}
}

// blockGroup runs one fetch per block at a time (singleflight) and holds
// fetched blocks while readers need them, and after as long as BlockBudget
// allows (retained; room says which go first).
type blockGroup struct {
	mu       sync.Mutex
	budget   int
	readers  map[*readCursor]struct{} // open reads, a block of the budget kept for each
	fetches  map[blockKey]*blockFetch // running, pinned or retained
	retained []*blockFetch            // done, successful, unpinned; oldest first
	free     [][]byte                 // buffers of dropped blocks, for reuse
}

func newBlockGroup() *blockGroup {
	return &blockGroup{budget: BlockBudget, fetches: map[blockKey]*blockFetch{}, readers: map[*readCursor]struct{}{}}
}

// readCursor is where an open read of a version stands: it will still ask
// for the blocks from next to last (those before next it has taken or
// pinned). See room for what it protects.
type readCursor struct {
	version    string
	next, last int64
}

// keep reports whether a read ahead of block k must leave f, retained: f is
// a block that k's read passed a little while ago (at most MaxReadAhead
// blocks) and that an open read still asks for, a read a little behind that
// would otherwise fetch it again (16 GETs of one object that did not start
// together). Blocks ahead of k (the tail a read before left), or far behind
// it (a slow client's), may go.
func (g *blockGroup) keep(f *blockFetch, k blockKey) bool {
	i := f.key.index
	if f.key.version != k.version || i >= k.index || k.index-i > MaxReadAhead {
		return false
	}
	for c := range g.readers {
		if c.version == f.key.version && c.next <= i && i <= c.last {
			return true
		}
	}
	return false
}

// spanFetch fetches the consecutive blocks of fs (in order) with one remote
// read, calling done for each as its bytes arrive or the read fails.
type spanFetch func(fs []*blockFetch)

// pinBlocks returns the fetches of up to n blocks of version from first on,
// each pinned for the caller (unpin each once done with it): running or
// retained ones, or new ones whose consecutive runs are fetched by fetch, in
// their own goroutines. New blocks are taken only while the budget allows,
// except the first when need is set: fewer than n come back when it is used.
// A fetch does not stop when the reader that started it goes away: others
// may be waiting for it.
//
// cur, when not nil, is the caller's open read: it has asked for every
// block before the first one not returned.
func (g *blockGroup) pinBlocks(version string, first, n int64, need bool, fetch spanFetch, cur *readCursor) []*blockFetch {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out, run []*blockFetch
	if cur != nil {
		defer func() { cur.next = first + int64(len(out)) }()
	}
	start := func() {
		if len(run) > 0 {
			go fetch(run)
			run = nil
		}
	}
	for i := first; i < first+n; i++ {
		k := blockKey{version, i}
		if f := g.fetches[k]; f != nil {
			start()
			g.pin(f)
			out = append(out, f)
			continue
		}
		if !g.room(k, need && len(out) == 0) {
			break
		}
		f := &blockFetch{key: k, done: make(chan struct{}), pins: 1}
		g.fetches[k] = f
		run = append(run, f)
		out = append(out, f)
	}
	start()
	return out
}

func (g *blockGroup) pin(f *blockFetch) {
	if f.pins == 0 {
		if i := slices.Index(g.retained, f); i >= 0 {
			g.retained = slices.Delete(g.retained, i, i+1)
		}
	}
	f.pins++
}

// room reports whether block k fits the budget, dropping retained blocks to
// make it. The block a read needs next always gets in, dropping the oldest
// retained ones. A block read ahead must leave one for each open read, and
// drops the oldest retained block that keep allows; it stops reading ahead
// rather than take a block that a read a little behind will ask for.
func (g *blockGroup) room(k blockKey, need bool) bool {
	if need {
		for len(g.fetches) >= g.budget && len(g.retained) > 0 {
			g.drop(g.retained[0])
			g.retained = g.retained[1:]
		}
		return true
	}
	limit := g.budget - len(g.readers)
	for len(g.fetches) >= limit {
		i := slices.IndexFunc(g.retained, func(f *blockFetch) bool { return !g.keep(f, k) })
		if i < 0 {
			return false
		}
		g.drop(g.retained[i])
		g.retained = slices.Delete(g.retained, i, i+1)
	}
	return true
}

// open counts a read, closed by close.
func (g *blockGroup) open(c *readCursor) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.readers[c] = struct{}{}
}

func (g *blockGroup) close(c *readCursor) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.readers, c)
}

// drop takes an unpinned block out of the group; its buffer is reused
// while the buffers held (by blocks and free) stay within the budget.
func (g *blockGroup) drop(f *blockFetch) {
	delete(g.fetches, f.key)
	f.gone = true
	if cap(f.data) == BlockSize && len(g.free)+g.held() < g.budget {
		g.free = append(g.free, f.data[:0])
	}
	f.data = nil
}

// held counts the blocks holding a buffer: fetched, or being fetched into
// one (buffer).
func (g *blockGroup) held() int {
	n := 0
	for _, f := range g.fetches {
		if f.data != nil {
			n++
		}
	}
	return n
}

// buffer returns a buffer of n bytes for f, a block being fetched; f holds
// it from now on (its readers see it once done).
func (g *blockGroup) buffer(f *blockFetch, n int64) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	if k := len(g.free); k > 0 && n == BlockSize {
		f.data = g.free[k-1][:n]
		g.free = g.free[:k-1]
	} else {
		f.data = make([]byte, n)
	}
	return f.data
}

// done ends the fetch of f with its bytes or its error. A failed block
// leaves the group: the next reader tries again.
func (g *blockGroup) done(f *blockFetch, data []byte, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f.data, f.err = data, err
	close(f.done)
	switch {
	case err != nil:
		delete(g.fetches, f.key)
		f.gone = true
	case f.pins == 0 && !f.gone:
		g.retain(f)
	}
}

// unpin says a reader is done with f (read it or gave up on it).
func (g *blockGroup) unpin(f *blockFetch) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f.pins--
	if f.pins > 0 || f.gone {
		return
	}
	select {
	case <-f.done:
		g.retain(f)
	default: // still running: done retains it
	}
}

// retain keeps an unpinned block for later readers, dropping the oldest
// retained ones while the group holds more than its budget.
func (g *blockGroup) retain(f *blockFetch) {
	g.retained = append(g.retained, f)
	for len(g.fetches) > g.budget && len(g.retained) > 0 {
		g.drop(g.retained[0])
		g.retained = g.retained[1:]
	}
}

// forget drops every fetched block of version: its bytes proved bad.
func (g *blockGroup) forget(version string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retained = slices.DeleteFunc(g.retained, func(f *blockFetch) bool { return f.key.version == version })
	for k, f := range g.fetches {
		if k.version != version {
			continue
		}
		select {
		case <-f.done:
			delete(g.fetches, k)
			f.gone = true // pinned readers still read it; its buffer is not reused
		default:
		}
	}
}
