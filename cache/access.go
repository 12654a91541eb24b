package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	bolt "go.etcd.io/bbolt"
)

// maxRecent bounds the reads kept in memory between two flushes: past it,
// a flush starts at once.
const maxRecent = 20_000

var bktLastRead = []byte("last_read")

// Access records when each key was last read: in memory at every read, in
// its own bbolt file at every Flush. It is a hint for choosing what to
// evict, not state: the journal never sees it, a crash loses at most the
// reads since the last flush, and a file that cannot be read is started
// again empty.
type Access struct {
	db  *bolt.DB
	log zerolog.Logger

	mu         sync.Mutex
	recent     map[string]int64 // bucket "\x00" key -> unix nanoseconds
	flushing   bool
	pruneAfter []byte // the last record Prune checked; nil: start again
}

// OpenAccess opens (or creates) the access file at path.
func OpenAccess(path string, log zerolog.Logger) (*Access, error) {
	opts := &bolt.Options{Timeout: time.Second}
	db, err := bolt.Open(path, 0o600, opts)
	if err != nil && !errors.Is(err, bolt.ErrTimeout) {
		log.Warn().Err(err).Str("path", path).Msg("cache: the access file cannot be read; starting it again (only which objects were read last is lost)")
		if rerr := os.Remove(path); rerr == nil {
			db, err = bolt.Open(path, 0o600, opts)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cache: open access file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bktLastRead)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("cache: open access file %s: %w", path, err)
	}
	return &Access{db: db, log: log, recent: map[string]int64{}}, nil
}

func accessKey(bucket, key string) string { return bucket + "\x00" + key }

// Touch records a read of bucket/key at t.
func (a *Access) Touch(bucket, key string, t time.Time) {
	a.mu.Lock()
	a.recent[accessKey(bucket, key)] = t.UnixNano()
	full := len(a.recent) >= maxRecent && !a.flushing
	a.mu.Unlock()
	if full {
		go func() {
			if err := a.Flush(); err != nil {
				a.log.Warn().Err(err).Msg("cache: write the access file")
			}
		}()
	}
}

// Flush writes the reads recorded since the last flush.
func (a *Access) Flush() error {
	a.mu.Lock()
	if a.flushing || len(a.recent) == 0 {
		a.mu.Unlock()
		return nil
	}
	a.flushing = true
	batch := a.recent
	a.recent = make(map[string]int64, len(batch))
	a.mu.Unlock()
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktLastRead)
		for k, t := range batch {
			if err := b.Put([]byte(k), binary.BigEndian.AppendUint64(nil, uint64(t))); err != nil {
				return err
			}
		}
		return nil
	})
	a.mu.Lock()
	a.flushing = false
	if err != nil { // keep them for the next flush, unless read again since
		for k, t := range batch {
			if _, ok := a.recent[k]; !ok {
				a.recent[k] = t
			}
		}
	}
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("cache: write the access file: %w", err)
	}
	return nil
}

// view calls fn with a lookup of the last read of a key (zero: never read
// since the file began), consistent for the duration of fn.
func (a *Access) view(fn func(last func(bucket, key string) time.Time) error) error {
	a.mu.Lock()
	recent := make(map[string]int64, len(a.recent))
	for k, t := range a.recent {
		recent[k] = t
	}
	a.mu.Unlock()
	return a.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktLastRead)
		return fn(func(bucket, key string) time.Time {
			k := accessKey(bucket, key)
			if t, ok := recent[k]; ok {
				return time.Unix(0, t)
			}
			if v := b.Get([]byte(k)); len(v) == 8 {
				return time.Unix(0, int64(binary.BigEndian.Uint64(v)))
			}
			return time.Time{}
		})
	})
}

// Close flushes and closes the file.
func (a *Access) Close() error {
	return errors.Join(a.Flush(), a.db.Close())
}

// readSince reports whether bucket/key was read at or after t and the read
// is not flushed yet.
func (a *Access) readSince(bucket, key string, t time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.recent[accessKey(bucket, key)]
	return ok && last >= t.UnixNano()
}
