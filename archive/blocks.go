package archive

import (
	"context"
	"sync"
)

// Read-through moves an object's remote bytes in aligned blocks: block i of
// an object is bytes [i*BlockSize, (i+1)*BlockSize) (the last one shorter).
// A ranged GET fetches only the blocks it overlaps, so at most one block
// more than it asked for on each side; concurrent readers of one block share
// one fetch (blockGroup).
const (
	// BlockSize is the unit of a remote fetch. 1 MiB keeps 16 concurrent
	// whole-object read-throughs (each holding ReadAhead+1 blocks) near
	// 32 MiB, and a range's overfetch under 2 MiB.
	BlockSize = 1 << 20
	// ReadAhead is how many blocks past the one being sent a sequential
	// read fetches at the same time, to hide the remote's latency.
	ReadAhead = 2
	// RetainedBlocks is how many fetched blocks stay in memory after their
	// fetch completed, so that readers a little behind the first (16 GETs of
	// one object started together) find them instead of fetching again.
	RetainedBlocks = 16
)

// blockKey names one block of one object version.
type blockKey struct {
	version string // bucket/key/version: versions are unique per key
	index   int64
}

// blockFetch is one fetch of a block, shared by every reader that asked for
// the block while it ran (and, once done, by those that find it retained).
type blockFetch struct {
	done chan struct{}
	data []byte
	err  error
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

// blockGroup runs one fetch per block at a time (singleflight) and keeps the
// last RetainedBlocks successful ones.
type blockGroup struct {
	mu       sync.Mutex
	fetches  map[blockKey]*blockFetch
	retained []blockKey // oldest first, done and successful
}

func newBlockGroup() *blockGroup {
	return &blockGroup{fetches: map[blockKey]*blockFetch{}}
}

// get returns the fetch of key: the one running or retained, or a new one
// that runs fetch in its own goroutine. The fetch does not stop when the
// reader that started it goes away: others may be waiting for it.
func (g *blockGroup) get(key blockKey, fetch func() ([]byte, error)) (f *blockFetch, started bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.fetches[key]; f != nil {
		return f, false
	}
	f = &blockFetch{done: make(chan struct{})}
	g.fetches[key] = f
	go func() {
		data, err := fetch()
		g.mu.Lock()
		defer g.mu.Unlock()
		f.data, f.err = data, err
		close(f.done)
		if err != nil {
			delete(g.fetches, key) // the next reader tries again
			return
		}
		g.retained = append(g.retained, key)
		if len(g.retained) > RetainedBlocks {
			delete(g.fetches, g.retained[0])
			g.retained = g.retained[1:]
		}
	}()
	return f, true
}

// forget drops every retained block of version: its bytes proved bad.
func (g *blockGroup) forget(version string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	kept := g.retained[:0]
	for _, k := range g.retained {
		if k.version == version {
			delete(g.fetches, k)
			continue
		}
		kept = append(kept, k)
	}
	g.retained = kept
}
