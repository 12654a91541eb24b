package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ipas/ipas/internal/humanize"
	"github.com/ipas/ipas/store"
)

// fullLogEvery bounds how often a refusal is logged.
const fullLogEvery = time.Minute

// FullError refuses a write: the capacity is reached and nothing more can
// be evicted, because what is local is not offsite yet (or kept local).
// It is a store.ErrNoSpace, and its S3Error is 507 InsufficientStorage with
// the reason and the fix.
type FullError struct {
	Used, Capacity int64
	Setting        string // store.capacity as configured
	NotOffsite     int64  // local bytes whose upload is not confirmed
	Pinned         int64  // local bytes under store.keep_local
	Waiting        int64  // bytes of the put jobs waiting for the remote
	// UnreachableSince is when the remote stopped answering (zero: it
	// answers), LastError its last error.
	UnreachableSince time.Time
	LastError        string
}

func (e *FullError) Error() string {
	var why string
	switch {
	case !e.UnreachableSince.IsZero():
		why = fmt.Sprintf("the remote has been unreachable since %s (%s) and %s are waiting to be uploaded",
			e.UnreachableSince.UTC().Format(time.RFC3339), e.LastError, humanize.Bytes(e.Waiting))
	case e.Waiting > 0:
		why = fmt.Sprintf("%s are still waiting to be uploaded to the remote", humanize.Bytes(e.Waiting))
	default:
		why = fmt.Sprintf("%s are kept local by store.keep_local", humanize.Bytes(e.Pinned))
	}
	return fmt.Sprintf("the gateway's disk is full to its capacity (%s used of %s, store.capacity %s) with data that is not offsite yet "+
		"or must stay local, which cannot be evicted: %s. Nothing stored was lost. "+
		"Fix: writes resume by themselves once uploads free room (check the remote and `gateway status`); "+
		"or raise store.capacity, shorten store.keep_local, or delete objects",
		humanize.Bytes(e.Used), humanize.Bytes(e.Capacity), e.Setting, why)
}

// Is makes a FullError a store.ErrNoSpace: callers that handle a full disk
// (the watcher retries later) handle it too.
func (e *FullError) Is(target error) bool { return target == store.ErrNoSpace }

// S3Error is what the S3 gateway answers.
func (e *FullError) S3Error() (code string, status int, message string) {
	return "InsufficientStorage", http.StatusInsufficientStorage, e.Error()
}

// ErrEvicting answers a write that waited AdmitWait for eviction to make
// room: a client should retry (S3 503 SlowDown).
var ErrEvicting = errors.New("cache: evicting objects to make room; retry")

type evictingError struct{}

func (evictingError) Error() string        { return ErrEvicting.Error() }
func (evictingError) Is(target error) bool { return target == ErrEvicting }
func (evictingError) S3Error() (string, int, string) {
	return "SlowDown", http.StatusServiceUnavailable,
		"The gateway is evicting objects that are offsite to make room for this write. Please retry."
}

// Admit implements archive.Capacity: nil when a write of size bytes (0:
// unknown) fits under the capacity, or once eviction has made room for it;
// a *FullError when it cannot, because nothing more is evictable;
// ErrEvicting when eviction did not make room within AdmitWait.
func (c *Cache) Admit(ctx context.Context, size int64) error {
	if !c.Enabled() {
		return nil
	}
	size = max(size, 1) // an unknown size needs room for a byte at least
	deadline := c.now().Add(c.cfg.AdmitWait)
	for kicked := false; ; {
		u, err := c.measure(kicked)
		if err != nil {
			return nil // the disk itself will say when it is full
		}
		capacity, high, _ := c.limits(u)
		if u.Used+size <= capacity {
			if u.Used+size > high {
				c.Kick()
			}
			c.admitted(size)
			return nil
		}
		if full := c.refusal(); full != nil {
			c.refusedWrites.Add(1)
			return full
		}
		if !kicked {
			c.Kick()
			kicked = true
		}
		if !c.now().Before(deadline) {
			return evictingError{}
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// admitted counts size in the measured usage until the next statfs, so
// that writes admitted within usageMaxAge of each other do not each count
// on the same free space.
func (c *Cache) admitted(size int64) {
	c.mu.Lock()
	c.usage.Used += size
	c.mu.Unlock()
}

// Room implements archive.Capacity: whether size more bytes stay under the
// high water mark, so storing them (a re-cache) makes no eviction run.
func (c *Cache) Room(size int64) bool {
	if !c.Enabled() {
		return true
	}
	u, err := c.measure(false)
	if err != nil {
		return false
	}
	_, high, _ := c.limits(u)
	return u.Used+size <= high
}

// refusal returns the error that refuses writes now, or nil.
func (c *Cache) refusal() *FullError {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.full
}

func (c *Cache) refusing() bool { return c.refusal() != nil }

// updateFull decides after a pass whether writes that do not fit are
// refused: the disk is above the high mark and nothing evictable is left.
func (c *Cache) updateFull(p Pass, capacity, high int64) {
	var full *FullError
	if c.Enabled() && p.Usage.Used > high && p.Evictable == 0 {
		full = &FullError{Used: p.Usage.Used, Capacity: capacity, Setting: c.cfg.Capacity.String(),
			NotOffsite: p.NotOffsite, Pinned: p.Pinned}
		if off, err := c.deps.Index.Offsite(); err == nil {
			full.Waiting = off.PendingBytes
		}
		if c.deps.Remote != nil {
			full.UnreachableSince, full.LastError = c.deps.Remote()
		}
	}
	c.mu.Lock()
	was := c.full
	c.full = full
	logNow := full != nil && (was == nil || c.now().Sub(c.fullLog) >= fullLogEvery)
	if logNow {
		c.fullLog = c.now()
	}
	c.mu.Unlock()
	switch {
	case logNow:
		c.log.Error().Int64("used", full.Used).Int64("capacity", full.Capacity).Int64("not_offsite", full.NotOffsite).
			Int64("waiting", full.Waiting).Msg("cache: refusing writes: " + full.Error())
	case full == nil && was != nil:
		c.log.Info().Int64("used", p.Usage.Used).Int64("capacity", capacity).Msg("cache: writes are accepted again")
	}
}
