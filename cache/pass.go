package cache

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipas/ipas/queue"
)

// Pass is what one look at the index found, and what it evicted.
type Pass struct {
	Finished time.Time
	Usage    Usage
	// Bytes of object versions by where they are: local, of which pinned
	// (store.keep_local), not offsite yet (upload pending) and evictable;
	// and on the remote only.
	Local, Pinned, NotOffsite, Evictable, RemoteOnly int64
	// Evicted objects and their bytes.
	EvictedObjects, EvictedBytes int64
}

// RunPass looks at the disk and the index and, with a capacity set and the
// disk above its high water mark, evicts the least recently read offsite
// objects down to the low mark, then prunes a batch of the access file
// (Access.Prune). busy reports
// whether the disk is still above the high mark or writes are refused.
func (c *Cache) RunPass(ctx context.Context) (busy bool, err error) {
	u, err := c.measure(true)
	if err != nil {
		return false, err
	}
	capacity, high, low := c.limits(u)
	var need int64
	if c.Enabled() && u.Used > high {
		need = u.Used - low
	}
	start := c.now()
	p, cands, err := c.scan(ctx, need, start)
	if err != nil {
		return false, err
	}
	if need > 0 {
		err = c.evict(ctx, cands, need, start, &p)
		p.Evictable -= p.EvictedBytes
		p.Local -= p.EvictedBytes
		p.RemoteOnly += p.EvictedBytes
		if p.EvictedObjects > 0 {
			err = errors.Join(err, c.deps.Collect(ctx))
		}
		if u, err2 := c.measure(true); err2 == nil {
			p.Usage = u
		}
		c.log.Info().Int64("objects", p.EvictedObjects).Int64("bytes", p.EvictedBytes).
			Int64("used", p.Usage.Used).Int64("high_water", high).Int64("low_water", low).
			Int64("not_offsite", p.NotOffsite).Msg("cache: evicted the least recently read objects that are offsite")
	} else {
		p.Usage = u
	}
	p.Finished = c.now()
	capacity, high, _ = c.limits(p.Usage)
	c.updateFull(p, capacity, high)
	c.passFinished(p)
	c.prune()
	return (c.Enabled() && p.Usage.Used > high) || c.refusing(), err
}

// scan walks the index, sums its bytes by where they are and returns the
// offsite objects, least recently read first, whose sizes add up to need.
func (c *Cache) scan(ctx context.Context, need int64, start time.Time) (Pass, []queue.Object, error) {
	var p Pass
	h := &lruHeap{}
	var held int64
	visit := func(o queue.Object, last time.Time) {
		switch {
		case o.RemoteOnly:
			p.RemoteOnly += o.Size
			return
		case c.cfg.kept(o.Bucket, o.Key):
			p.Pinned += o.Size
		case !o.Replicated():
			p.NotOffsite += o.Size
		default:
			p.Evictable += o.Size
			if need <= 0 || o.Size == 0 || (c.deps.Access != nil && c.deps.Access.readSince(o.Bucket, o.Key, start)) {
				break // nothing to evict, nothing to gain, or being read
			}
			if last.IsZero() || last.Before(o.ModTime) {
				last = o.ModTime
			}
			heap.Push(h, candidate{o, last})
			held += o.Size
			// Keep only the oldest reads that cover need: drop the newest
			// while the rest still do.
			for h.Len() > 0 && held-(*h)[0].o.Size >= need {
				held -= heap.Pop(h).(candidate).o.Size
			}
		}
		p.Local += o.Size
	}
	err := c.walk(ctx, "", "", func(last func(bucket, key string) time.Time, o queue.Object) {
		visit(o, last(o.Bucket, o.Key))
	})
	if err != nil {
		return p, nil, err
	}
	cands := make([]queue.Object, h.Len())
	for i := len(cands) - 1; i >= 0; i-- {
		cands[i] = heap.Pop(h).(candidate).o
	}
	return p, cands, nil
}

// walk calls fn with every object of the index under bucket and prefix
// ("" for all buckets), with a lookup of last reads.
func (c *Cache) walk(ctx context.Context, bucket, prefix string, fn func(last func(bucket, key string) time.Time, o queue.Object)) error {
	var buckets []string
	if bucket != "" {
		buckets = []string{bucket}
	} else {
		bs, err := c.deps.Index.Buckets()
		if err != nil {
			return fmt.Errorf("cache: list buckets: %w", err)
		}
		for _, b := range bs {
			buckets = append(buckets, b.Name)
		}
	}
	scan := func(last func(bucket, key string) time.Time) error {
		for _, b := range buckets {
			after := ""
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				page, more, err := c.deps.Index.ListObjects(b, prefix, after, listPage)
				if err != nil {
					return fmt.Errorf("cache: list %s: %w", b, err)
				}
				for _, o := range page {
					fn(last, o)
				}
				if !more || len(page) == 0 {
					break
				}
				after = page[len(page)-1].Key
			}
		}
		return nil
	}
	if c.deps.Access == nil {
		return scan(func(string, string) time.Time { return time.Time{} })
	}
	return c.deps.Access.view(scan)
}

// evict journals cands as remote-only, oldest read first, in batches,
// until need bytes are evicted. A version read since the pass began is
// skipped: its reader may still be opening its blobs.
func (c *Cache) evict(ctx context.Context, cands []queue.Object, need int64, start time.Time, p *Pass) error {
	for len(cands) > 0 && p.EvictedBytes < need {
		var batch []queue.Object
		for len(cands) > 0 && len(batch) < evictBatch {
			o := cands[0]
			cands = cands[1:]
			if c.deps.Access != nil && c.deps.Access.readSince(o.Bucket, o.Key, start) {
				continue
			}
			batch = append(batch, o)
		}
		for i, err := range c.deps.Index.EvictObjects(ctx, batch) {
			switch {
			case err == nil:
				p.EvictedObjects++
				p.EvictedBytes += batch[i].Size
			case errors.Is(err, queue.ErrNoSuchKey), errors.Is(err, queue.ErrNotOffsite):
				c.log.Debug().Err(err).Str("bucket", batch[i].Bucket).Str("key", batch[i].Key).Msg("cache: not evicted: changed since the scan")
			default:
				return fmt.Errorf("cache: evict %s/%s: %w", batch[i].Bucket, batch[i].Key, err)
			}
		}
	}
	c.evictedObjects.Add(p.EvictedObjects)
	c.evictedBytes.Add(p.EvictedBytes)
	return nil
}

type candidate struct {
	o    queue.Object
	last time.Time
}

// lruHeap is a max-heap on the last read: its top is the newest candidate.
type lruHeap []candidate

func (h lruHeap) Len() int           { return len(h) }
func (h lruHeap) Less(i, j int) bool { return h[i].last.After(h[j].last) }
func (h lruHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *lruHeap) Push(x any)        { *h = append(*h, x.(candidate)) }
func (h *lruHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
