package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/admin"
	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/cache"
	"github.com/ipas/ipas/queue"
)

// accessFile is the name, under the data directory, of the file that
// remembers when each key was last read (cache.Access).
const accessFile = "access.db"

// cacheConfig turns the store.* cache settings into a cache.Config.
func (s StoreConfig) cacheConfig() (cache.Config, error) {
	cc := cache.DefaultConfig()
	capacity, err := cache.ParseCapacity(s.Capacity)
	if err != nil {
		return cc, err
	}
	cc.Capacity, cc.HighWater, cc.LowWater, cc.KeepLocal = capacity, s.HighWater, s.LowWater, s.KeepLocal
	return cc, nil
}

// validateCache checks store.capacity, the water marks and store.keep_local.
func (s StoreConfig) validateCache(bad func(field, problem, fix string) error) error {
	cc, err := s.cacheConfig()
	if err != nil {
		return bad("store.capacity", err.Error(), "write a size such as 500GB or 200MiB, a share of the file system such as 85%, or leave it empty to never evict")
	}
	if err := cc.Validate(); err != nil {
		return bad("store.high_water", err.Error(), fmt.Sprintf("use shares of store.capacity with 0 < low_water < high_water <= 1 (defaults %g and %g)",
			cache.DefaultLowWater, cache.DefaultHighWater))
	}
	return nil
}

// daemonCache is the running cache: the evictor and the access file.
type daemonCache struct {
	cache  *cache.Cache
	access *cache.Access
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	err    error
}

// startCache gives the archive its capacity (admission of writes, records
// of reads) and runs the evictor until ctx is done. rt counts the bytes
// read through from the remote.
func startCache(ctx context.Context, cfg Config, a *dataArchive, rep *replicator, rt *archive.ReadThrough, log zerolog.Logger) (*daemonCache, error) {
	cc, err := cfg.Store.cacheConfig()
	if err != nil {
		return nil, err // Validate caught it
	}
	access, err := cache.OpenAccess(a.dir.join(accessFile), log)
	if err != nil {
		return nil, err
	}
	c := cache.New(cc, cache.Deps{
		Index: a.node,
		Collect: func(ctx context.Context) error {
			_, err := a.store.Collect(ctx, a.markReferenced)
			return err
		},
		Disk:   cache.StatFS(a.dir.join(storeDir)), // where the blobs go, if it is a file system of its own
		Access: access,
		Remote: func() (time.Time, string) {
			rs := rep.rep.Status()
			return rs.UnreachableSince, rs.LastError
		},
		Fetcher:          a.objects,
		ReadThroughBytes: rt.FetchedBytes,
	}, log)
	a.objects.SetCapacity(c) // without a capacity: reads are counted, every write admitted
	if c.Enabled() {
		log.Info().Str("capacity", cc.Capacity.String()).Float64("high_water", cc.HighWater).
			Float64("low_water", cc.LowWater).Strs("keep_local", cc.KeepLocal).Msg("cache: evicting what is offsite above the high water mark")
	}
	ctx, cancel := context.WithCancel(ctx)
	dc := &daemonCache{cache: c, access: access, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(dc.done)
		c.Run(ctx)
	}()
	return dc, nil
}

// stop stops the evictor and closes the access file; calls after the first
// return its result.
func (dc *daemonCache) stop() error {
	if dc == nil {
		return nil
	}
	dc.once.Do(func() {
		dc.cancel()
		<-dc.done
		dc.err = dc.access.Close()
	})
	return dc.err
}

var _ admin.Cache = (*control)(nil)

// CacheStatus implements admin.Cache.
func (c *control) CacheStatus(context.Context) (admin.CacheStatus, error) {
	s := c.cache.cache.Stats()
	return admin.CacheStatus{
		Enabled: s.Enabled, Setting: s.Setting, CapacityBytes: s.Capacity, HighWaterBytes: s.High,
		LowWaterBytes: s.Low, FilesystemBytes: s.Total, UsedBytes: s.Used,
		LocalBytes: s.Local, EvictableBytes: s.Evictable, PinnedBytes: s.Pinned,
		NotOffsiteBytes: s.NotOffsite, RemoteOnlyBytes: s.RemoteOnly, LastPass: s.LastPass,
		Hits: s.Hits, Misses: s.Misses, HitRatio: s.HitRatio, ReadThroughBytes: s.ReadThroughBytes,
		EvictedObjects: s.EvictedObjects, EvictedBytes: s.EvictedBytes, RefusedWrites: s.RefusedWrites,
		Refusing: s.Refusing,
	}, nil
}

// Evict implements admin.Cache.
func (c *control) Evict(ctx context.Context, req admin.CacheRequest) (admin.EvictResult, error) {
	if err := c.cacheBucket(req); err != nil {
		return admin.EvictResult{}, err
	}
	r, err := c.cache.cache.Evict(ctx, req.Bucket, req.Prefix)
	return admin.EvictResult{Matched: r.Matched, Evicted: r.Evicted, EvictedBytes: r.EvictedBytes,
		AlreadyRemote: r.AlreadyRemote, NotOffsite: r.NotOffsite, Pinned: r.Pinned}, err
}

// Fetch implements admin.Cache.
func (c *control) Fetch(ctx context.Context, req admin.CacheRequest) (admin.FetchResult, error) {
	if err := c.cacheBucket(req); err != nil {
		return admin.FetchResult{}, err
	}
	r, err := c.cache.cache.Fetch(ctx, req.Bucket, req.Prefix)
	var full *cache.FullError
	if errors.As(err, &full) {
		err = fmt.Errorf("%w: %w", admin.ErrConflict, err)
	}
	return admin.FetchResult{Matched: r.Matched, Fetched: r.Fetched, FetchedBytes: r.FetchedBytes,
		AlreadyLocal: r.AlreadyLocal, Failed: r.Failed, FirstError: r.FirstError}, err
}

// cacheBucket checks that req names a bucket that exists.
func (c *control) cacheBucket(req admin.CacheRequest) error {
	if req.Bucket == "" {
		return fmt.Errorf("%w: name the bucket", admin.ErrInvalid)
	}
	ok, err := c.node.BucketExists(req.Bucket)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: bucket %s: %w", admin.ErrNotFound, req.Bucket, queue.ErrNoSuchBucket)
	}
	return nil
}
