package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipas/ipas/queue"
)

// EvictReport is what Evict did to the objects under a bucket and prefix.
type EvictReport struct {
	Matched       int64 // objects under the prefix
	Evicted       int64 // made remote-only now
	EvictedBytes  int64 // their sizes
	AlreadyRemote int64 // remote-only already
	NotOffsite    int64 // left local: not verified offsite
	Pinned        int64 // left local: store.keep_local
}

// FetchReport is what Fetch did to the objects under a bucket and prefix.
type FetchReport struct {
	Matched      int64
	Fetched      int64 // local again now
	FetchedBytes int64
	AlreadyLocal int64
	Failed       int64
	FirstError   string
}

// Evict evicts now every object of bucket whose key starts with prefix
// ("" for the whole bucket) and is verified offsite and not kept local
// (store.keep_local), then frees their blobs. It works without a capacity.
func (c *Cache) Evict(ctx context.Context, bucket, prefix string) (EvictReport, error) {
	var r EvictReport
	var cands []queue.Object
	err := c.walk(ctx, bucket, prefix, func(_ func(string, string) time.Time, o queue.Object) {
		r.Matched++
		switch {
		case o.RemoteOnly:
			r.AlreadyRemote++
		case c.cfg.kept(o.Bucket, o.Key):
			r.Pinned++
		case !o.Replicated():
			r.NotOffsite++
		default:
			cands = append(cands, o)
		}
	})
	if err != nil {
		return r, err
	}
	for len(cands) > 0 {
		batch := cands[:min(len(cands), evictBatch)]
		cands = cands[len(batch):]
		for i, err := range c.deps.Index.EvictObjects(ctx, batch) {
			switch {
			case err == nil:
				r.Evicted++
				r.EvictedBytes += batch[i].Size
			case errors.Is(err, queue.ErrNotOffsite):
				r.NotOffsite++
			case errors.Is(err, queue.ErrNoSuchKey):
				r.Matched-- // gone since the listing
			default:
				return r, fmt.Errorf("cache: evict %s/%s: %w", batch[i].Bucket, batch[i].Key, err)
			}
		}
	}
	c.evictedObjects.Add(r.Evicted)
	c.evictedBytes.Add(r.EvictedBytes)
	defer c.Kick() // a pass updates the figures
	if r.Evicted > 0 {
		c.log.Info().Str("bucket", bucket).Str("prefix", prefix).Int64("objects", r.Evicted).
			Int64("bytes", r.EvictedBytes).Msg("cache: evicted on request")
		if err := c.deps.Collect(ctx); err != nil {
			return r, fmt.Errorf("cache: free the evicted objects' blobs: %w", err)
		}
	}
	return r, nil
}

// Fetch brings back every remote-only object of bucket whose key starts
// with prefix, one at a time, each read whole from the remote and checked
// against its SHA-256 before it is journaled as local. A write the
// capacity refuses stops the fetch with that error.
func (c *Cache) Fetch(ctx context.Context, bucket, prefix string) (FetchReport, error) {
	var r FetchReport
	if c.deps.Fetcher == nil {
		return r, errors.New("cache: fetch: the daemon does not read through from a remote")
	}
	defer c.Kick() // a pass updates the figures
	var remote []queue.Object
	err := c.walk(ctx, bucket, prefix, func(_ func(string, string) time.Time, o queue.Object) {
		r.Matched++
		if o.RemoteOnly {
			remote = append(remote, o)
		} else {
			r.AlreadyLocal++
		}
	})
	if err != nil {
		return r, err
	}
	for _, o := range remote {
		cached, err := c.deps.Fetcher.Fetch(ctx, o)
		var full *FullError
		switch {
		case errors.As(err, &full), ctx.Err() != nil:
			return r, err
		case err != nil:
			r.Failed++
			if r.FirstError == "" {
				r.FirstError = err.Error()
			}
		case cached:
			r.Fetched++
			r.FetchedBytes += o.Size
		}
	}
	return r, nil
}

// Stats are the cache's figures for status and metrics.
type Stats struct {
	Enabled  bool
	Setting  string // store.capacity as configured
	Capacity int64
	High     int64
	Low      int64
	Total    int64
	Used     int64 // of the file system
	// From the last pass over the index: bytes of local objects, of them
	// evictable, pinned (store.keep_local) and not yet offsite; bytes on
	// the remote only.
	Local      int64
	Evictable  int64
	Pinned     int64
	NotOffsite int64
	RemoteOnly int64
	LastPass   *time.Time
	// Since the daemon started: reads of local objects (hits) and of
	// remote-only ones (misses), bytes read through from the remote,
	// objects and bytes evicted, writes refused.
	Hits             int64
	Misses           int64
	HitRatio         float64
	ReadThroughBytes int64
	EvictedObjects   int64
	EvictedBytes     int64
	RefusedWrites    int64
	// Refusing is the reason writes are refused now; "" when they are not.
	Refusing string
}

// Stats returns the figures now: the disk measured, the index as the last
// pass found it.
func (c *Cache) Stats() Stats {
	s := Stats{Enabled: c.Enabled(), Setting: c.cfg.Capacity.String()}
	if u, err := c.measure(false); err == nil {
		s.Total, s.Used = u.Total, u.Used
		if s.Enabled {
			s.Capacity, s.High, s.Low = c.limits(u)
		}
	}
	c.mu.Lock()
	p, full := c.last, c.full
	c.mu.Unlock()
	s.Local, s.Evictable, s.Pinned, s.NotOffsite, s.RemoteOnly = p.Local, p.Evictable, p.Pinned, p.NotOffsite, p.RemoteOnly
	if !p.Finished.IsZero() {
		t := p.Finished
		s.LastPass = &t
	}
	if full != nil {
		s.Refusing = full.Error()
	}
	s.Hits, s.Misses = c.hits.Load(), c.misses.Load()
	if n := s.Hits + s.Misses; n > 0 {
		s.HitRatio = float64(s.Hits) / float64(n)
	}
	if c.deps.ReadThroughBytes != nil {
		s.ReadThroughBytes = c.deps.ReadThroughBytes()
	}
	s.EvictedObjects, s.EvictedBytes, s.RefusedWrites = c.evictedObjects.Load(), c.evictedBytes.Load(), c.refusedWrites.Load()
	return s
}
