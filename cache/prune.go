package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ipas/ipas/queue"
)

// pruneBatch is how many records of the access file one pass checks
// against the index (Access.Prune).
const pruneBatch = 1000

// CurrentVersion returns when the current version of bucket/key was
// written, and false when the key has none (deleted, or its bucket is).
type CurrentVersion func(bucket, key string) (modTime time.Time, ok bool, err error)

// Prune checks up to limit records of the access file against the index,
// going on where the last Prune stopped (from the start once it reached
// the end), and drops the records that tell nothing any more: of a key that
// no longer exists, or older than the key's current version (a read of a
// version since replaced, which eviction ignores for the version's own
// time). It returns how many it dropped. A record written again since it
// was checked is kept.
func (a *Access) Prune(limit int, current CurrentVersion) (int, error) {
	stale, err := a.staleRecords(limit, current)
	if err != nil {
		return 0, err
	}
	return a.drop(stale)
}

// accessRecord is one record of the access file as read.
type accessRecord struct{ k, v []byte }

// staleRecords checks the next limit records (Prune) and returns those
// that tell nothing any more.
func (a *Access) staleRecords(limit int, current CurrentVersion) ([]accessRecord, error) {
	a.mu.Lock()
	after := a.pruneAfter
	a.mu.Unlock()
	var stale []accessRecord
	var last []byte
	err := a.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bktLastRead).Cursor()
		k, v := c.Seek(after)
		if after != nil && bytes.Equal(k, after) {
			k, v = c.Next()
		}
		for n := 0; k != nil && n < limit; k, v = c.Next() {
			n++
			last = bytes.Clone(k)
			bucket, key, ok := strings.Cut(string(k), "\x00")
			var mod time.Time
			var exists bool
			if ok && len(v) == 8 {
				var err error
				if mod, exists, err = current(bucket, key); err != nil {
					return err
				}
			}
			if !exists || int64(binary.BigEndian.Uint64(v)) < mod.UnixNano() {
				stale = append(stale, accessRecord{last, bytes.Clone(v)})
			}
		}
		if k == nil {
			last = nil // the end: the next Prune starts again
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: prune the access file: %w", err)
	}
	a.mu.Lock()
	a.pruneAfter = last
	a.mu.Unlock()
	return stale, nil
}

// drop deletes the records of stale that hold what was read, not a read
// flushed since.
func (a *Access) drop(stale []accessRecord) (int, error) {
	if len(stale) == 0 {
		return 0, nil
	}
	dropped := 0
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktLastRead)
		for _, r := range stale {
			if !bytes.Equal(b.Get(r.k), r.v) {
				continue // read again and flushed since
			}
			if err := b.Delete(r.k); err != nil {
				return err
			}
			dropped++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cache: prune the access file: %w", err)
	}
	return dropped, nil
}

// currentVersion looks bucket/key up in the index (CurrentVersion).
func (c *Cache) currentVersion(bucket, key string) (time.Time, bool, error) {
	o, err := c.deps.Index.Object(bucket, key)
	switch {
	case errors.Is(err, queue.ErrNoSuchKey), errors.Is(err, queue.ErrNoSuchBucket):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return o.ModTime, true, nil
}

// prune drops a batch of stale records of the access file; they are a
// hint, so an error is logged, not returned.
func (c *Cache) prune() {
	if c.deps.Access == nil {
		return
	}
	n, err := c.deps.Access.Prune(pruneBatch, c.currentVersion)
	if err != nil {
		c.log.Warn().Err(err).Msg("cache: access file")
	}
	if n > 0 {
		c.log.Debug().Int("records", n).Msg("cache: dropped the last reads of objects deleted or replaced")
	}
}
