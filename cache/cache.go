package cache

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/ipas/ipas/archive"
	"github.com/ipas/ipas/queue"
)

// Index is the journal as the cache uses it (*queue.Node).
type Index interface {
	Buckets() ([]queue.Bucket, error)
	ListObjects(bucket, prefix, startAfter string, limit int) ([]queue.Object, bool, error)
	EvictObjects(ctx context.Context, objs []queue.Object) []error
	Object(bucket, key string) (queue.Object, error)
	Offsite() (queue.Offsite, error)
}

var _ Index = (*queue.Node)(nil)

// Collector frees the blobs nothing references any more: the store's
// collector with the index's mark (store.Store.Collect).
type Collector func(ctx context.Context) error

// RemoteState says whether the remote can be reached: since when it cannot
// (zero: it can) and the last error. The replicator's status.
type RemoteState func() (unreachableSince time.Time, lastError string)

// Usage is the data directory's file system.
type Usage struct {
	Total, Used int64
}

// DiskUsage measures the file system that holds a directory.
type DiskUsage func() (Usage, error)

// StatFS measures the file system that holds dir: its size, and what is not
// available to this process (used, or reserved for root).
func StatFS(dir string) DiskUsage {
	return func() (Usage, error) {
		var fs unix.Statfs_t
		if err := unix.Statfs(dir, &fs); err != nil {
			return Usage{}, fmt.Errorf("cache: statfs %s: %w", dir, err)
		}
		bs := int64(fs.Bsize)
		total := int64(fs.Blocks) * bs
		return Usage{Total: total, Used: total - int64(fs.Bavail)*bs}, nil
	}
}

// Deps are what a Cache works with.
type Deps struct {
	Index   Index
	Collect Collector
	Disk    DiskUsage
	// Access records reads; nil evicts by put time only.
	Access *Access
	// Remote names the remote's state in refusals; nil leaves it out.
	Remote RemoteState
	// Fetcher brings objects back (Fetch); nil refuses fetches.
	Fetcher Fetcher
	// ReadThroughBytes counts the bytes read from the remote, for Stats.
	ReadThroughBytes func() int64
}

// Fetcher reads an object whose bytes are on the remote only and stores
// it locally again (*archive.Archive).
type Fetcher interface {
	Fetch(ctx context.Context, o queue.Object) (cached bool, err error)
}

var _ Fetcher = (*archive.Archive)(nil)

// Cache keeps the disk under its capacity. Build it with New, then Run it
// (on the leader: it journals), and give it to the archive
// (archive.Archive.SetCapacity) so that writes are admitted and reads
// recorded.
type Cache struct {
	cfg  Config
	deps Deps
	log  zerolog.Logger
	now  func() time.Time

	kick chan struct{}

	mu      sync.Mutex
	usage   Usage
	usageAt time.Time
	last    Pass       // the last finished pass
	full    *FullError // set while writes are refused
	fullLog time.Time  // when the refusal was last logged

	hits, misses   atomic.Int64
	evictedObjects atomic.Int64
	evictedBytes   atomic.Int64
	refusedWrites  atomic.Int64
}

var _ archive.Capacity = (*Cache)(nil)

// New returns the cache of cfg.
func New(cfg Config, deps Deps, log zerolog.Logger) *Cache {
	return &Cache{
		cfg: cfg, deps: deps, log: log.With().Str("component", "cache").Logger(), now: time.Now,
		kick: make(chan struct{}, 1),
	}
}

// Enabled reports whether a capacity is set.
func (c *Cache) Enabled() bool { return !c.cfg.Capacity.IsZero() }

// Read implements archive.Capacity: it records a read of o.
func (c *Cache) Read(o queue.Object, local bool) {
	if local {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	if c.deps.Access != nil {
		c.deps.Access.Touch(o.Bucket, o.Key, c.now())
	}
}

// measure returns the file system's usage, at most usageMaxAge old unless
// fresh is set.
func (c *Cache) measure(fresh bool) (Usage, error) {
	c.mu.Lock()
	if !fresh && c.now().Sub(c.usageAt) < usageMaxAge {
		u := c.usage
		c.mu.Unlock()
		return u, nil
	}
	c.mu.Unlock()
	u, err := c.deps.Disk()
	if err != nil {
		return u, err
	}
	c.mu.Lock()
	c.usage, c.usageAt = u, c.now()
	c.mu.Unlock()
	return u, nil
}

// limits returns the capacity and its water marks in bytes.
func (c *Cache) limits(u Usage) (capacity, high, low int64) {
	capacity = c.cfg.Capacity.Of(u.Total)
	return capacity, int64(c.cfg.HighWater * float64(capacity)), int64(c.cfg.LowWater * float64(capacity))
}

// Kick asks the evictor for a pass now.
func (c *Cache) Kick() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run evicts until ctx is done: a pass every Interval, every BusyInterval
// while the disk is above the high mark or writes are refused, and on Kick.
// Without a capacity its passes only count (Stats). It flushes the access
// file every AccessFlushInterval.
func (c *Cache) Run(ctx context.Context) error {
	flush := time.NewTicker(c.cfg.AccessFlushInterval)
	defer flush.Stop()
	for {
		busy, err := c.RunPass(ctx)
		if err != nil && ctx.Err() == nil {
			c.log.Error().Err(err).Msg("cache: eviction pass")
		}
		wait := c.cfg.Interval
		if busy {
			wait = c.cfg.BusyInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-c.kick:
		case <-t.C:
		case <-flush.C:
			if c.deps.Access != nil {
				if err := c.deps.Access.Flush(); err != nil {
					c.log.Warn().Err(err).Msg("cache: access file")
				}
			}
		}
		t.Stop()
	}
}

func (c *Cache) passFinished(p Pass) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = p
}
