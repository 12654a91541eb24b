package watcher

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// State file layout. The records of each folder live in a bbolt bucket named after
// the folder's absolute path; a record's key is the path relative to the folder with
// "/" replaced by NUL, so that key order is exactly the order in which
// filepath.WalkDir visits the tree and a reconcile is one merge of both.
const (
	stateFileName = "state.db"
	stateDirMode  = 0o700
	stateFileMode = 0o600
	// stateFlushInterval is how long a record may wait in memory before it is
	// written. Records are a cache: one lost in a crash costs a re-read of the file
	// (whose content hash then matches the index, so no new version is made).
	stateFlushInterval = 200 * time.Millisecond
	// stateFlushRecords flushes early once this many records wait.
	stateFlushRecords = 4096
	recordVersion     = 1
)

// record is what the watcher knows about a file it ingested.
type record struct {
	Size      int64
	MtimeNs   int64
	Ino       uint64
	SHA256    [32]byte
	VersionID string
	Bucket    string
	Key       string
}

// sameFile reports whether st still describes the file r was made from.
func (r *record) sameFile(st fileStat) bool {
	return r.Size == st.size && r.MtimeNs == st.mtimeNs && r.Ino == st.ino
}

func (r *record) encode() []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+32+3+len(r.VersionID)+len(r.Bucket)+len(r.Key)+6)
	b = append(b, recordVersion)
	b = binary.AppendUvarint(b, uint64(r.Size))
	b = binary.AppendVarint(b, r.MtimeNs)
	b = binary.AppendUvarint(b, r.Ino)
	b = append(b, r.SHA256[:]...)
	for _, s := range []string{r.VersionID, r.Bucket, r.Key} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

var errBadRecord = errors.New("malformed record")

func decodeRecord(b []byte) (record, error) {
	var r record
	if len(b) < 1 || b[0] != recordVersion {
		return r, errBadRecord
	}
	b = b[1:]
	u, n := binary.Uvarint(b)
	if n <= 0 {
		return r, errBadRecord
	}
	r.Size, b = int64(u), b[n:]
	v, n := binary.Varint(b)
	if n <= 0 {
		return r, errBadRecord
	}
	r.MtimeNs, b = v, b[n:]
	u, n = binary.Uvarint(b)
	if n <= 0 || len(b[n:]) < 32 {
		return r, errBadRecord
	}
	r.Ino, b = u, b[n:]
	copy(r.SHA256[:], b[:32])
	b = b[32:]
	for _, s := range []*string{&r.VersionID, &r.Bucket, &r.Key} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b[n:])) < l {
			return r, errBadRecord
		}
		*s, b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	return r, nil
}

// recordKey turns a relative path into its key.
func recordKey(rel string) []byte { return []byte(strings.ReplaceAll(rel, "/", "\x00")) }

// recordRel turns a key back into the relative path.
func recordRel(k []byte) string { return strings.ReplaceAll(string(k), "\x00", "/") }

// state is the durable record of ingested files. Updates are buffered and written
// in batches, so that thousands of small files do not cost thousands of fsyncs.
type state struct {
	db *bolt.DB

	flushMu sync.Mutex // one Flush at a time

	mu       sync.Mutex
	pending  map[string]map[string]*record // folder -> rel -> record (nil: delete)
	flushing map[string]map[string]*record // being written by Flush; still read by get
	npend    int
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	err      error // first flush error, reported by Flush and Close
}

func openState(dir string) (*state, error) {
	if err := os.MkdirAll(dir, stateDirMode); err != nil {
		return nil, fmt.Errorf("watcher: open state %s: %w; fix: make the directory writable, or choose another data directory", dir, err)
	}
	path := filepath.Join(dir, stateFileName)
	db, err := bolt.Open(path, stateFileMode, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("watcher: open state %s: %w; fix: stop the other process using it, or delete the file (every file is then re-read once)", path, err)
	}
	s := &state{
		db:      db,
		pending: make(map[string]map[string]*record),
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.run()
	return s, nil
}

func (s *state) run() {
	defer close(s.done)
	t := time.NewTicker(stateFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
		}
		s.Flush()
	}
}

// get returns the record of rel in folder, looking at unwritten updates first.
func (s *state) get(folder, rel string) (*record, error) {
	s.mu.Lock()
	for _, p := range []map[string]map[string]*record{s.pending, s.flushing} {
		if r, ok := p[folder][rel]; ok {
			s.mu.Unlock()
			if r == nil {
				return nil, nil
			}
			c := *r
			return &c, nil
		}
	}
	s.mu.Unlock()
	var out *record
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(folder))
		if b == nil {
			return nil
		}
		v := b.Get(recordKey(rel))
		if v == nil {
			return nil
		}
		r, err := decodeRecord(v)
		if err != nil {
			return nil // a record we cannot read is treated as absent: the file is re-read once
		}
		out = &r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("watcher: read state %s: %w", rel, err)
	}
	return out, nil
}

// put queues r as the record of rel; nil deletes it.
func (s *state) put(folder, rel string, r *record) {
	s.mu.Lock()
	m := s.pending[folder]
	if m == nil {
		m = make(map[string]*record)
		s.pending[folder] = m
	}
	m[rel] = r
	s.npend++
	n := s.npend
	s.mu.Unlock()
	if n >= stateFlushRecords {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// Flush writes every queued update in one transaction.
func (s *state) Flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	p := s.pending
	s.pending = make(map[string]map[string]*record)
	s.flushing = p
	s.npend = 0
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.flushing = nil
		s.mu.Unlock()
	}()
	if len(p) > 0 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for folder, m := range p {
				b, err := tx.CreateBucketIfNotExists([]byte(folder))
				if err != nil {
					return err
				}
				for rel, r := range m {
					if r == nil {
						err = b.Delete(recordKey(rel))
					} else {
						err = b.Put(recordKey(rel), r.encode())
					}
					if err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = fmt.Errorf("watcher: write state: %w", err)
			}
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// view runs fn in a read transaction on folder's bucket (nil when it has none).
func (s *state) view(folder string, fn func(b *bolt.Bucket) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket([]byte(folder))) })
}

// Close flushes and closes the file.
func (s *state) Close() error {
	close(s.stop)
	<-s.done
	ferr := s.Flush()
	cerr := s.db.Close()
	return errors.Join(ferr, cerr)
}
